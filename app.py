"""Application factory and configuration: wires the packages together (their blueprints, their commands,
the accounts check before every request).

`python app.py` serves on http://127.0.0.1:5000; `flask --app app db upgrade`, `flask --app app seed`
and each package's commands (`flask --app app --help`) manage the rest."""
import base64
import gc
import hashlib
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import click
import swagger_ui_bundle
from flask import Flask, g, jsonify, request, send_from_directory
from flask_babel import Babel
from flask_babel import gettext as _
from flask_smorest import Api
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

import accounts.web
import catalog.compliance  # noqa: F401  judges the devices each commit changed (inventory.changes)
import core.pages
from accounts import commands as accounts_commands
from agents import commands as agents_commands
from budget import commands as budget_commands
from catalog import commands as catalog_commands
from core import commands as core_commands
from core.daily import daily_tasks
from core.db import make_engine, make_session_factory, require_migrated
from core.encryption import SecretBox, keys_from_config, new_key
from core.errors import DomainError, InvalidInput, MethodNotAllowed, NotFound, SchemaNotMigrated, TooLarge
from core.i18n import Reason, select_locale
from core.pages import is_page_request, page_error
from core.permissions import Permission, require_declared_permissions, requires
from dashboards import commands as dashboards_commands
from discovery import commands as discovery_commands
from discovery import worker as discovery_worker
from discovery.collectors import commands as collector_commands
from discovery.executors import require_known as require_known_executor
from discovery.models import ScanRun
from discovery.scans import fail_abandoned_runs_at_start
from inventory import commands as inventory_commands

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: a SQLite file in the instance folder
    "SECRET_KEY": None,    # None: generated once and kept in the instance folder
    "SECRETS_KEYS": None,  # Fernet keys for secrets at rest, newest first; None: one generated in the instance folder
    # Networks a scan may touch. Loopback only unless the operator widens it on purpose.
    "SCAN_ALLOWLIST": "127.0.0.0/8,::1/128",
    "MISSING_AFTER_SCANS": 3,
    "SCAN_MAX_ADDRESSES": 65_536,  # the largest scope a scan may cover
    # DNS servers for the reverse names of hosts a sweep finds, comma-separated, inside the allowlist;
    # empty: no lookups (the system's resolver may sit outside the allowlist).
    "SCAN_DNS_SERVERS": "",
    "SCAN_UNPRIVILEGED": False,  # sweep as an unprivileged user would even as root (no ARP, no UDP, no OS guess)
    "SNMP_TIMEOUT": 1.0,  # seconds per SNMP request
    "SNMP_RETRIES": 1,
    # A scan run whose worker has written no heartbeat for this long lost its process (a crash, a restart) and
    # is failed: at start-up, at the next start of a run of its scope, or when its scope's runs are looked at in
    # the API; a live run beats 5 times as often.
    "RUN_STALE_AFTER_S": 300.0,
    # Who carries queued scans through: "local" (the worker process, `flask --app app worker`, which `python
    # app.py` starts beside the web server) or "celery" (Celery workers over CELERY_BROKER_URL, docs/scaling.md).
    "SCAN_EXECUTOR": "local",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "WORKER_SLOTS": 2,  # runs one local worker carries through at once
    "SCAN_RETRIES": 1,  # a run whose worker stopped (killed, crashed) is queued again this many times
    "SCHEDULE_MISFIRE_GRACE_S": 600,  # a scheduled run missed while no worker ran still runs if this late at most
    "READINESS_RECORD_AT": "30 1 * * *",  # when the workers record readiness and gaps (cron, the city's time)
    "LAB_FOLDER": None,  # the lab's simulators, their pid files and logs; None: instance/lab
    "PORT": 5000,  # python app.py listens on 127.0.0.1 only
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,  # largest upload (imports), bytes
    # Where an upload waits, for an hour at most, between its dry run on the imports page and its confirmation.
    "PENDING_IMPORTS_FOLDER": None,  # None: instance/pending-imports
    "IMPORT_MAX_ROWS": 100_000,
    "IMPORT_MAX_CELLS": 3_000_000,  # filled cells per import (XLSX: blank formatted ones too): 30 a row at most rows
    "IMPORT_MAX_XML_BYTES": 128 * 1024 * 1024,  # an XLSX upload unpacked: past it (a zip bomb), refused unread
    "IMPORTS_AT_ONCE": 1,  # imports read at the same time by one process; more are refused (429) until one ends
    "API_TITLE": "Equipment and network readiness",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/api/docs/static/",  # served from the swagger-ui-bundle package, no CDN
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",  # times are stored in UTC and shown in the city's time
    # Session cookies: signed, not readable by scripts, not sent by other sites' forms. Set
    # SESSION_COOKIE_SECURE=1 when the service is served over HTTPS (make run serves plain HTTP on loopback).
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "readiness_session",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,  # seconds: a working day
    # A session ends this long after signing in however busy, and after this long without a request.
    "SESSION_ABSOLUTE_LIFETIME_S": 12 * 3600,
    "SESSION_IDLE_TIMEOUT_S": 30 * 60,  # OWASP ASVS level 2
    # API tokens: the expiry of one created without expires_at, and the latest one may ask for.
    "TOKEN_DEFAULT_LIFETIME_DAYS": 90,
    "TOKEN_MAX_LIFETIME_DAYS": 365,
    # Reverse proxies in front of the service that append the client's address to X-Forwarded-For; 0: none,
    # the header is ignored and sign-in throttling counts by the connection's address.
    "TRUSTED_PROXIES": 0,
    # Password checks (argon2: 0.3 s of CPU, 64 MiB each) at once per process, and how long one waits for a slot.
    "PASSWORD_CHECKS_AT_ONCE": 4,
    "PASSWORD_CHECK_WAIT_S": 5.0,
    "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
}
# Configuration read from the environment, by name; nothing else in the code reads os.environ.
def _flag(value: str) -> bool:
    return value.lower() in {"1", "true", "yes"}


