"""Pages over the other packages' services (the home page today; plotly figures with the budget); writes
nothing of its own."""
