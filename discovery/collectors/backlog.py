"""A collector's backlog: the batches it made and the server has not taken yet, one JSON file each in a
directory, named `<sequence:012d>-<batch_id>.json` so that the names sort in the order they were made.

A batch is written here before it is sent and removed only once the server has kept it, so that what a
collector found survives the server's absence, a lost reply and the collector's own restart. Each file is
written whole or not at all (a temporary file, fsync, rename, fsync of the directory). The backlog is
bounded: when full, `put` refuses (`BacklogFull`) and the caller skips its scan; nothing already kept is ever
dropped. The backlog numbers the batches (`sequence`, from 1): the next number survives restarts, from a
small counter file and the files present, whichever is further.

Pure file logic: no network, no database. One process owns a directory (the collector locks its data
directory); the methods are safe across that process's threads."""
import json
import logging
import os
import re
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCHES = 1000
COUNTER = "next-sequence"
_NAME = re.compile(r"^(\d{12})-([0-9a-f]{32})\.json$")  # 50 characters; a set-aside file adds a suffix
UNREADABLE = ".unreadable"  # a batch file that cannot be read is set aside under this suffix, never deleted


class BacklogFull(Exception):
    """The backlog holds as many batches as its bound: the scan that would add one waits."""

    def __init__(self, held: int):
        super().__init__(f"the backlog holds {held} batches, its bound (--backlog-max): scans wait until the "
                         f"server takes them")
        self.held = held


class Backlog:
    """The batches waiting in `directory`, oldest first; at most `max_batches` of them."""

    def __init__(self, directory: Path | str, max_batches: int = DEFAULT_MAX_BATCHES):
        if max_batches < 1:
            raise ValueError("a backlog holds at least 1 batch")
        self.directory, self.max_batches = Path(directory), max_batches
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._discard_partial_writes()
        self._names = sorted(name for name in os.listdir(self.directory) if _NAME.match(name))
        self._next = max(self._read_counter(), self._after_files())

    def put(self, batch: dict) -> str:
        """Keep `batch` under the next sequence number, which is set in it (`batch["sequence"]`); its file's name.
        BacklogFull when the backlog is at its bound: nothing is written then."""
        batch_id = batch["batch_id"]
        if not re.fullmatch(r"[0-9a-f]{32}", batch_id):
            raise ValueError(f"batch id {batch_id!r} is not 32 hexadecimal digits")
        with self._lock:
            if len(self._names) >= self.max_batches:
                raise BacklogFull(len(self._names))
            sequence = self._next
            # The counter first: a crash between the two leaves a gap in the numbers, never a number used twice.
            self._write_counter(sequence + 1)
            self._next = sequence + 1
            batch["sequence"] = sequence
            name = f"{sequence:012d}-{batch_id}.json"
            self._write(name, json.dumps(batch, separators=(",", ":")).encode())
            self._names.append(name)
            return name

    def oldest(self) -> tuple[str, dict] | None:
        """The oldest batch waiting, with its file's name; None when there is none. A file that cannot be read
        (the disk's fault: every write is whole) is set aside with the suffix .unreadable and the next one taken."""
        while True:
            with self._lock:
                if not self._names:
                    return None
                name = self._names[0]
            try:
                return name, json.loads((self.directory / name).read_bytes())
            except (OSError, ValueError) as error:
                log.error("backlog: %s cannot be read (%s); set aside as %s", name, error,
                          self.set_aside(name, UNREADABLE))

    def remove(self, name: str) -> None:
        """Forget a batch the server has kept."""
        with self._lock:
            (self.directory / name).unlink(missing_ok=True)
            _fsync_directory(self.directory)
            if name in self._names:
                self._names.remove(name)

    def set_aside(self, name: str, suffix: str) -> str:
        """Move a batch out of the queue under `name + suffix` (the server will never take it as it is), kept on
        the disk for an operator; the new name."""
        with self._lock:
            os.replace(self.directory / name, self.directory / (name + suffix))
            _fsync_directory(self.directory)
            if name in self._names:
                self._names.remove(name)
            return name + suffix

    def count(self) -> int:
        with self._lock:
            return len(self._names)

    def is_full(self) -> bool:
        return self.count() >= self.max_batches

    def names(self) -> list[str]:
        """The waiting batches' file names, oldest first."""
        with self._lock:
            return list(self._names)

    @property
    def next_sequence(self) -> int:
        with self._lock:
            return self._next

    def _after_files(self) -> int:
        """One past the highest sequence on disk (set-aside files count: their numbers were used)."""
        used = [int(name[:12]) for name in os.listdir(self.directory) if _NAME.match(name[:50])]
        return max(used, default=0) + 1

    def _read_counter(self) -> int:
        try:
            return int((self.directory / COUNTER).read_text().strip())
        except FileNotFoundError:
            return 1
        except ValueError:  # a counter that is not a number: the files present still say how far it went
            log.warning("backlog: %s is not a number; counting on from the batch files", self.directory / COUNTER)
            return 1

    def _write_counter(self, value: int) -> None:
        self._write(COUNTER, f"{value}\n".encode())

    def _write(self, name: str, content: bytes) -> None:
        write_atomically(self.directory / name, content)

    def _discard_partial_writes(self) -> None:
        """Temporary files a crash left: their batch was never kept (put had not returned)."""
        for name in os.listdir(self.directory):
            if name.startswith(".") and name.endswith(".tmp"):
                (self.directory / name).unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    """A rename or an unlink is on the disk only once its directory is."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(path: Path, content: bytes) -> None:
    """`content` in `path`, whole or not at all, and on the disk when this returns (the collector's batches and
    its cached configuration alike)."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
