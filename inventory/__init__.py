"""The source of truth: units, devices, interfaces, links, observations and history.

Imports only `core`. Discovery, catalog and budget read or write it through its services and its one
ingestion function; they learn what changed from `inventory.changes`, never by being called from here."""
