"""The plumbing every package shares: database and sessions, domain errors, time, route permissions and the
caller, the audit log, secrets at rest, spreadsheet cells, `#`-commented data files, the page layout and its
language. It imports none of the product's packages; they all import it."""
from core.i18n import install_schema_messages

# marshmallow copies its default messages into each field and validator when it is created, and our schemas
# create theirs when their modules are imported; every one of those modules imports core first (directly or
# through its package's models), so this is the one place that runs before any of them. See the function.
install_schema_messages()
