"""The process that `scenarios.kill_mid_ingest` kills: one large ingestion batch, in one transaction,
into the database named on the command line.

    python -m tests.robustness.victim DATABASE_URL OBSERVATIONS

It prints "writing" once the batch's first INSERT has run inside its transaction (SQLAlchemy's
after_cursor_execute event, a real hook that sees ORM flushes and Core inserts alike: nothing here is
simulated), and "committed" if it ever gets there."""
import datetime as dt
import sys

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.db import make_engine
from inventory.ingest import IngestBatch, ingest
from inventory.observations import ObservedDevice, ObservedInterface

UNITS = ("W1", "W2", "A1-D1")


def observation(n: int) -> ObservedDevice:
    mac = f"02:4b:00:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}"  # locally administered
    return ObservedDevice("import", dt.datetime(2026, 11, 2, 8, 0), UNITS[n % len(UNITS)], "victim.xlsx",
                          fields={"serial": f"KILL{n:06d}", "hostname": f"pc-{n:06d}", "vendor": "Dell"},
                          interfaces=(ObservedInterface(mac=mac, ips=(f"10.75.{n >> 8 & 255}.{n & 255}",)),))


def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    batch = IngestBatch([observation(n) for n in range(count)])
    engine = make_engine(url)
    said: list[str] = []

    @event.listens_for(engine, "after_cursor_execute")
    def first_rows_written(_connection, _cursor, statement, _parameters, _context, _executemany):
        if not said and statement.lstrip().upper().startswith("INSERT"):
            said.append("writing")
            print("writing", flush=True)

    with Session(engine) as session, session.begin():
        ingest(session, batch)
    print("committed", flush=True)


if __name__ == "__main__":
    main()
