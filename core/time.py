"""Time as the service stores it: UTC, without a zone (both databases compare such values alike)."""
import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)  # stored naive, always UTC


def as_utc(moment: dt.datetime | str) -> dt.datetime:
    """A stored or ISO time as a naive UTC datetime, so that times compare as times, never as text."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment
