"""Setting a trust up in headless Chromium: a fresh install's first admin, made by ``manage.py create_trust``,
follows the printed link to set a password, adds an academy and its local governing board, and finds both in
the tree and in the audit log; the pages fit a phone's width."""

from __future__ import annotations

import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from playwright.sync_api import Page, expect

from conduct.models import AuditAction, AuditLogEntry, Organisation, Person
from conduct.organisations import organisation_rename
from conduct.tests.factories import PASSWORD, PersonFactory, RoleFactory, trust_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-long-and-unguessable-passphrase"
TRUST = "Oak Multi-Academy Trust"


def fits_the_width(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_new_trusts_admin_adds_an_academy_and_its_local_board(page: Page):
    out = StringIO()
    call_command(
        "create_trust", "--name", TRUST, "--admin-email", "ada@oak.example", "--admin-name", "Ada Lovelace", stdout=out
    )
    link = out.getvalue().strip().splitlines()[-1]

    # The admin follows the printed link, sets a password, and is signed in.
    page.goto(urlsplit(link).path)
    expect(page.get_by_role("heading", name="Set your password")).to_be_visible()
    page.get_by_label(re.compile(r"^\s*New password\W*$")).fill(NEW_PASSWORD)
    page.get_by_label("New password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # An academy under the trust: first with the trust board's name, which is refused and saves nothing.
    page.get_by_role("link", name="Organisations", exact=True).click()
    expect(page.get_by_role("heading", name="Organisations", level=1)).to_be_visible()
    page.get_by_role("link", name=f"Add under {TRUST}", exact=True).click()
    page.get_by_label("What are you adding?").select_option(label="School or academy")
    page.get_by_label("Name", exact=True).fill(f"{TRUST} Board")
    page.get_by_role("button", name="Add it").click()
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")  # focus moves to it
    summary.get_by_role("link", name=re.compile("already has an organisation called")).click()
    assert page.evaluate("document.activeElement.id") == "id_name"
    assert Organisation.objects.count() == 2
    page.get_by_label("Name", exact=True).fill("Oak West Academy")
    page.get_by_role("button", name="Add it").click()
    expect(page.get_by_role("status").get_by_text(f"Oak West Academy added under {TRUST}.")).to_be_visible()

    # Its local governing board, under the trust board.
    page.get_by_role("link", name=f"Add under {TRUST} Board", exact=True).click()
    page.get_by_label("What are you adding?").select_option(label="Board")
    page.get_by_label("Name", exact=True).fill("Oak West LGB")
    page.get_by_label("Which organisation does it govern?").select_option(
        label=f"Oak West Academy (school or academy, under {TRUST})"
    )
    page.get_by_role("button", name="Add it").click()
    expect(page.get_by_role("status").get_by_text(f"Oak West LGB added under {TRUST} Board.")).to_be_visible()

    # Both in the tree, with which governs which.
    academy = page.locator("#org-oak-west-academy")
    assert academy.locator(".fw-semibold").first.inner_text() == "Oak West Academy"
    expect(academy.get_by_text("Governed by Oak West LGB.")).to_be_visible()
    expect(page.locator("#org-oak-west-lgb").get_by_text("Governs Oak West Academy.")).to_be_visible()

    # Both in the audit log, newest first, with who did it.
    page.get_by_role("link", name=f"Audit log of {TRUST}").click()
    entries = page.get_by_role("list", name="Audit log entries, newest first").get_by_role("listitem")
    assert (
        entries.nth(0)
        .get_by_text(f"Added Oak West LGB (board) under {TRUST} Board, governing Oak West Academy.")
        .is_visible()
    )
    expect(entries.nth(0).get_by_text("Ada Lovelace")).to_be_visible()
    expect(entries.nth(1).get_by_text(f"Added Oak West Academy (school or academy) under {TRUST}.")).to_be_visible()
    expect(entries.get_by_text("the platform operator (command line)").first).to_be_visible()  # the first-run set-up

    admin = Person.objects.get(email="ada@oak.example")
    board = Organisation.objects.get(slug="oak-west-lgb")
    assert board.governs == Organisation.objects.get(slug="oak-west-academy")
    assert board.parent is not None and board.parent.name == f"{TRUST} Board"
    assert AuditLogEntry.objects.filter(action=AuditAction.ORGANISATION_CREATED, actor=admin).count() == 2


def test_the_organisations_pages_fit_a_phone(phone_page: Page, browser_login):
    tree = trust_tree("Oakwood Federation of Church of England Primary Academies")
    admin = PersonFactory.create()
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)  # mandatory verification
    RoleFactory.create(person=admin, organisation=tree["trust"], kind="admin")
    organisation_rename(by=admin, organisation=tree["north"], name="Oakwood Church of England Primary Academy North")
    browser_login(phone_page, admin.email, PASSWORD)
    slug = tree["trust"].slug
    for path in ("/organisations/", f"/organisations/{slug}/add/", f"/organisations/{slug}/audit-log/"):
        phone_page.goto(path)
        phone_page.wait_for_load_state("networkidle")
        expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
        assert fits_the_width(phone_page), path
    assert phone_page.get_by_text(
        "Renamed Oakwood Federation of Church of England Primary Academies North"
    ).is_visible()
    phone_page.goto(f"/organisations/{tree['north'].slug}/close/")
    assert phone_page.get_by_label("Closes on").is_visible() and fits_the_width(phone_page)
