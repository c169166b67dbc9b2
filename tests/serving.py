"""The real app under waitress on an ephemeral loopback port, for tests and benchmarks that talk HTTP."""
import contextlib
import threading
from collections.abc import Iterator

from flask import Flask
from waitress.server import create_server


@contextlib.contextmanager
def serving(app: Flask, *, threads: int) -> Iterator[str]:
    """The app under waitress on 127.0.0.1, an ephemeral port; yields the base URL."""
    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
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
