"""The real app under waitress on an ephemeral loopback port, for tests and benchmarks that talk HTTP; and
worker processes, as `python app.py` starts them."""
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine
from waitress.server import create_server


@contextlib.contextmanager
def serving(app: Flask, *, threads: int, port: int = 0) -> Iterator[str]:
    """The app under waitress on 127.0.0.1, `port` (0: an ephemeral one); yields the base URL."""
    server = create_server(app, host="127.0.0.1", port=port, threads=threads)
    stopping = threading.Event()

    def run() -> None:
        # Our own loop rather than server.run(), so that stopping needs no trigger pull: once a CI run
        # found the trigger's pipe already closed at teardown (EBADF) after every request had been answered.
        # Closing from the loop's own thread also leaves the loop no channel to touch after it is gone.
        while not stopping.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        server.task_dispatcher.shutdown()
        server.close()

    thread = threading.Thread(target=run, name="waitress-loopback", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        thread.join(timeout=10)


ROOT = Path(__file__).resolve().parent.parent


def start_worker(engine: Engine, log_path: Path, **settings: str) -> subprocess.Popen:
    """`flask --app app worker` on the engine's database, settings through the environment as an operator
    gives them; its output appended to `log_path`."""
    from app import ENVIRONMENT
    from tests.conftest import SECRETS_KEY
    environment = {name: value for name, value in os.environ.items() if name not in ENVIRONMENT} | {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False), "SECRET_KEY": "test",
        "SECRETS_KEYS": SECRETS_KEY, "SCAN_ALLOWLIST": "127.0.0.0/8"} | settings
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=environment,
                                stdout=log, stderr=subprocess.STDOUT)


def stop_worker(process: subprocess.Popen) -> int:
    """SIGTERM, as `python app.py` stops its worker; the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    return process.wait(60)


@contextlib.contextmanager
def worker_thread(app: Flask, **options) -> Iterator[None]:
    """The worker's loop (`flask --app app worker`) for `app`, in a thread of the test: queued runs are carried
    through; `options` go to discovery.worker.serve (schedules=False leaves the schedules alone)."""
    from discovery.worker import from_app, serve
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(from_app(app), stop), name="test-worker", daemon=True,
                              kwargs={"round_s": 0.1, "sync_s": 0.2} | options)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=120)  # runs in progress end before the database goes
