"""The approved equipment catalog, the equipment norms, and the compliance of every device with them.

Reads the inventory (devices, units and their facts) and is never read by it: compliance follows the
inventory's change events (`compliance.follow_inventory`)."""
