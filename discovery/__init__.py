"""How devices are found: the scan allowlist, SNMP credentials, and (to come) scopes, sweeps and polls.

Writes into the inventory only through inventory.ingest."""
