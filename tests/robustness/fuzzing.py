"""Schemathesis against the app's own OpenAPI document, in process through WSGI.

Every operation gets a fixed number of generated requests that fit the document (positive) and that
do not (negative), derandomised: the same run every time. Each answer is checked for what the API
promises: no server error, a status code the document lists, its content type, and a body that
matches the documented schema. Findings are collected per operation rather than stopping at the
first, so that one run reports every distinct problem."""
import traceback
from dataclasses import dataclass, field

import flask
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import ApiToken, Role
from accounts.permissions import ROLE_PERMISSIONS
from accounts.services import create_token, update_user
from tests.robustness.databases import admin_token

OPENAPI_PATH = "/api/openapi.json"
# Revoking tokens and editing accounts may take the fuzzer's own rights away: run them last.
RUN_LAST = ("DELETE /api/tokens", "PATCH /api/users", "DELETE /api/session")


@dataclass
class FuzzReport:
    requests: int = 0
    server_errors: int = 0  # 5xx answers, and exceptions that escaped the app (a 500 under a real server)
    operations: int = 0
    # One entry per distinct problem, a title and an example: server errors, then answers unlike the document.
    crashes: dict[str, str] = field(default_factory=dict)
    violations: dict[str, str] = field(default_factory=dict)
    admin_restored: int = 0  # times the fuzzer had demoted, deactivated or revoked its own admin and token

    def summary(self) -> str:
        lines = [f"{self.requests} requests over {self.operations} operations, {self.server_errors} server errors "
                 f"({len(self.crashes)} distinct), {len(self.violations)} distinct answers unlike the document"]
        for kind, found in (("server error", self.crashes), ("unlike the document", self.violations)):
            lines += [f"--- {kind}: {title}\n{example}" for title, example in sorted(found.items())]
        return "\n".join(lines)


class AdminKeeper:
    """The fuzzer acts as an administrator; when a generated request revokes its token or demotes or
    deactivates its account, the next request gets them back (through the services), so the rest of
    the run still reaches the handlers instead of meeting 401s."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions
        self.token_id, self.value = admin_token(sessions, "fuzz-admin")
        self.restored = 0

    def headers(self) -> dict[str, str]:
        with self.sessions() as session, session.begin():
            token = session.get(ApiToken, self.token_id)
            user = token.user
            if token.revoked_at is None and user.active and user.role is Role.ADMIN:
                return {"Authorization": f"Bearer {self.value}"}
            update_user(session, user.id, {"role": Role.ADMIN, "unit_codes": [], "active": True})
            token, self.value = create_token(session, user, "fuzz", ROLE_PERMISSIONS[Role.ADMIN.value])
            session.flush()
            self.token_id = token.id
            self.restored += 1
        return {"Authorization": f"Bearer {self.value}"}


def operations_of(app: Flask) -> list:
    """The operations of the app's own OpenAPI document, those that may lock the fuzzer out last."""
    import schemathesis

    # An explicit, empty configuration: no schemathesis.toml found on disk changes what runs.
    schema = schemathesis.openapi.from_wsgi(OPENAPI_PATH, app, config=schemathesis.Config())
    return sorted((result.ok() for result in schema.get_all_operations()),
                  key=lambda o: (o.label.startswith(RUN_LAST), o.label))


