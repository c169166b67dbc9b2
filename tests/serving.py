"""The real app under waitress on a loopback port, for tests and benchmarks that talk HTTP; and the service's
processes as an operator starts them: `python app.py` and its workers."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
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


NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, whatever the environment


def operator_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a process of the service on `database_url`: this one's, less the service's own
    settings, then `settings` as an operator gives them."""
    from app import ENVIRONMENT
    from tests.conftest import SECRETS_KEY
    return {name: value for name, value in os.environ.items() if name not in ENVIRONMENT} | {
        "DATABASE_URL": database_url, "SECRET_KEY": "test", "SECRETS_KEYS": SECRETS_KEY,
        "SCAN_ALLOWLIST": "127.0.0.0/8"} | settings


def serve_in_a_process(database_url: str, log_path: Path, *, port: int | None = None,
                       **settings: str) -> tuple[subprocess.Popen, str, Path]:
    """`python app.py`, the service as an operator starts it, on `port` (None: a free one) of 127.0.0.1; its
    process, base URL and log."""
    port = port or _free_port()
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  env=operator_environment(database_url, PORT=str(port), **settings))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not (server.poll() is None and _answers(base + "/health")):
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            server.wait(10)
            raise AssertionError(f"the service did not serve within 60 s; its log:\n{log_path.read_text()}")
        time.sleep(0.05)
    return server, base, log_path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with NO_PROXY.open(url, timeout=2) as response:
            return response.status == 200
    except OSError:  # not listening yet
        return False


def start_worker(engine: Engine, log_path: Path, **settings: str) -> subprocess.Popen:
    """`flask --app app worker` on the engine's database, settings through the environment as an operator
    gives them; its output appended to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT,
                                env=operator_environment(engine.url.render_as_string(hide_password=False), **settings),
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
