"""The compliance of every device under the catalog version in force, kept current: a device is judged again
when the inventory announces that it changed (a scan that changes one device judges that device, not 50,000),
and every device is when the version in force or the day changes (dates pass: end of support, service life).

The judgement itself is catalog/rules.py's; this module reads devices in, writes judgements out."""
import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from catalog.models import CatalogVersion, Compliance, ComplianceStatus
from catalog.rules import DeviceFacts, Judgement, Rules, categorise, judge, match_model
from catalog.services import get_version, loaded_version, publish_version, rules_of, version_in_force
from core.errors import InvalidInput, NotFound
from core.i18n import Reason
from inventory.changes import Changes, devices_changed
from inventory.ingest import insert_rows
from inventory.models import Device, DeviceClass, DeviceStatus

log = logging.getLogger(__name__)
CITY_TIME = ZoneInfo("Asia/Ho_Chi_Minh")  # a date passes at midnight in the city, not in UTC
FACT_COLUMNS = (Device.id, Device.device_class, Device.vendor, Device.model, Device.specs, Device.firmware_version,
                Device.purchase_date, Device.purchase_price_vnd)
COMPLIANCE = Compliance.__table__
BATCH = 5_000  # devices read and judgements written at a time: bounded memory at any inventory size


def today() -> dt.date:
    return dt.datetime.now(CITY_TIME).date()


def published_rules(session: Session, version: CatalogVersion) -> Rules:
    """The rules of a published version, read once per process: a published version never changes (only drafts
    are edited or deleted), so every commit's recompute need not read its rows again."""
    if version.published_at is None:
        return rules_of(loaded_version(session, version.id))
    # Keyed by database and publication too: tests (and a restored backup) reuse ids for other content.
    key = (str(session.get_bind().url), version.id, version.published_at)
    rules = _PUBLISHED_RULES.get(key)
    if rules is None:
        if len(_PUBLISHED_RULES) >= 64:
            _PUBLISHED_RULES.clear()
        rules = _PUBLISHED_RULES[key] = rules_of(loaded_version(session, version.id))
    return rules


_PUBLISHED_RULES: dict[tuple[str, int, object], Rules] = {}


def device_facts(row: Sequence[Any]) -> DeviceFacts:
    id_, device_class, vendor, model, specs, firmware_version, purchase_date, price = row
    return DeviceFacts(id_, device_class.value, vendor, model, specs or {}, firmware_version, purchase_date, price)


def judge_device(session: Session, device_id: int, rules: Rules, on: dt.date) -> Judgement:
    row = session.execute(select(*FACT_COLUMNS).where(Device.id == device_id)).one_or_none()
    if row is None:
        raise NotFound(Reason("device %(id)s does not exist", id=device_id))
    return judge(device_facts(row), rules, on)


def recompute_all(session: Session, on: dt.date | None = None) -> int:
    """Judge every device under the version in force on `on` (today), replacing every stored judgement;
    with no version in force there is none. The number of devices judged."""
    on = on or today()
    _one_full_recompute_at_a_time(session)
    session.execute(delete(Compliance))
    version = version_in_force(session, on)
    if version is None:
        return 0
    rules = published_rules(session, version)
    judged = 0
    # Written as ingestion writes its rows (a driver's executemany on SQLite, one JSON document per batch on
    # PostgreSQL), not through the ORM's bulk insert: that one splits the rows wherever the columns holding None
    # change from one row to the next (20,000 statements for 50,000 devices), and psycopg sends an executemany
    # as a statement per row.
    connection = session.connection()
    for rows in _batches(session.execute(select(*FACT_COLUMNS).order_by(Device.id)).yield_per(BATCH)):
        # A device created meanwhile may have been judged by its own commit: its row stands (same version).
        insert_rows(connection, COMPLIANCE, [_row(facts.id, judge(facts, rules, on), rules, on) for facts in rows],
                    unless_known=(COMPLIANCE.c.device_id,))
        judged += len(rows)
    log.info("compliance: %s devices judged under catalog version %s on %s", judged, version.id, on)
    return judged


FULL_RECOMPUTE_LOCK = 0x1A9E58  # PostgreSQL advisory lock: one full recompute at a time (ingestion's is 0x1A9E57)


