"""Who carries a queued scan run through (SCAN_EXECUTOR). "local": a worker process of this service
(`flask --app app worker`) takes the queued runs from the database by itself, so there is nothing to send.
"celery": the run's id goes to the Celery workers over CELERY_BROKER_URL (Redis or RabbitMQ; celery_app.py
and docs/scaling.md), sent by the task's name, so the web process imports no task code."""
import functools
import logging
from collections.abc import Mapping

from core.errors import DomainError
from core.i18n import Reason

log = logging.getLogger(__name__)

EXECUTORS = ("local", "celery")
TASK = "readiness.execute_scan_run"  # the task of celery_app.py
# A broker that does not answer holds the request that queued the run: one quick retry, then the refusal.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}


class UnknownExecutor(ValueError):
    """SCAN_EXECUTOR names no executor: a mistake in the configuration, not in a request."""


class ScanQueueUnavailable(DomainError):
    """The Celery broker did not take the run (down, unreachable, refused the credentials)."""

    status_code = 503


def require_known(config: Mapping) -> str:
    """The configured executor, or UnknownExecutor with what to set instead (for start-up, before any run)."""
    executor = config.get("SCAN_EXECUTOR", "local")
    if executor not in EXECUTORS:
        raise UnknownExecutor(f"SCAN_EXECUTOR is {executor!r}; it must be one of: {', '.join(EXECUTORS)}")
    return executor


def dispatch(config: Mapping, run_id: int) -> None:
    """Hand the queued run `run_id` to its executor; the caller has committed it (a Celery worker may take
    it at once, from another process)."""
    if require_known(config) == "local":
        return  # the local worker takes queued runs from the database each round
    broker_url = config["CELERY_BROKER_URL"]
    try:
        celery_client(broker_url).send_task(TASK, args=[run_id], retry=True, retry_policy=PUBLISH_RETRY)
    except Exception as error:  # kombu's OperationalError, a socket's error, the broker's refusal
        raise ScanQueueUnavailable(Reason(
            "the scan queue at %(broker)s did not take run %(run)s: %(error)s",
            run=run_id, broker=_safe_url(broker_url), error=str(error) or type(error).__name__)) from error
    log.info("run %s sent to the Celery workers at %s", run_id, _safe_url(broker_url))


@functools.cache
def celery_client(broker_url: str):
    """One Celery client per broker: it keeps its connection pool and producer between runs."""
    from celery import Celery  # only where SCAN_EXECUTOR=celery: a local installation needs no broker

    client = Celery("readiness-client", broker=broker_url, set_as_current=False)
    client.conf.update(broker_connection_timeout=3, broker_connection_max_retries=1, task_ignore_result=True)
    return client


def _safe_url(url: str) -> str:
    """The broker's URL with its password masked, for messages and logs."""
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url)
