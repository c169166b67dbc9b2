"""The source of truth: units, devices, interfaces, links, observations and history.

Imports none of the other packages: discovery, catalog and budget read or write it through
its services and its one ingestion function."""