ENVIRONMENT = {"DATABASE_URL": str, "SECRET_KEY": str, "SECRETS_KEYS": str, "SCAN_ALLOWLIST": str,
               "MISSING_AFTER_SCANS": int, "SCAN_MAX_ADDRESSES": int, "SCAN_DNS_SERVERS": str,
               "SCAN_UNPRIVILEGED": _flag, "SNMP_TIMEOUT": float, "SNMP_RETRIES": int,
               "RUN_STALE_AFTER_S": float, "SCAN_EXECUTOR": str, "CELERY_BROKER_URL": str, "WORKER_SLOTS": int,
               "SCAN_RETRIES": int, "SCHEDULE_MISFIRE_GRACE_S": int, "READINESS_RECORD_AT": str, "PORT": int,
               "SESSION_COOKIE_SECURE": _flag,
               "SESSION_ABSOLUTE_LIFETIME_S": int, "SESSION_IDLE_TIMEOUT_S": int, "TOKEN_DEFAULT_LIFETIME_DAYS": int,
               "TOKEN_MAX_LIFETIME_DAYS": int, "TRUSTED_PROXIES": int}


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Defaults, then instance/config.py, then the environment, then `overrides` (tests)."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=True)
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update({name: cast(os.environ[name]) for name, cast in ENVIRONMENT.items() if name in os.environ})
    app.config.update(overrides or {})
    _fill_instance_defaults(app)

    require_known_executor(app.config)  # a mistake in SCAN_EXECUTOR stops the start, not the first scan
    app.extensions["secret_box"] = SecretBox(keys_from_config(app.config["SECRETS_KEYS"]))
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["engine"] = engine
    app.extensions["sessions"] = make_session_factory(engine)
    fail_abandoned_runs_at_start(app.extensions["sessions"], app.config["RUN_STALE_AFTER_S"])
    app.extensions["import_slots"] = threading.BoundedSemaphore(app.config["IMPORTS_AT_ONCE"])
    app.teardown_appcontext(_close_session)

    Babel(app, locale_selector=select_locale)
    api = Api(app)
    _register_blueprints(app, api)
    _register_errors(app, api)
    # After the schema check: both run before every request, in this order.
    accounts.web.install(app, sign_in_page="accounts_pages.sign_in_page", sign_out_page="accounts_pages.sign_out_page",
                         account_page="accounts_pages.account_page")
    _register_public_routes(app)
    _register_security_headers(app)
    _register_commands(app)

    require_declared_permissions(app)
    return app


def _fill_instance_defaults(app: Flask) -> None:
    """Zero set-up for one machine: a SQLite file and keys kept (owner-readable only) in instance/."""
    instance = Path(app.instance_path)
    if not app.config["DATABASE_URL"]:
        instance.mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'inventory.sqlite3'}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _kept_key(instance / "secret_key", lambda: secrets.token_hex(32))
    if not app.config["SECRETS_KEYS"]:
        app.config["SECRETS_KEYS"] = _kept_key(instance / "secrets_key", new_key)


def _kept_key(path: Path, make) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(make())
    return path.read_text().strip()


def _register_blueprints(app: Flask, api: Api) -> None:
    from accounts.admin_pages import blp as admin_pages
    from accounts.api import audit_blp, session_blp, tokens_blp, users_blp
    from accounts.pages import blp as accounts_pages
    from agents.api import agent_endpoint, enrolments_blp, imports_blp
    from agents.pages import blp as agent_pages
    from budget.api import budget_blp
    from budget.pages import blp as budget_pages
    from catalog.api import catalog_blp, compliance_blp
    from catalog.pages import blp as catalog_pages
    from dashboards.api import dashboards_blp as dashboards_api
    from dashboards.pages import blp as dashboard_pages
    from dashboards.views import blp as dashboards_blp
    from discovery.api import credentials_blp, scopes_blp
    from discovery.collectors.api import collector_endpoint, collectors_blp
    from discovery.collectors.pages import blp as collector_pages
    from discovery.pages import blp as discovery_pages
    from inventory.api import devices_blp, relocations_blp, transfer_blp, units_blp
    from inventory.device_pages import blp as device_pages
    from inventory.relocation_pages import blp as relocation_pages
    from inventory.reorganisation_pages import blp as reorganisation_pages
    from inventory.transfer_pages import blp as transfer_pages
    from inventory.unit_pages import blp as unit_pages
    for blueprint in (units_blp, devices_blp, transfer_blp, relocations_blp, session_blp, users_blp, tokens_blp,
                      audit_blp, credentials_blp, scopes_blp, collectors_blp, catalog_blp, compliance_blp,
                      budget_blp, enrolments_blp, imports_blp, dashboards_api):
        api.register_blueprint(blueprint)
    app.register_blueprint(agent_endpoint)
    app.register_blueprint(collector_endpoint)
    core.pages.install(app, (dashboards_blp, dashboard_pages, unit_pages, reorganisation_pages, device_pages,
                             relocation_pages, transfer_pages, discovery_pages, collector_pages, agent_pages,
                             catalog_pages, budget_pages, accounts_pages, admin_pages))


def _register_errors(app: Flask, api: Api) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if is_page_request():
            return page_error(error)  # a page's refusal is a page, with the API's reason
        body: dict[str, Any] = {"code": error.status_code, "status": _STATUS.get(error.status_code, "Error"),
                                "message": error.reason}
        if error.field:
            body["errors"] = {"json": {error.field: [error.reason]}}
        if error.details is not None:
            body["details"] = error.details
        return jsonify(body), error.status_code

    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def refused_by_the_framework(error: HTTPException):
        """No such page, a method it does not take, an upload past MAX_CONTENT_LENGTH: on a page, a page."""
        if not is_page_request():
            return api.handle_http_exception(error)  # the API's JSON answer, as flask-smorest gives it
        if error.code == 404:
            return page_error(NotFound(_("there is no such page")))
        if error.code == 413:
            return page_error(TooLarge(_("the file is larger than the %(mib)s MiB an upload may be",
                                         mib=app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))))
        return page_error(MethodNotAllowed(error.description))

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        # The database went away mid-request: the transaction is rolled back, nothing is half-written.
        log.error("database unavailable: %s", error.orig)
        return jsonify({"code": 503, "status": "Service Unavailable",
                        "message": Reason("the database is unavailable; nothing was changed, try again")}), 503

    @app.before_request
    def schema_is_current():
        if not app.extensions.get("schema_checked"):
            require_migrated(app.extensions["engine"])  # SchemaNotMigrated -> 503 with the fix
            app.extensions["schema_checked"] = True

    @app.before_request
    def refuse_nul_characters():
        # PostgreSQL stores no NUL in text and refuses it as a parameter: name the input instead of a 500.
        name = _input_with_nul()
        if name is not None:
            raise InvalidInput(Reason("%(name)s contains a NUL character (U+0000), which cannot be stored", name=name),
                               field=name)


