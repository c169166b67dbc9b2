"""How devices are found. A scan scope is a unit's networks, checked against the scan allowlist, with
SNMP credentials to try (`scopes`, `allowlist`, `credentials`). A scan run of a scope (`scans`) is an
nmap sweep (`sweep`, classified by `hints`) or an SNMP poll (`snmp`: reading agents, identifying devices,
terminals behind switches' ports); each address remembers the device it was (`bindings`). `lab` serves
recorded devices through snmpsim; `api` and `commands` are the HTTP API and the command line.

Writes into the inventory only through inventory.ingest."""
