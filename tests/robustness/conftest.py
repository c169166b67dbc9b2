"""Fixtures of the robustness tests: databases of their own on the shared PostgreSQL server (never the
main suite's `test`), a private cluster for the tests that stop it, skipping with the reason when a
real part is missing."""
import pytest

from tests.robustness.databases import Unavailable, private_postgres_cluster, shared_postgres_database


@pytest.fixture
def robust_postgres_url():
    try:
        with shared_postgres_database("readiness_robust_test") as url:
            yield url
    except Unavailable as missing:
        pytest.skip(missing.reason)


@pytest.fixture
def private_cluster():
    try:
        with private_postgres_cluster() as cluster:
            yield cluster
    except Unavailable as missing:
        pytest.skip(missing.reason)