def _input_with_nul() -> str | None:
    """The name of the first path part, query or form argument, file name or JSON field holding a NUL."""
    for name, value in [*(request.view_args or {}).items(), *request.args.items(multi=True),
                        *request.form.items(multi=True), *((n, f.filename or "") for n, f in request.files.items())]:
        if "\x00" in name or "\x00" in str(value):
            return name.replace("\x00", "") or "query"
    if not request.is_json or not _may_hold_nul(request.get_data(cache=True)):
        return None
    return _json_with_nul(request.get_json(silent=True), "json")


def _may_hold_nul(body: bytes) -> bool:
    """JSON text can only carry a NUL as the escape \\u0000 (a raw one is no JSON): a body without either needs
    no walk through every value (a collector's batch holds a hundred thousand)."""
    return b"\\u0000" in body or b"\x00" in body


def _json_with_nul(value: Any, name: str) -> str | None:
    """`name`: the top-level field that `value` sits under ("json" for the body itself)."""
    if isinstance(value, str):
        return name if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        field = key if name == "json" and isinstance(key, str) and "\x00" not in key else name
        if (isinstance(key, str) and "\x00" in key) or _json_with_nul(item, field):
            return field
    return None


_STATUS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           409: "Conflict", 413: "Content Too Large", 422: "Unprocessable Entity", 429: "Too Many Requests",
           503: "Service Unavailable"}


def _register_public_routes(app: Flask) -> None:
    @app.get("/api/docs/static/<path:filename>")
    @requires(Permission.PUBLIC)
    def swagger_ui_static(filename: str):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    @app.get("/health")
    @requires(Permission.PUBLIC)
    def health():
        return {"status": "ok"}


# Every response, pages and API: scripts and styles only from files of this site (none inline, no eval),
# nothing framed, no MIME sniffing; images from this site and data: URIs (Bootstrap draws its form icons so). Referrer-Policy same-origin, not no-referrer: over HTTPS Flask-WTF refuses
# a form whose Referer is missing.
CONTENT_SECURITY_POLICY = {"default-src": "'none'", "script-src": "'self'", "style-src": "'self'",
                           "img-src": "'self' data:", "font-src": "'self'", "connect-src": "'self'",
                           "form-action": "'self'", "base-uri": "'none'", "frame-ancestors": "'none'"}
SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
SWAGGER_UI_ENDPOINT = "api-docs.openapi_swagger_ui"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        policy = CONTENT_SECURITY_POLICY
        if request.endpoint == SWAGGER_UI_ENDPOINT and response.status_code == 200:
            # Hashed once, from the first page served: a later page whose script differed would not run it.
            if "swagger_ui_policy" not in app.extensions:
                app.extensions["swagger_ui_policy"] = _swagger_ui_policy(response.get_data())
            policy = policy | app.extensions["swagger_ui_policy"]
        policy = policy | g.get("content_security_policy", {})  # what a page asks beyond (dashboards.pages)
        response.headers["Content-Security-Policy"] = "; ".join(f"{name} {value}" for name, value in policy.items())
        response.headers.update(SECURITY_HEADERS)
        return response


def _swagger_ui_policy(page: bytes) -> dict[str, str]:
    """The API documentation page is flask-smorest's template, which starts Swagger UI with an inline
    script built from configuration alone (no request data): that script is allowed by its hash, nothing
    else inline."""
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
              for script in INLINE_SCRIPT.findall(page)]
    return {"script-src": " ".join(["'self'", *hashes])}


