"""The example catalog shipped in catalog/data/ (marked as an example to adapt), loaded by `flask seed`."""
import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.compliance import publish_and_judge
from catalog.content import SHEETS, numbered
from catalog.models import CatalogVersion
from catalog.services import create_version, replace_content
from core.datafiles import read_table

DATA = Path(__file__).resolve().parent / "data"
SEED_ACTOR = "seed"


def example_sheets(folder: Path = DATA) -> dict[str, list[tuple[int, dict[str, str]]]]:
    """The data files' rows, numbered as their lines would be in a spreadsheet without the comment lines."""
    return {name: numbered(read_table(folder / f"{name}.csv")) for name in SHEETS}


def load_example_catalog(session: Session) -> CatalogVersion | None:
    """Create and publish the example version in a database without any; None when one exists."""
    if session.scalars(select(CatalogVersion.id).limit(1)).first() is not None:
        return None
    [about] = read_table(DATA / "version.csv")
    about["effective_on"] = dt.date.fromisoformat(about["effective_on"])
    version = create_version(session, about, by=SEED_ACTOR)
    version.is_example = True
    replace_content(session, version.id, example_sheets(), by=SEED_ACTOR, source="seed")
    session.expire(version)
    return publish_and_judge(session, version.id, by=SEED_ACTOR)
