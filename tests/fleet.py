"""A generated city's equipment and the benchmark databases, shared by bench/ingest.py and bench/pages.py.

The equipment: the models a city's units buy (`CATALOG`, by name in `MODELS`), drawn in the shares a
benchmark gives (`pick_models`), and `DeviceSpec`, the truth about one generated device, from which the
benchmark writes what each source would observe. The databases: a fresh SQLite file in a scratch
directory, or a database of its own on the PostgreSQL server at 127.0.0.1:5432 (trust auth, user
`postgres`), dropped and created afresh (`prepare_database`) and dropped after (`drop_database`). Beside
them, what the benchmarks report with: `percentile`, and `say`, `progress` and `fail` on stderr; and `profiled`,
a server's requests profiled thread by thread.

Not run on its own: a benchmark run as `python bench/<name>.py` has bench/ on sys.path (its own folder)
and puts the project's root there before importing this module, which imports the project's models."""
import cProfile
import datetime as dt
import pstats
import random
import statistics
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg

from inventory.models import DeviceClass, DeviceStatus

POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@dataclass(frozen=True)
class Model:
    device_class: DeviceClass
    vendor: str
    name: str
    serial_prefix: str
    oui: str        # the vendor's MAC prefix
    port: str       # the interface name SNMP reports
    firmware: str
    price_vnd: int  # whole dong
    dhcp: bool      # gets another address between two scans


CATALOG = (
    Model(DeviceClass.SWITCH, "Cisco", "C9200L-24P-4G", "FOC", "00:1b:54", "Vlan1", "IOS-XE 17.9.4",
          38_000_000, False),
    Model(DeviceClass.SWITCH, "Aruba", "2930F-24G", "CN", "94:40:c9", "vlan1", "WC.16.11.0012", 32_000_000, False),
    Model(DeviceClass.ROUTER, "Cisco", "ISR4331", "FDO", "00:1b:54", "GigabitEthernet0/0/0", "IOS-XE 17.6.5",
          95_000_000, False),
    Model(DeviceClass.FIREWALL, "Fortinet", "FortiGate-60F", "FGT60F", "90:6c:ac", "wan1", "FortiOS 7.2.8",
          28_000_000, False),
    Model(DeviceClass.WIRELESS, "Ubiquiti", "U6-Lite", "UBNT", "74:83:c2", "eth0", "6.6.77", 3_500_000, False),
    Model(DeviceClass.PRINTER, "HP", "LaserJet Pro M404dn", "PHB", "3c:52:82", "NIC", "002_2310A", 7_800_000, False),
    Model(DeviceClass.PRINTER, "Canon", "imageRUNNER 2630i", "XUG", "00:1e:8f", "LAN", "v10.02", 45_000_000, False),
    Model(DeviceClass.WORKSTATION, "Dell", "OptiPlex 7010", "DL", "b0:7b:25", "Intel I219-LM", "BIOS 1.14.0",
          18_500_000, True),
    Model(DeviceClass.WORKSTATION, "HP", "ProDesk 400 G9", "4CE", "3c:52:82", "Realtek PCIe GbE", "BIOS 02.11.01",
          16_000_000, True),
    Model(DeviceClass.LAPTOP, "Lenovo", "ThinkPad E14 Gen 5", "PF", "e8:80:88", "Intel Wi-Fi 6 AX201",
          "BIOS R2AET45W", 21_000_000, True),
    Model(DeviceClass.UPS, "APC", "Smart-UPS SMT1500IC", "AS", "00:c0:b7", "NMC", "UPS 09.8", 14_000_000, False),
    Model(DeviceClass.CAMERA, "Hikvision", "DS-2CD1043G2-I", "DS", "c0:56:e3", "eth0", "V5.7.3", 2_100_000, False),
    Model(DeviceClass.PHONE, "Yealink", "SIP-T46U", "YL", "80:5e:c0", "WAN", "108.86.0.90", 3_200_000, True),
    Model(DeviceClass.SERVER, "Dell", "PowerEdge R750", "SV", "b0:7b:25", "iDRAC", "iDRAC 7.00.00",
          250_000_000, False),
)
MODELS = {model.name: model for model in CATALOG}


def pick_models(rng: random.Random, estate: Mapping[str, int], count: int) -> list[Model]:
    """`count` models drawn from `estate` (model name: its share), in the estate's order: for a given seed,
    the same estate in the same order draws the same models."""
    return rng.choices([MODELS[name] for name in estate], weights=list(estate.values()), k=count)


@dataclass(frozen=True)
class DeviceSpec:
    """The truth about one generated device; identifiers derive from `n`, so they never collide."""
    n: int
    unit_code: str
    model: Model
    status: DeviceStatus
    purchase_date: dt.date
    price_vnd: int
    room: int | None = None  # the room the asset register gives, when the benchmark draws one

    @property
    def serial(self) -> str:
        return f"{self.model.serial_prefix}{self.n:08d}"

    @property
    def mac(self) -> str:  # canonical form, as the inventory stores it
        return f"{self.model.oui}:{self.n >> 16 & 255:02x}:{self.n >> 8 & 255:02x}:{self.n & 255:02x}"

    @property
    def hostname(self) -> str:  # "wor-hn-p012-00123"
        return f"{self.model.device_class.value[:3]}-{self.unit_code.lower()}-{self.n:05d}"

    def ip(self, rescan: bool = False) -> str:
        # 10.128/9 is the DHCP pool a client may have moved to by the second scan.
        base = 0x0A800000 if rescan and self.model.dhcp else 0x0A000000
        value = base + self.n + 1
        return ".".join(str(value >> shift & 255) for shift in (24, 16, 8, 0))


def postgres_url(database: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


def prepare_database(name: str, scratch: Path, database: str) -> tuple[str, str | None]:
    """The URL of database `database`, fresh and empty, and why it was skipped (None if it was not).
    `name` is `sqlite` (the file `<database>.sqlite3` in `scratch`) or `postgresql`."""
    if name == "sqlite":
        return f"sqlite:///{scratch / f'{database}.sqlite3'}", None
    try:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as connection:
            # FORCE: a previous run interrupted mid-way may still hold connections to it.
            connection.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {database}")
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split())  # psycopg's message spans lines; the report keeps one per fact
        return postgres_url(database), f"PostgreSQL at 127.0.0.1:5432 cannot be reached: {reason}"
    return postgres_url(database), None


def drop_database(name: str, database: str) -> None:
    """Drop a PostgreSQL database `prepare_database` made; a SQLite file goes with its scratch directory."""
    if name == "postgresql":
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def percentile(values: Sequence[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def fail(what: str, problems: Sequence[str]) -> NoReturn:
    """Stop the run with what was wrong (the first ten problems, and how many more)."""
    shown = "\n  ".join(problems[:10])
    more = f"\n  ... and {len(problems) - 10:,} more" if len(problems) > 10 else ""
    sys.exit(f"FAILED: {what}:\n  {shown}{more}")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def progress(label: str, done: int, total: int, started: float) -> None:
    """A line at each tenth of the way, so a long phase shows it is moving without flooding the log."""
    if done == total or done * 10 // total != (done - 1) * 10 // total:
        say(f"{label}: {done:,}/{total:,} ({done * 100 // total}%), {time.perf_counter() - started:.1f} s")


def profiled(wsgi_app, profiles: list[cProfile.Profile], clock: str):
    """The WSGI app with each request profiled by its thread's own profiler (cProfile follows one thread), timed
    by the thread's CPU time (`cpu`: what each function costs, lock waits left out) or by the wall clock."""
    local, lock = threading.local(), threading.Lock()

    def app(environ, start_response):
        if not hasattr(local, "profiler"):
            local.profiler = cProfile.Profile(time.thread_time) if clock == "cpu" else cProfile.Profile()
            with lock:
                profiles.append(local.profiler)
        local.profiler.enable()
        try:
            return list(wsgi_app(environ, start_response))  # the body made here, inside the profile
        finally:
            local.profiler.disable()
    return app


def dump_profiles(profiles: Sequence[cProfile.Profile], path: Path) -> None:
    """The threads' profiles added up into one pstats file (nothing when none ran)."""
    if profiles:
        stats = pstats.Stats(profiles[0])
        for other in profiles[1:]:
            stats.add(other)
        stats.dump_stats(path)
