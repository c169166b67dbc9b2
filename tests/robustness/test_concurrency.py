"""Writers at the same time, on PostgreSQL (the deployment database; SQLite has one writer at a time):
nothing duplicated, no update lost. Ingestion takes turns through a PostgreSQL advisory lock
(inventory.ingest); these tests are what would notice if it stopped doing so."""
import pytest

from tests.robustness.scenarios import race_api_writers, race_two_ingestions

pytestmark = pytest.mark.postgresql


def test_two_batches_describing_the_same_devices_at_once_make_one_record_each(robust_postgres_url):
    race = race_two_ingestions(robust_postgres_url, devices=200, rounds=2)
    assert race.errors == []
    assert race.devices == race.devices_expected == 400  # 200 new devices per round
    assert (race.duplicate_serials, race.duplicate_macs, race.split_records) == (0, 0, 0)


def test_fifty_api_writers_at_once_lose_no_update_and_make_one_device_of_one_serial(robust_postgres_url):
    race = race_api_writers(robust_postgres_url, writers=50)
    assert race.requests == 100
    assert race.failures == []  # every PATCH 200, every POST 201 (the same serial merges, as a person's record)
    assert race.server_errors == 0
    assert race.lost_updates == 0  # all 50 spec keys present on the device
    assert race.shared_serial_devices == 1
