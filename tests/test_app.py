"""Configuration, start-up and the schema check, as an operator meets them."""
import html
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from accounts.models import Role
from app import create_app
from core.db import head_revision, make_engine
from inventory.examples import load_example_organisation
from tests.conftest import client_as

ROOT = Path(__file__).resolve().parent.parent


SCHEMA_NOT_CURRENT = "the database schema is not current: run `flask --app app db upgrade` (or `make run`) first"
SCHEMA_NOT_CURRENT_VI = ("cấu trúc cơ sở dữ liệu chưa được cập nhật: hãy chạy `flask --app app db upgrade` "
                         "(hoặc `make run`) trước")


@pytest.mark.parametrize("path", ["/api/units", "/sign-in", "/health"])
def test_an_unmigrated_database_gets_503_with_the_fix_and_nothing_about_the_database(tmp_path, caplog, path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x"})
    with caplog.at_level(logging.ERROR, logger="core.db"):
        response = app.test_client().get(path)
    if path == "/sign-in":  # a page: the same reason, drawn as a page, in the page's language (Vietnamese first)
        assert response.status_code == 503
        assert f'<p id="reason">{html.escape(SCHEMA_NOT_CURRENT_VI)}</p>' in response.get_data(as_text=True)
    else:
        assert (response.status_code, response.json) == (
            503, {"code": 503, "status": "Service Unavailable", "message": SCHEMA_NOT_CURRENT})
    assert str(tmp_path) not in response.get_data(as_text=True)
    # The operator finds the detail in the log.
    assert caplog.messages == [f"the database {url} is at schema revision none, the code needs {head_revision()}"]
    if path == "/sign-in":  # in English when asked
        english = app.test_client().get(path, query_string={"lang": "en"})
        assert english.status_code == 503
        assert f'<p id="reason">{html.escape(SCHEMA_NOT_CURRENT)}</p>' in english.get_data(as_text=True)


def test_python_app_py_refuses_to_start_on_an_unmigrated_database(tmp_path):
    environment = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "SECRET_KEY": "x",
                                "PORT": "0"}
    finished = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=environment, capture_output=True, text=True,
                              timeout=60)
    assert finished.returncode == 1
    assert f"refusing to start: {SCHEMA_NOT_CURRENT}" in finished.stderr
    assert f"the database sqlite:///{tmp_path / 'empty.sqlite3'} is at schema revision none" in finished.stderr


def test_flask_cli_migrates_and_seeds_once(tmp_path):
    environment = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "SECRET_KEY": "x"}

    def flask(*args):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=environment,
                              capture_output=True, text=True, timeout=120)

    assert flask("db", "upgrade").stdout.strip() == "database schema is current"
    first = flask("seed").stdout.splitlines()
    assert first[0] == "example organisation: 15 units loaded"
    assert first[1] == ("example catalog: 'Danh mục mẫu 2026' loaded and in force from 01/01/2026 (an example: adapt "
                        "it on the catalog page)")
    assert first[2] == ("scan scope 'lab': the lab's devices, scanned by the worker on the schedule 'every 1h' "
                        "(`python app.py --lab` polls it once at its first start)")
    assert first[3].startswith("first administrator: user name 'admin', password '")
    again = flask("seed").stdout.splitlines()
    assert again == ["example organisation: units already present, nothing loaded",
                     "example catalog: a catalog version exists, nothing loaded",
                     "administrator: already created; `flask --app app users password admin` sets a new password"]


def test_configuration_layers_environment_then_overrides(tmp_path, monkeypatch):
    # The environment is the real input here: the factory reads named variables from it.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    monkeypatch.setenv("MISSING_AFTER_SCANS", "5")
    app = create_app({"SECRET_KEY": "x", "SCAN_ALLOWLIST": "127.0.0.0/8"})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'env.sqlite3'}"
    assert (app.config["MISSING_AFTER_SCANS"], app.config["SCAN_ALLOWLIST"]) == (5, "127.0.0.0/8")
    assert create_app({"SECRET_KEY": "x", "MISSING_AFTER_SCANS": 2}).config["MISSING_AFTER_SCANS"] == 2


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_the_home_page_speaks_vietnamese_and_english_on_request(app, sessions, token_for):
    with sessions() as session, session.begin():
        load_example_organisation(session)
    client = client_as(app, token_for(Role.ADMIN))
    page = client.get("/").get_data(as_text=True)
    assert "Việc cần làm tiếp theo" in page and "15 đơn vị đang hoạt động, 0 thiết bị" in page
    english = client.get("/?lang=en")
    assert "What to do next" in english.get_data(as_text=True)
    assert client.get("/").get_data(as_text=True).count("What to do next") == 1  # the cookie remembers


def test_unknown_paths_are_404(anonymous):
    client = anonymous
    assert client.get("/api/nothing-here").json == {"code": 404, "status": "Not Found"}  # the API answers JSON
    page = client.get("/nothing-here?lang=en")  # and a page, a page
    assert (page.status_code, page.mimetype) == (404, "text/html")
    assert '<p id="reason">there is no such page</p>' in page.get_data(as_text=True)
