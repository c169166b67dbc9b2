"""What the dashboards keep: the devices' lifecycle and each unit's scan coverage as last recorded (with the
budget's gaps and readiness, every night and on the dashboards' button), so that a city's or a nation's
dashboard sums a few thousand recorded counts instead of judging every device while a page waits."""
import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class LifecycleRecord(Base):
    """How many held devices of a unit and category share their model's end of support and purchase month, as
    catalog.reports.lifecycle_counts counted them on `day` (the latest recorded day only)."""
    __tablename__ = "lifecycle_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    category_code: Mapped[str] = mapped_column(String(32))
    bought: Mapped[dt.date | None] = mapped_column(Date)  # stands for the purchases of its month (see there)
    end_of_support: Mapped[dt.date | None] = mapped_column(Date)
    count: Mapped[int]


class CoverageRecord(Base):
    """When a device of a unit was last observed by a method, as inventory.devices.last_observed said on `day`
    (the latest recorded day only)."""
    __tablename__ = "coverage_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    method: Mapped[str] = mapped_column(String(32))
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime)
