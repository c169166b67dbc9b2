"""Work the workers' scheduler does once a day for packages the worker does not know of (the budget's readiness
record, which the dashboards draw from). A package registers its task when the app is made; the worker
(discovery/worker.py) schedules every registered task and runs it in a transaction of its own."""
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class DailyTask:
    name: str
    when_key: str  # the configuration key of its schedule (cron in the city's time, or "every N s|m|h|d")
    run: Callable[[Session, str], object]  # run(session, actor); must not commit


def register_daily_task(app: Flask, name: str, when_key: str, run: Callable[[Session, str], object]) -> None:
    app.extensions.setdefault("daily_tasks", {})[name] = DailyTask(name, when_key, run)


def daily_tasks(app: Flask) -> Mapping[str, DailyTask]:
    return app.extensions.get("daily_tasks", {})
