"""Collectors at sites: the server's side of them (issue, revoke, configuration, batches received) and the
protocol both sides speak (`wire`)."""
