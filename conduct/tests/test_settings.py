"""Settings come from the environment strictly, and production settings pass Django's deploy checks."""

import os
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_database, env_int, env_list, env_str, env_time, env_url

BASE_DIR = Path(__file__).resolve().parents[2]


def test_env_bool_accepts_the_usual_spellings_and_rejects_others():
    assert env_bool("X", False, environ={"X": "Yes"}) is True
    assert env_bool("X", True, environ={"X": "0"}) is False
    assert env_bool("X", True, environ={}) is True
    with pytest.raises(ImproperlyConfigured, match="X='maybe' is not a boolean"):
        env_bool("X", False, environ={"X": "maybe"})


def test_env_int_checks_type_and_bounds():
    assert env_int("N", 5, environ={"N": "12"}) == 12
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("N", 5, environ={"N": "12.5"})
    with pytest.raises(ImproperlyConfigured, match="above the maximum"):
        env_int("PORT", 8000, maximum=65535, environ={"PORT": "70000"})


def test_env_str_list_and_time():
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set"):
        env_str("SECRET_KEY", environ={})
    assert env_list("HOSTS", [], environ={"HOSTS": "a.example, b.example,,"}) == ["a.example", "b.example"]
    assert env_time("AT", time(7, 0), environ={"AT": "18:45"}) == time(18, 45)
    with pytest.raises(ImproperlyConfigured, match="HH:MM"):
        env_time("AT", time(7, 0), environ={"AT": "7pm"})


def test_database_url_uses_postgres_with_persistent_connections_or_sqlite():
    pg = env_database("DATABASE_URL", "", environ={"DATABASE_URL": "postgres://u:p@db.example:5432/conduct"})
    assert pg["ENGINE"] == "django.db.backends.postgresql" and pg["NAME"] == "conduct"
    assert pg["CONN_MAX_AGE"] == 600 and pg["CONN_HEALTH_CHECKS"] is True
    lite = env_database("DATABASE_URL", "sqlite:////tmp/x.sqlite3", environ={})
    assert lite["ENGINE"] == "django.db.backends.sqlite3"
    with pytest.raises(ImproperlyConfigured, match="must start with sqlite:// or postgres://"):
        env_database("DATABASE_URL", "", environ={"DATABASE_URL": "mysql://x/y"})


def test_env_url_wants_an_absolute_root_address():
    assert env_url("U", environ={"U": "https://conduct.example.org/"}) == "https://conduct.example.org"
    assert env_url("U", "http://127.0.0.1:8000", environ={}) == "http://127.0.0.1:8000"
    with pytest.raises(ImproperlyConfigured, match="U must be set"):
        env_url("U", environ={})
    with pytest.raises(ImproperlyConfigured, match="bad port"):
        env_url("U", environ={"U": "http://h:99999"})


def development_site_url(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "WEB_PORT", "PORT", "DJANGO_SETTINGS_MODULE"}}
    clean.update(DEBUG="1", SECRET_KEY="s" * 60, **env)
    result = subprocess.run(
        [sys.executable, "-c", "from config import settings; print(settings.SITE_URL)"],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_in_development_every_process_links_to_the_web_server_whatever_its_own_port():
    # honcho gives the worker PORT=8100; WEB_PORT (which `make run` exports) still names the web server.
    assert development_site_url(PORT="8100", WEB_PORT="8000") == "http://127.0.0.1:8000"
    assert development_site_url(PORT="8300") == "http://127.0.0.1:8300"
    assert development_site_url(PORT="8100", SITE_URL="http://localhost:9000") == "http://localhost:9000"


def test_psycopg3_is_the_postgresql_driver():
    import psycopg

    assert psycopg.__version__.startswith("3.")


def production_env(tmp_path, **overrides) -> dict:
    # A clean production environment: nothing the test process set for itself leaks in.
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY="x" * 10 + "Zq8!kP2@vR5#nM7$wL1%bT4^cY6&hJ9*eD3" + "abcdefghij",
        ALLOWED_HOSTS="conduct.example.org",
        DATABASE_URL="postgres://conduct@127.0.0.1:5432/conduct",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        EMAIL_HOST="smtp.example.org",
        SITE_URL="https://conduct.example.org",
        SEAL_KEY_FILE=str(tmp_path / "seal.key"),
        SEAL_CERT_FILE=str(tmp_path / "seal.crt"),
        EVIDENCE_KEY_FILE=str(tmp_path / "evidence.key"),
        VAR_DIR=str(tmp_path / "var"),
    )
    env.update(overrides)
    return env


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "at least 50"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must list"),
        ({"EMAIL_HOST": ""}, "EMAIL_HOST must be set"),
        ({"SITE_URL": ""}, "SITE_URL must be set to the public address of this site"),
        ({"SITE_URL": "conduct.example.org"}, "SITE_URL='conduct.example.org' is not an address"),
        ({"SITE_URL": "https://conduct.example.org/app?x=1"}, "must be the site's root address"),
        ({"CELERY_BROKER_URL": "amqp://x"}, "CELERY_BROKER_URL must be"),
        ({"DEBUG": "perhaps"}, "not a boolean"),
        ({"GOOGLE_CLIENT_ID": "abc"}, "GOOGLE_CLIENT_SECRET"),
        ({"REVIEW_WARNING_DAYS": "0"}, "REVIEW_WARNING_DAYS=0 is below the minimum of 1"),
        ({"REVIEW_WARNING_DAYS": "a month"}, "REVIEW_WARNING_DAYS='a month' is not a whole number"),
    ],
)
def test_production_settings_fail_loudly_on_bad_values(tmp_path, overrides, message):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=production_env(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr
