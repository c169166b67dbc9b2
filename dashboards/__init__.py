"""Web pages and plotly figures over the other packages' services; writes nothing of its own."""
