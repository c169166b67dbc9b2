"""The security review's attacks (issue 11) against the real app under waitress: none gets through.

The same run that `bench/robustness.py` prints; there `upload_cpu_s` is also held to its target."""
import pytest

from tests.robustness.attacks import run_attacks


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_no_attack_of_the_review_gets_through(database, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'attacks.sqlite3'}" if database == "sqlite" else \
        request.getfixturevalue("robust_postgres_url")
    figures = run_attacks(url)
    assert figures.breaches == []
    assert figures.answers == {
        "token escalation": [403, 403, 403, 403], "replayed session": [401], "sign-in after others' guesses": [200],
        "device seen by another unit's scan": [200],
        "serial of another unit": [409], "links to another unit": [200], "worst uploads": [422] * 12}
    assert {k: v for k, v in figures.counts().items() if k != "upload_cpu_s"} == {
        "token_escalations": 0, "cross_unit_moves": 0, "formula_cells": 0, "replayed_sessions": 0,
        "lockouts_of_others": 0, "scope_leaks": 0}
    assert figures.requests == 102  # every attack was sent
