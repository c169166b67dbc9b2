"""The collector's side of the wire: the server's collector API (`Server`), what its threads share (`State`)
and the sender (`Sender`), which empties the on-disk backlog into the server oldest first, and leaves a batch
on the disk until the server has kept it (201 accepted, 200 a duplicate, 422 rejected and kept there)."""
import logging
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import netaddr
import orjson
import requests

from core.time import utcnow
from discovery.collectors import wire
from discovery.collectors.backlog import Backlog

log = logging.getLogger("collector")

VERSION = "readiness-collector 1.0"
BACKOFF_FIRST_S, BACKOFF_MAX_S = 1.0, 30.0
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 10.0, 300.0  # a large batch takes the server a while to ingest
REFUSED = "the server refused this collector's token (revoked?)"
TOO_LARGE = ".too-large"  # a batch the server will never take (413): set aside, not deleted
OUTCOMES = {201: "accepted", 200: "duplicate", 422: "rejected", 400: "set_aside", 413: "set_aside"}


class Refused(Exception):
    """The server refused the token (401 or 403): nothing this collector sends will be taken."""


class Unreachable(Exception):
    """No answer, or a server error (5xx): worth trying again later."""


# ---- the server -----------------------------------------------------------------------------------------------

class Server:
    """The server's collector API over one keep-alive connection per thread, with the token and the version."""

    def __init__(self, base_url: str, token: str, version: str = VERSION):
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", wire.VERSION_HEADER: version,
                        "Content-Type": "application/json"}
        self._local = threading.local()

    def config(self) -> dict:
        response = self._call("GET", wire.CONFIG_PATH)
        try:
            config = response.json()
        except ValueError:
            raise Unreachable(f"{self.base_url}{wire.CONFIG_PATH} answered something that is not JSON") from None
        if not isinstance(config, dict) or not isinstance(config.get("scopes"), list):
            raise Unreachable(f"{self.base_url}{wire.CONFIG_PATH} answered no collector configuration")
        return config

    def send(self, body: bytes) -> requests.Response:
        """POST a batch; the answer whatever its status, except those that say the token is refused (Refused) or
        the server is away (Unreachable)."""
        return self._call("POST", wire.BATCHES_PATH, body)

    def heartbeat(self, values: dict) -> None:
        self._call("POST", wire.HEARTBEAT_PATH, orjson.dumps(values))

    def _call(self, method: str, path: str, body: bytes | None = None) -> requests.Response:
        try:
            response = self._session().request(method, self.base_url + path, data=body, headers=self.headers,
                                               timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
        except requests.RequestException as error:
            raise Unreachable(f"{self.base_url} cannot be reached ({type(error).__name__})") from None
        if response.status_code in (401, 403):
            raise Refused(f"{REFUSED}: HTTP {response.status_code}")
        if response.status_code >= 500:
            raise Unreachable(f"{self.base_url} answered HTTP {response.status_code}")
        if method == "GET" and response.status_code != 200:
            raise Unreachable(f"{self.base_url}{path} answered HTTP {response.status_code}")
        return response

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            session = requests.Session()
            # A server on this machine is reached directly, whatever proxy the environment names.
            session.trust_env = not _is_loopback(urlsplit(self.base_url).hostname or "")
            self._local.session = session
        return self._local.session


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return netaddr.IPAddress(host).is_loopback()
    except (netaddr.AddrFormatError, ValueError):
        return False


# ---- what is shared between the threads ---------------------------------------------------------------------

class State:
    """The last error (for the heartbeat), and the stop: set on SIGTERM, at the end of --once, or when the server
    refuses the token (`refused`)."""

    def __init__(self):
        self.stop = threading.Event()
        self.refused = False
        self._last_error, self._transient = "", False
        self._lock = threading.Lock()

    @property
    def last_error(self) -> str:
        with self._lock:
            return self._last_error

    def error(self, text: str, *, transient: bool = False) -> None:
        """The last error, for the heartbeat; a `transient` one (the server away) is forgotten once it answers."""
        with self._lock:
            self._last_error, self._transient = text, transient

    def resolved(self) -> None:
        """The server took a batch: an error that said it was away no longer holds."""
        with self._lock:
            if self._transient:
                self._last_error, self._transient = "", False

    def refuse(self, reason: str, backlog: Backlog) -> None:
        """Stop everything once the token is refused; say so once."""
        with self._lock:
            first, self.refused = not self.refused, True
            self._last_error = reason
        if first:
            log.error("%s; sending stopped, %d batch(es) kept in %s", reason, backlog.count(), backlog.directory)
        self.stop.set()


# ---- the sender -----------------------------------------------------------------------------------------------

class Sender:
    """Sends the backlog's batches oldest first, each removed only once the server has kept it."""

    def __init__(self, server: Server, backlog: Backlog, state: State, wake: threading.Event | None = None):
        self.server, self.backlog, self.state = server, backlog, state
        self.wake = wake or threading.Event()  # set when a batch is put, so that it leaves at once
        self.delay = 0.0
        self._retry = threading.Event()  # the server answers again: the backoff is cut short
        self.outcomes: Counter[str] = Counter()  # accepted, duplicate, rejected, set_aside, not_sent

    def run(self, patience_s: float | None = None) -> None:
        """Until stopped (or, with `patience_s`, until the backlog is empty or the server has not answered for
        that long): send, and wait with backoff (1 s doubling to 30 s) while the server is away."""
        away_since = None
        while not self.state.stop.is_set():
            self.wake.clear()
            item = self.backlog.oldest()
            if item is None:
                if patience_s is not None:
                    return
                self.wake.wait(1.0)
                continue
            if self.send(*item):
                self.delay, away_since = 0.0, None
                continue
            if self.state.refused:
                return
            away_since = away_since or time.monotonic()
            if patience_s is not None and time.monotonic() - away_since >= patience_s:
                return
            self.delay = min(BACKOFF_MAX_S, self.delay * 2 or BACKOFF_FIRST_S)
            self._pause(self.delay)

    def retry_now(self) -> None:
        """The server answered another call: end the backoff now."""
        self._retry.set()

    def _pause(self, seconds: float) -> None:
        """Wait `seconds`, less if stopped or told to retry now."""
        self._retry.clear()
        deadline = time.monotonic() + seconds
        while not self.state.stop.is_set() and not self._retry.is_set() and time.monotonic() < deadline:
            self._retry.wait(min(0.2, max(0.0, deadline - time.monotonic())))

    def send(self, name: str, batch: dict) -> bool:
        """Send one batch; True when it left the backlog (the server kept it, or it was set aside)."""
        label = f"batch {batch.get('batch_id')} (sequence {batch.get('sequence')}, scope {batch.get('scope_id')} " \
                f"{batch.get('kind')})"
        body = orjson.dumps(wire.with_sent_at(batch, utcnow()))
        try:
            response = self.server.send(body)
        except Refused as refused:
            self.state.refuse(str(refused), self.backlog)
            return False
        except Unreachable as away:
            self.outcomes["not_sent"] += 1
            self.state.error(str(away), transient=True)
            log.warning("%s not sent: %s; trying again in %.0f s", label, away,
                        min(BACKOFF_MAX_S, self.delay * 2 or BACKOFF_FIRST_S))
            return False
        answer = _json_of(response)
        self.outcomes[OUTCOMES.get(response.status_code, "not_sent")] += 1
        if response.status_code in (200, 201):
            self.state.resolved()
        if response.status_code == 201:
            log.info("%s: accepted as run %s: %s observation(s), %s created, %s changed, %s unchanged, %s missing",
                     label, answer.get("run_id"), answer.get("observations"), answer.get("created"),
                     answer.get("changed"), answer.get("unchanged"), answer.get("missing"))
        elif response.status_code == 200:
            log.info("%s: %s", label, answer.get("message", "a duplicate; ignored"))
        elif response.status_code == 422:
            message = answer.get("message", response.text[:500])
            self.state.error(f"batch {batch.get('batch_id')} rejected: {message}")
            log.error("%s: rejected by the server, which keeps it for an operator: %s", label, message)
        elif response.status_code in (400, 413):
            # The server will never take it as it is: set aside, so that the batches after it go.
            aside = self.backlog.set_aside(name, TOO_LARGE if response.status_code == 413 else ".refused")
            self.state.error(f"batch {batch.get('batch_id')} refused: HTTP {response.status_code}")
            log.error("%s: refused by the server (HTTP %s: %s); set aside as %s", label, response.status_code,
                      answer.get("message", response.text[:300]), aside)
            return True
        else:  # a server without the collector API (404), a proxy in the way: worth trying again later
            self.state.error(f"{self.server.base_url} answered HTTP {response.status_code}", transient=True)
            log.warning("%s not sent: the server answered HTTP %s", label, response.status_code)
            return False
        self.backlog.remove(name)
        return True


def _json_of(response: requests.Response) -> dict:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
