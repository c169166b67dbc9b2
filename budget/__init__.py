"""The budget: real gaps per unit, reuse of surplus before any purchase, upgrades instead of replacements where
they are cheap enough, and costed, prioritised plans phased under yearly caps (issue 15).

Reads the catalog (norms, compliance, parts, prices) and the inventory (units, devices) and is never read by
either. The arithmetic (gaps, reallocation, upgrades, plans) is pure: plain frozen dataclasses in, plain
dataclasses out, no Session and no Flask; a loader fills those dataclasses from the database."""