def _one_full_recompute_at_a_time(session: Session) -> None:
    """Two full recomputes at once (two readers finding the judgements stale) would each delete and insert every
    row: on PostgreSQL the second waits for the first, then finds the work done. SQLite lets one writer at a time
    anyway; there a second reader that found them stale at the same moment recomputes again, after the first."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FULL_RECOMPUTE_LOCK})


def publish_and_judge(session: Session, version_id: int, *, by: str) -> CatalogVersion:
    """Publish a draft; when that puts it in force today, judge every device under it in the same transaction.
    Refused when devices in use would have no category under it."""
    uncovered = uncategorised(session, get_version(session, version_id))
    if uncovered:
        raise InvalidInput(Reason(
            "devices in use would have no category under this version: %(classes)s; add these classes to a "
            "category, or loosen its conditions, first",
            classes=", ".join(f"{name} ({count})" for name, count in uncovered.items())), field="categories")
    version = publish_version(session, version_id, by=by)
    in_force = version_in_force(session, today())
    if in_force is not None and in_force.id == version.id:
        recompute_all(session)
    return version


def uncategorised(session: Session, version: CatalogVersion) -> dict[str, int]:
    """Device classes of devices in use that no category of the version would take (by approved model, class and
    conditions), with how many; `other` (a device nobody could classify) is left out: its judgement says so."""
    rules = rules_of(loaded_version(session, version.id))
    found: dict[str, int] = {}
    rows = session.execute(select(*FACT_COLUMNS).where(Device.status == DeviceStatus.IN_USE,
                                                       Device.device_class != DeviceClass.OTHER))
    for row in rows:
        facts = device_facts(row)
        if match_model(facts, rules) is None and categorise(facts, rules) is None:
            found[facts.device_class] = found.get(facts.device_class, 0) + 1
    return dict(sorted(found.items()))


def recompute_devices(session: Session, device_ids: Iterable[int], on: dt.date | None = None) -> int:
    """Judge these devices again (those that exist), under the version in force."""
    on, ids = on or today(), sorted(set(device_ids))
    version = version_in_force(session, on)
    if version is None or not ids:
        return 0
    rules = published_rules(session, version)
    judged = 0
    for start in range(0, len(ids), BATCH):
        rows = session.execute(select(*FACT_COLUMNS).where(Device.id.in_(ids[start:start + BATCH]))).all()
        _upsert(session, [_row(r[0], judge(device_facts(r), rules, on), rules, on) for r in rows])
        judged += len(rows)
    return judged


def ensure_current(session: Session, on: dt.date | None = None) -> bool:
    """Make the stored judgements today's under the version in force, if they are not (a day passed, a version
    took effect, a device has none), in a transaction of its own that commits: a read that found them stale
    leaves them current for the next. True when it recomputed."""
    on = on or today()
    if _is_current(session, on):
        return False
    with Session(bind=session.get_bind()) as own, own.begin():
        _one_full_recompute_at_a_time(own)
        if not _is_current(own, on):  # another request may have done it while this one waited for the lock
            recompute_all(own, on)
    return True


def _is_current(session: Session, on: dt.date) -> bool:
    version = version_in_force(session, on)
    oldest, low, high, judged = session.execute(select(func.min(Compliance.judged_on), func.min(Compliance.version_id),
                                                       func.max(Compliance.version_id), func.count())).one()
    devices = session.scalar(select(func.count()).select_from(Device))
    if version is None or devices == 0:
        return judged == 0
    return low == high == version.id and oldest == on and judged == devices


def _batches(rows: Iterable[Sequence[Any]]) -> Iterator[list[DeviceFacts]]:
    batch: list[DeviceFacts] = []
    for row in rows:
        batch.append(device_facts(row))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _row(device_id: int, judgement: Judgement, rules: Rules, on: dt.date) -> dict[str, Any]:
    return {"device_id": device_id, "version_id": rules.version_id, "category_code": judgement.category,
            "approved_model_id": judgement.model_id, "status": ComplianceStatus(judgement.status),
            "findings": list(judgement.findings), "judged_on": on}


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert or replace each device's judgement: two commits judging one device at once must not collide."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Compliance)
    columns = {c: statement.excluded[c] for c in ("version_id", "category_code", "approved_model_id", "status",
                                                   "findings", "judged_on")}
    session.execute(statement.on_conflict_do_update(index_elements=["device_id"], set_=columns), rows)


@devices_changed.connect
def follow_inventory(session: Session, changes: Changes, **_: Any) -> None:
    """After a commit that changed devices: judge those devices again, in a transaction of their own."""
    ids = changes.device_ids
    if not ids:
        return
    with Session(bind=session.get_bind()) as own, own.begin():
        judged = recompute_devices(own, ids)
    log.debug("compliance: %s changed devices judged again", judged)
