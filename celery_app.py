"""Celery workers that carry queued scan runs through, where SCAN_EXECUTOR=celery (docs/scaling.md):

    celery -A celery_app worker --loglevel=INFO --concurrency=2

Configured as `python app.py` is (instance/config.py, then the environment: DATABASE_URL, SECRETS_KEYS,
CELERY_BROKER_URL, ...). The web server and the scheduler (`flask --app app worker`) queue the runs and
send their ids; a worker here takes each run from the database (one conditional UPDATE, so a run sent
twice is carried once) and carries it through. A worker killed mid-run leaves its run `running`; its
heartbeat stops, and the scheduler fails it and queues a retry (task_acks_late would only run it twice)."""
from celery import Celery
from celery.signals import worker_process_init

from app import create_app
from discovery import worker
from discovery.executors import TASK

# Not named `app`: `celery -A celery_app` would take that attribute for the Celery application.
flask_app = create_app()
celery = Celery("readiness", broker=flask_app.config["CELERY_BROKER_URL"])
celery.conf.update(
    task_acks_late=False,  # taken off the queue when it starts: a killed worker's run is retried by the scheduler
    worker_prefetch_multiplier=1,  # a run waits on the broker, not behind a long run in a busy worker's buffer
    task_ignore_result=True,  # the run's row in the database is the result
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=True,
)


@worker_process_init.connect
def _fresh_connections(**_):
    """A pool child forked from the main process must not reuse its database connections (SQLAlchemy's
    advice for multiprocessing): it opens its own."""
    flask_app.extensions["engine"].dispose(close=False)


@celery.task(name=TASK)
def execute_scan_run(run_id: int) -> str:
    """Take the queued run and carry it through; a scheduled run that finished hands over to its scope's
    next method (queued and sent here again). Its status, or why nothing was done."""
    carrier = worker.from_app(flask_app)
    carrier.name = worker.worker_name("celery")  # celery HOST:PID of the process that runs it
    run = worker.take_and_execute(carrier.sessions, carrier.box, carrier.settings, run_id, worker_name=carrier.name)
    if run is None:
        return f"run {run_id} was not queued any more"
    worker.after_run(carrier, run)
    return f"run {run_id} {run.status.value}"
