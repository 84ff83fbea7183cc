"""allauth's rate limits hold across web workers and behind a proxy: a real gunicorn with several workers.

The server runs with the settings a deployment gets (no test overrides): the default cache (files under
VAR_DIR/cache, shared by every process of the host), TRUSTED_PROXY_COUNT=1 and a proxy's X-Forwarded-For.
Each worker serves one request and is replaced (--max-requests 1), so every request of a sequence is served
by a different process: a per-process count could never reach the limit.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.conf import settings

PASSWORD = "a-long-test-password-1"
PORTS = range(8600, 8650)
SETUP = f"""
from allauth.account.models import EmailAddress
from conduct.models import Person
for email in ("ada@example.org", "bob@example.org", "cy@example.org"):
    person = Person.objects.create_user(email=email, password={PASSWORD!r}, full_name=email.split("@")[0].title())
    EmailAddress.objects.create(user=person, email=email, primary=True, verified=True)
"""


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)):
                return port
    raise RuntimeError("no free port in 8600-8649")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A development install (database migrated, three accounts) in a folder of its own."""
    var = tmp_path_factory.mktemp("var")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CACHE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DEBUG="1", VAR_DIR=str(var), TRUSTED_PROXY_COUNT="1", DJANGO_SETTINGS_MODULE="config.settings")
    base = Path(settings.BASE_DIR)
    for command in (["-m", "config.prepare"], ["manage.py", "migrate", "-v0"], ["manage.py", "shell", "-c", SETUP]):
        subprocess.run([sys.executable, *command], cwd=base, env=env, check=True, capture_output=True)
    return var, env


@contextmanager
def gunicorn(prepared, *, max_requests: int = 0) -> Iterator[tuple[str, Path]]:
    var, env = prepared
    port = _free_port()
    log = var / f"access-{port}.log"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--preload",
            "--max-requests",
            str(max_requests),
            "--timeout",
            "300",
            "--access-logfile",
            str(log),
            "--access-logformat",
            "%(p)s %(m)s %(U)s %(s)s",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{url}/accounts/login/", timeout=300)
                break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=30)


class Browser:
    """One client behind the proxy: its own cookies, and the proxy's X-Forwarded-For naming its address."""

    def __init__(self, url: str, address: str):
        self.url, self.session = url, requests.Session()
        self.session.headers["X-Forwarded-For"] = address
        page = self.session.get(f"{url}/accounts/login/", timeout=300).text
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match, "the login page has a CSRF token"
        self.token = match.group(1)

    def sign_in(self, email: str, password: str) -> requests.Response:
        return self.session.post(
            f"{self.url}/accounts/login/",
            data={"login": email, "password": password, "csrfmiddlewaretoken": self.token},
            headers={"Referer": f"{self.url}/accounts/login/"},
            allow_redirects=False,
            timeout=300,
        )


def _login_posts_by_process(log: Path) -> list[str]:
    return [line.split()[0] for line in log.read_text().splitlines() if " POST /accounts/login/ " in line]


def test_five_wrong_passwords_lock_the_account_whichever_workers_served_them(prepared):
    # Each worker serves one request and is replaced, so every request below meets a different process.
    with gunicorn(prepared, max_requests=1) as (url, log):
        browser = Browser(url, "198.51.100.7")
        for _ in range(5):
            assert "password you specified are not correct" in browser.sign_in("ada@example.org", "wrong").text
        refused = browser.sign_in("ada@example.org", PASSWORD)
        assert "Too many failed login attempts" in refused.text and "sessionid" not in browser.session.cookies
        time.sleep(0.5)  # the access log is written after each response
    processes = _login_posts_by_process(log)
    assert len(processes) == 6 and len(set(processes)) == 6  # six processes, one count


def test_behind_the_proxy_one_clients_failures_do_not_lock_out_another(prepared):
    with gunicorn(prepared) as (url, _):
        attacker = Browser(url, "203.0.113.66")
        # allauth's per-address limit: 10 failed sign-ins a minute, whatever the account. Each check of a password
        # is slow on purpose (PBKDF2), so they are sent three at a time to stay within the minute; a count lost to
        # two workers writing at once only means sending a few more.
        with ThreadPoolExecutor(max_workers=3) as pool:
            for first in range(0, 30, 3):
                answers = list(
                    pool.map(
                        lambda n: attacker.sign_in(f"nobody{n}@example.org", "wrong").text, range(first, first + 3)
                    )
                )
                if any("Too many failed login attempts" in answer for answer in answers):
                    break
            else:
                pytest.fail("the attacker's address was never limited")
        refused = attacker.sign_in("cy@example.org", PASSWORD)
        assert "Too many failed login attempts" in refused.text and "sessionid" not in attacker.session.cookies
        colleague = Browser(url, "203.0.113.67")  # through the same proxy (same REMOTE_ADDR): another client
        response = colleague.sign_in("bob@example.org", PASSWORD)
        assert response.status_code == 302 and "sessionid" in colleague.session.cookies
