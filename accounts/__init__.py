"""Accounts, roles, API tokens, sessions and sign-in, and the check before every request of the caller
against the permission its route declares (`core.permissions.requires`). No other package reads this one:
they read the caller from `core.caller`, and app.py wires it in."""
