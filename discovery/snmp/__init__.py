"""SNMP: speaking to agents (client), what to read (collect), what it says the device is (identify),
which terminals hang behind a switch (terminals), and a poll of a whole scope (poll)."""
