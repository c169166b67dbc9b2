"""What each role may do. The permissions themselves, and the routes' declarations, are core's."""
from core.permissions import Permission

# A unit officer's reads and writes are further limited to their units (the caller's unit scope).
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "unit_officer": frozenset({Permission.PUBLIC, Permission.SIGNED_IN, Permission.INVENTORY_READ,
                               Permission.INVENTORY_WRITE, Permission.SCANS_RUN,
                               Permission.BUDGET_REVIEW, Permission.AGENTS_MANAGE}),
    "finance": frozenset({Permission.PUBLIC, Permission.SIGNED_IN, Permission.INVENTORY_READ,
                          Permission.BUDGET_APPROVE}),
    "auditor": frozenset({Permission.PUBLIC, Permission.SIGNED_IN, Permission.INVENTORY_READ,
                          Permission.AUDIT_READ}),
}
