"""The plumbing every package shares: database and sessions, domain errors, time, route permissions and the
caller, the audit log, secrets at rest, spreadsheet cells, `#`-commented data files, the page layout and its
language. It imports none of the product's packages; they all import it."""
