"""Fixtures shared by every app's tests: people, an authenticated client, the demo data, a real browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from conduct.tests.factories import PASSWORD, PersonFactory, trust_tree
from devtools.demo_conduct import demo_load

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    # allauth's rate limits and the rendered texts live in the cache; database ids are reused between tests
    # (SQLite), so no test may read what another left there.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def person(db):
    return PersonFactory.create()


@pytest.fixture
def client_for(db) -> Callable[..., Client]:
    """A test client signed in as the given person."""

    def make(person) -> Client:
        client = Client()
        client.force_login(person)
        return client

    return make


@pytest.fixture
def tree(db):
    return trust_tree("Oak Trust")


@pytest.fixture
def other_tree(db):
    return trust_tree("Elm Trust")


@pytest.fixture
def demo(db):

    demo_load()


@pytest.fixture
def password() -> str:
    return PASSWORD


# ---------------------------------------------------------------------------
# Real browser (Debian's chromium driven by Playwright; never downloads a browser)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt install chromium); CI installs it")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
    # body are still synchronous, so allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        accept_downloads=True,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def browser_login():
    """Sign in through the real sign-in form."""

    def login(page, email: str, password: str = PASSWORD) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_load_state("networkidle")

    return login