def _close_session(_error: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _register_commands(app: Flask) -> None:
    """Each package registers its own commands; `seed` puts the packages' examples together."""
    for package in (core_commands, inventory_commands, accounts_commands, discovery_commands, discovery_worker,
                    collector_commands, catalog_commands, budget_commands, agents_commands, dashboards_commands):
        package.register(app)

    @app.cli.command("seed")
    def seed():
        """Load the example organisation into an empty database and create the first administrator."""
        from catalog.examples import load_example_catalog
        from discovery import lab
        from inventory.examples import load_example_organisation
        with app.extensions["sessions"]() as session, session.begin():
            loaded = load_example_organisation(session)
            example_catalog = load_example_catalog(session)
            password = accounts_commands.create_first_admin(session)
            lab_scope = loaded and lab.ensure_lab_scope(session, app.extensions["secret_box"],
                                                        app.config["SCAN_ALLOWLIST"], lab.LAB_UNIT, lab.default_port())
        click.echo(f"example organisation: {loaded} units loaded" if loaded else
                   "example organisation: units already present, nothing loaded")
        click.echo(f"example catalog: '{example_catalog.name}' loaded and in force from "
                   f"{example_catalog.effective_on:%d/%m/%Y} (an example: adapt it on the catalog page)"
                   if example_catalog else "example catalog: a catalog version exists, nothing loaded")
        if lab_scope:
            click.echo(f"scan scope '{lab.LAB_SCOPE}': the lab's devices, scanned by the worker on the schedule "
                       f"'{lab.LAB_SCHEDULE}' (`python app.py --lab` polls it once at its first start)")
        accounts_commands.report_first_admin(password)


def main() -> None:
    """`python app.py [--lab]`: the web server and one worker process beside it (scans never run in the web
    server); with --lab (what `make run` does), a first poll of the lab if it was never scanned, and the lab's
    simulators stopped with the service."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    try:
        require_migrated(app.extensions["engine"])
        app.extensions["schema_checked"] = True  # the first request need not ask again
    except SchemaNotMigrated as error:
        sys.exit(f"refusing to start: {error.reason}")
    with_lab = "--lab" in sys.argv[1:]
    if with_lab:
        _first_lab_scan(app)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--parent", str(os.getpid())],
                              cwd=ROOT)
    # SIGTERM and Ctrl-C end the service, the worker and the lab with it (SIGINT set here too: a process started in
    # the background of a script inherits it ignored).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sys.exit(0))
    from waitress import serve
    settle_for_serving()
    host, port = "127.0.0.1", app.config["PORT"]
    print(f"Service ready: http://{host}:{port}/  (API documentation: http://{host}:{port}/api/docs); "
          f"worker process {worker.pid}; stop with Ctrl-C", flush=True)
    try:
        serve(app, host=host, port=port, threads=8)
    finally:
        worker.terminate()
        worker.wait(30)
        if with_lab:
            from discovery import lab
            print(f"lab: {lab.stop(lab.folder(app.config, app.instance_path))} simulators stopped", flush=True)


def settle_for_serving() -> None:
    """What is loaded before serving (the modules, the app, its configuration) lives as long as the process:
    frozen out of Python's cyclic collector, whose full collections otherwise walk all of it each time, about
    110 ms at a time under the dashboards (bench/pages.py) against 10 ms once frozen."""
    gc.collect()  # nothing of a cycle already garbage is frozen with the rest
    gc.freeze()


def _first_lab_scan(app: Flask) -> None:
    """The lab polled once before the first page, so that it shows a real inventory; later polls follow the
    lab scope's schedule."""
    from discovery import lab
    from discovery.scans import execute_run, settings_from_config, start_run
    from discovery.scopes import find_scope
    settings = settings_from_config(app.config)
    with app.extensions["sessions"]() as session, session.begin():
        scope = find_scope(session, lab.LAB_SCOPE)
        if session.scalars(select(ScanRun.id).where(ScanRun.scope_id == scope.id)).first() is not None:
            return
        run = start_run(session, scope, "snmp", settings)
        run_id, total = run.id, run.hosts_total
    with click.progressbar(length=total, label="first poll of the lab") as bar:
        run = execute_run(app.extensions["sessions"], run_id, app.extensions["secret_box"], settings,
                          lambda done, _total: bar.update(done - bar.pos))
    click.echo(f"lab: {run.hosts_answered} of {run.hosts_total} devices answered, {run.created} devices in the "
               f"inventory; the scope's schedule polls it again")
    for task in daily_tasks(app).values():  # the dashboards draw from the day's record: with the lab in it
        with app.extensions["sessions"]() as session, session.begin():
            task.run(session, "python app.py")
        click.echo(f"{task.name}: recorded again with the lab's devices")


if __name__ == "__main__":
    main()
