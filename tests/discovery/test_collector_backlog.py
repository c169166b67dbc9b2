"""A collector's on-disk backlog: batches kept in order, whole, bounded, numbered across restarts."""
import json
import os
import uuid

import pytest

from discovery.collectors.backlog import COUNTER, Backlog, BacklogFull


def batch(**values) -> dict:
    return {"batch_id": uuid.uuid4().hex, "sequence": 0, "kind": "snmp", "observations": []} | values


def test_batches_come_back_oldest_first_numbered_from_one(tmp_path):
    backlog = Backlog(tmp_path)
    first, second = batch(scope_id=1), batch(scope_id=2)
    names = [backlog.put(first), backlog.put(second)]
    assert names == [f"000000000001-{first['batch_id']}.json", f"000000000002-{second['batch_id']}.json"]
    assert (first["sequence"], second["sequence"], backlog.count()) == (1, 2, 2)
    assert sorted(os.listdir(tmp_path)) == [*names, COUNTER]
    assert backlog.oldest() == (names[0], first)
    backlog.remove(names[0])
    assert (backlog.oldest(), backlog.count()) == ((names[1], second), 1)
    backlog.remove(names[1])
    assert (backlog.oldest(), backlog.count(), sorted(os.listdir(tmp_path))) == (None, 0, [COUNTER])


def test_the_file_holds_the_batch_as_json(tmp_path):
    kept = batch(scope_id=7)
    name = Backlog(tmp_path).put(kept)
    assert json.loads((tmp_path / name).read_text()) == kept | {"sequence": 1}


def test_a_full_backlog_refuses_and_keeps_what_it_holds(tmp_path):
    backlog = Backlog(tmp_path, max_batches=2)
    kept = [backlog.put(batch()), backlog.put(batch())]
    refused = batch()
    with pytest.raises(BacklogFull) as full:
        backlog.put(refused)
    assert str(full.value) == "the backlog holds 2 batches, its bound (--backlog-max): scans wait until the server " \
                              "takes them"
    assert (backlog.names(), backlog.is_full(), refused["sequence"]) == (kept, True, 0)
    assert sorted(os.listdir(tmp_path)) == [*kept, COUNTER]
    backlog.remove(kept[0])
    assert backlog.put(refused).startswith("000000000003-")  # room again: numbering goes on


def test_numbers_go_on_after_a_restart_even_with_the_backlog_emptied(tmp_path):
    backlog = Backlog(tmp_path)
    for _ in range(3):
        backlog.remove(backlog.put(batch()))
    again = Backlog(tmp_path)
    assert (again.count(), again.next_sequence) == (0, 4)
    assert again.put(batch()).startswith("000000000004-")


def test_numbers_go_on_from_the_files_when_the_counter_is_lost_or_garbled(tmp_path):
    backlog = Backlog(tmp_path)
    names = [backlog.put(batch()) for _ in range(5)]
    (tmp_path / COUNTER).unlink()
    assert Backlog(tmp_path).next_sequence == 6
    (tmp_path / COUNTER).write_text("not a number")
    again = Backlog(tmp_path)
    assert (again.next_sequence, again.names()) == (6, names)


def test_numbers_go_on_from_the_counter_past_the_files(tmp_path):
    (tmp_path / COUNTER).write_text("41\n")
    backlog = Backlog(tmp_path)
    assert backlog.put(batch())[:12] == "000000000041"


def test_a_write_a_crash_cut_short_is_discarded_at_start(tmp_path):
    backlog = Backlog(tmp_path)
    name = backlog.put(batch())
    (tmp_path / ".abc123.tmp").write_text('{"batch_id": "cut sho')
    again = Backlog(tmp_path)
    assert sorted(os.listdir(tmp_path)) == [name, COUNTER]
    assert again.names() == [name]


def test_an_unreadable_file_is_set_aside_not_deleted_and_the_next_taken(tmp_path):
    backlog = Backlog(tmp_path)
    broken, good = backlog.put(batch()), backlog.put(batch(scope_id=3))
    (tmp_path / broken).write_text("{not json")
    name, found = backlog.oldest()
    assert (name, found["scope_id"], backlog.count()) == (good, 3, 1)
    assert sorted(os.listdir(tmp_path)) == [broken + ".unreadable", good, COUNTER]
    backlog.remove(good)
    assert Backlog(tmp_path).next_sequence == 3  # its number stays used


def test_other_files_are_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    backlog = Backlog(tmp_path)
    name = backlog.put(batch())
    assert (backlog.names(), (tmp_path / "notes.txt").read_text()) == ([name], "hello")


def test_a_batch_id_that_is_not_32_hex_digits_is_refused(tmp_path):
    backlog = Backlog(tmp_path)
    with pytest.raises(ValueError, match=r"batch id '\.\./x' is not 32 hexadecimal digits"):
        backlog.put(batch(batch_id="../x"))
    assert (backlog.count(), os.listdir(tmp_path)) == (0, [])


def test_threads_putting_at_once_get_distinct_numbers(tmp_path):
    import threading
    backlog = Backlog(tmp_path)
    threads = [threading.Thread(target=lambda: [backlog.put(batch()) for _ in range(20)]) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [int(name[:12]) for name in backlog.names()] == list(range(1, 101))


def test_a_batch_set_aside_leaves_the_queue_and_stays_on_disk(tmp_path):
    backlog = Backlog(tmp_path)
    first, second = backlog.put(batch()), backlog.put(batch())
    assert backlog.set_aside(first, ".too-large") == first + ".too-large"
    assert (backlog.names(), backlog.oldest()[0]) == ([second], second)
    assert sorted(os.listdir(tmp_path)) == [first + ".too-large", second, COUNTER]
    assert Backlog(tmp_path).names() == [second]
