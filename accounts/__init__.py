"""Who may do what. Every route declares the permission it needs (`requires`); roles, accounts and
the check of the caller against them build on these declarations."""
