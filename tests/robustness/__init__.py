"""Robustness: races, faults (a database that stops, a process killed, a full disk) and fuzzing.

The scenarios live in modules here (not in the test files) so that `bench/robustness.py` runs the
very same code outside pytest and prints its figures."""