def fuzz_api(app: Flask, *, positive_examples: int, negative_examples: int) -> FuzzReport:
    """Fuzz every operation of the app's OpenAPI document; the app's database must be migrated."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    keeper = AdminKeeper(app.extensions["sessions"])
    report = FuzzReport()
    tracebacks: list[str] = []
    flask.got_request_exception.connect(_keep_traceback(tracebacks), app, weak=False)
    for operation in operations_of(app):
        report.operations += 1
        for mode, examples in ((GenerationMode.POSITIVE, positive_examples),
                               (GenerationMode.NEGATIVE, negative_examples)):
            if not examples:
                continue

            @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                      phases=[Phase.explicit, Phase.generate],  # no shrinking: findings are collected, not raised
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def send(case):
                report.requests += 1
                _send_and_check(case, keeper, checks, report, tracebacks, mode.value)

            try:
                send()
            except Unsatisfiable:
                pass  # nothing to make invalid (an operation without parameters or body)
    report.admin_restored = keeper.restored
    return report


def probe_nul_characters(app: Flask, *, examples: int = 3) -> FuzzReport:
    """Generated requests that fit the document, each sent again once per string input with a NUL
    character in it: PostgreSQL stores no NUL, so every one must come back refused (4xx), not as a 500."""
    from hypothesis import HealthCheck, Phase, given, settings

    keeper = AdminKeeper(app.extensions["sessions"])
    report = FuzzReport()
    for operation in operations_of(app):
        report.operations += 1

        @settings(max_examples=examples, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def send(case):
            for where, container, key in _string_inputs(case):
                original = container[key]
                container[key] = f"{original}\x00" if original else "a\x00b"
                report.requests += 1
                try:
                    status = case.call(headers=keeper.headers()).status_code
                except Exception as error:  # escaped the app: a 500 for a real client
                    status = f"{type(error).__name__} at {_innermost_project_frame(error)}"
                finally:
                    container[key] = original
                if not isinstance(status, int) or status >= 500:
                    report.server_errors += 1
                    report.crashes.setdefault(f"{operation.label}: NUL in {where} {key!r}", f"answered {status}")

        send()
    report.admin_restored = keeper.restored
    return report


def _string_inputs(case) -> list[tuple[str, dict, str]]:
    """(location, the dict holding it, key) for each string among path, query and top-level body values."""
    found = []
    for where, values in (("path", case.path_parameters), ("query", case.query)):
        found += [(where, values, k) for k, v in (values or {}).items() if isinstance(v, str)]
    if isinstance(case.body, dict):
        found += [("body", case.body, k) for k, v in case.body.items() if isinstance(v, str)]
    return found


def _send_and_check(case, keeper: AdminKeeper, checks, report: FuzzReport, tracebacks: list[str], mode: str) -> None:
    label = case.operation.label
    tracebacks.clear()
    headers = keeper.headers()
    try:
        response = case.call(headers=headers)
    except Exception as error:  # the WSGI transport re-raises what escaped the app: a 500 for real clients
        report.server_errors += 1
        where = _innermost_project_frame(error)
        report.crashes.setdefault(f"{label}: {type(error).__name__} at {where} ({mode})",
                                   f"{error}\n{case.as_curl_command(headers={'Authorization': 'Bearer ...'})}")
        return
    if response.status_code >= 500:
        report.server_errors += 1
    try:
        case.validate_response(response, checks=checks, headers=headers)
    except BaseException as failures:  # schemathesis' FailureGroup is a BaseExceptionGroup
        if not isinstance(failures, BaseExceptionGroup):
            raise
        for failure in failures.exceptions:
            title = f"{label}: {getattr(failure, 'title', type(failure).__name__)} ({mode})"
            found = report.crashes if type(failure).__name__ == "ServerError" else report.violations
            found.setdefault(title, _example(failure, tracebacks))


def _keep_traceback(tracebacks: list[str]):
    def keep(_sender, exception, **_extra):
        tracebacks.append("".join(traceback.format_exception(exception))[-3000:])
    return keep


def _example(failure: BaseException, tracebacks: list[str]) -> str:
    text = getattr(failure, "message", None) or str(failure)
    return text[:2000] + ("\n" + tracebacks[-1] if tracebacks else "")


def _innermost_project_frame(error: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "/.venv/" not in f.filename
              and "site-packages" not in f.filename]
    return f"{'/'.join(frames[-1].filename.rsplit('/', 2)[-2:])}:{frames[-1].lineno}" if frames else "?"
