"""Real databases for the robustness scenarios: a fresh database on the shared PostgreSQL server, a
private PostgreSQL cluster that a scenario may stop and start, and the small organisation and
administrator token that every scenario starts from.

Only loopback is ever contacted: the shared server at 127.0.0.1:5432, the private cluster on a free
127.0.0.1 port and a unix socket inside its own temporary directory."""
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import Role, User
from accounts.permissions import ROLE_PERMISSIONS
from accounts.services import create_token, create_user
from inventory.models import UnitKind
from inventory.units import NewUnit, create_unit

SHARED_SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
ADMIN_PASSWORD = "correct horse battery"


class Unavailable(Exception):
    """A real part this scenario needs is missing here; the reason says which (tests skip with it)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@contextlib.contextmanager
def shared_postgres_database(name: str) -> Iterator[str]:
    """A new, empty database `name` on the shared server (never `test`, the main suite's); dropped after.

    The process id goes into the name: two runs at once (a developer's and CI's) never drop each other's."""
    if name == "test":
        raise ValueError("the database `test` belongs to the main suite")
    name = f"{name}_{os.getpid()}"
    try:
        with psycopg.connect(SHARED_SERVER, autocommit=True) as connection:
            # FORCE: a run interrupted mid-way may have left connections to it.
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        raise Unavailable(f"PostgreSQL at 127.0.0.1:5432 cannot be reached: {str(error).strip()}") from None
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with contextlib.suppress(psycopg.OperationalError), \
                psycopg.connect(SHARED_SERVER, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_loopback_port() -> int:
    """A TCP port free on 127.0.0.1 now (were another process to take it first, pg_ctl start fails plainly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PrivateCluster:
    """A PostgreSQL cluster of our own, run as the `postgres` OS user, that a scenario may stop at will."""
    bin_dir: Path
    base: Path  # owned by postgres: data/, the unix socket, the server log
    port: int
    database: str = "readiness_fault"

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def log_file(self) -> Path:
        return self.base / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={self.database} connect_timeout=5"

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base}"
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_file), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is the server dying: every backend quits at once, no checkpoint (recovery at start)."""
        self._pg_ctl("stop", "-w", "-t", "60", "-m", mode)

    def running(self) -> bool:
        status = subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin_dir / "pg_ctl"), "status", "-D",
                                 str(self.data_dir)], capture_output=True, text=True)
        return status.returncode == 0

    def server_log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def _pg_ctl(self, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", str(self.bin_dir / "pg_ctl"), *args[:1], "-D",
                   str(self.data_dir), *args[1:]]
        finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if finished.returncode != 0:
            raise RuntimeError(f"pg_ctl {args[0]} failed ({finished.returncode}): {finished.stderr.strip()}\n"
                               f"{self.server_log()[-2000:]}")


def postgres_bin_dir() -> Path:
    """Debian's newest installed server binaries, or Unavailable with the reason."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise Unavailable("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) are installed")
    if shutil.which("runuser") is None:
        raise Unavailable("runuser is not available to start PostgreSQL as the postgres user")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("there is no `postgres` OS user to run a private cluster as") from None
    if os.geteuid() != 0:
        raise Unavailable("starting a private cluster as the postgres user needs root")
    return Path(found[-1]).parent


@contextlib.contextmanager
def private_postgres_cluster() -> Iterator[PrivateCluster]:
    """initdb + start in a temporary directory, with the scenario's database created; removed after."""
    bin_dir = postgres_bin_dir()
    base = Path(tempfile.mkdtemp(prefix="readiness-pg-"))  # short: a unix socket path has ~100 bytes
    cluster = PrivateCluster(bin_dir, base, free_loopback_port())
    try:
        postgres = pwd.getpwnam("postgres")
        os.chown(base, postgres.pw_uid, postgres.pw_gid)
        initdb = subprocess.run(["runuser", "-u", "postgres", "--", str(bin_dir / "initdb"), "-D",
                                 str(cluster.data_dir), "-U", "postgres", "--auth=trust", "--no-sync",
                                 "--no-instructions", "-E", "UTF8"], capture_output=True, text=True, timeout=120)
        if initdb.returncode != 0:
            raise Unavailable(f"initdb failed: {initdb.stderr.strip()[-500:]}")
        cluster.start()
        with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{cluster.database}"')
        yield cluster
    finally:
        if cluster.data_dir.exists() and cluster.running():
            with contextlib.suppress(RuntimeError):
                cluster.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


def wait_until(condition, *, timeout_s: float, interval_s: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval_s)
    return condition()


def build_organisation(sessions: sessionmaker[Session]) -> None:
    """The suite's small organisation, through the services: C, A1, A1-D1, W1, W2."""
    with sessions() as session, session.begin():
        create_unit(session, NewUnit("C", "City", UnitKind.CITY, 0))
        create_unit(session, NewUnit("A1", "Agency One", UnitKind.AGENCY, 40), parent_code="C")
        create_unit(session, NewUnit("A1-D1", "Department", UnitKind.DEPARTMENT, 12), parent_code="A1")
        create_unit(session, NewUnit("W1", "Ward One", UnitKind.WARD, 20), parent_code="C")
        create_unit(session, NewUnit("W2", "Ward Two", UnitKind.WARD, 15), parent_code="C")


def admin_token(sessions: sessionmaker[Session], username: str = "admin") -> tuple[int, str]:
    """An API token with every permission for the administrator `username`, made on first use:
    (token id, token value)."""
    with sessions() as session, session.begin():
        user = session.scalars(select(User).where(User.username == username)).one_or_none() or \
            create_user(session, username, "Administrator", ADMIN_PASSWORD, Role.ADMIN)
        token, value = create_token(session, user, "robustness", ROLE_PERMISSIONS[Role.ADMIN.value])
        return token.id, value
