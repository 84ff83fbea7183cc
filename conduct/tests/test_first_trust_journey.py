"""A trust starts on its own, in headless Chromium, end to end: the operator runs ``create_trust`` on a fresh
install; the trust's first admin sets a password from the printed link, adds an academy and its local governing
board; the trust board's clerk imports the staff code from a Word document, corrects one misread clause in the
preview and starts the draft. Each step's own page tests live beside their features; this is the whole path."""

from __future__ import annotations

import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from playwright.sync_api import Browser, FilePayload, Page, expect

from conduct.models import Clause, Code, Organisation, OrganisationKind
from conduct.tests.factories import PASSWORD, PersonFactory, RoleFactory
from conduct.tests.importer_corpus import STAFF, seed_docx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRUST = "Ash Learning Trust"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _admin_sets_up_the_trust(page: Page, link: str) -> None:
    page.goto(urlsplit(link).path)
    page.get_by_label(re.compile(r"^\s*New password\W*$")).fill("a-long-and-unguessable-passphrase")
    page.get_by_label("New password (again)").fill("a-long-and-unguessable-passphrase")
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Organisations", exact=True).click()
    page.get_by_role("link", name=f"Add under {TRUST}", exact=True).click()
    page.get_by_label("What are you adding?").select_option(label="School or academy")
    page.get_by_label("Name", exact=True).fill("Ash Grove Academy")
    page.get_by_role("button", name="Add it").click()
    expect(page.get_by_role("status").get_by_text(f"Ash Grove Academy added under {TRUST}.")).to_be_visible()
    page.get_by_role("link", name=f"Add under {TRUST} Board", exact=True).click()
    page.get_by_label("What are you adding?").select_option(label="Board")
    page.get_by_label("Name", exact=True).fill("Ash Grove LGB")
    page.get_by_label("Which organisation does it govern?").select_option(
        label=f"Ash Grove Academy (school or academy, under {TRUST})"
    )
    page.get_by_role("button", name="Add it").click()
    expect(page.get_by_role("status").get_by_text(f"Ash Grove LGB added under {TRUST} Board.")).to_be_visible()


def _clerk_imports_the_staff_code(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Governance", exact=True).click()
    page.get_by_role("link", name="New code…").click()
    page.get_by_role("link", name="Import from a Word document").click()
    page.get_by_label("Owned by").select_option(label=TRUST)
    page.get_by_label("Word document (.docx)").set_input_files(
        files=[FilePayload(name="ash-staff-code.docx", mimeType=DOCX_TYPE, buffer=seed_docx(STAFF))]
    )
    page.get_by_role("button", name="Read the document").click()
    expect(page.get_by_text("29 sections, 169 clauses")).to_be_visible()
    # The vision's hashtag was read as the end of its sentence: split it off in the preview.
    page.locator("#c-1-2").get_by_role("link", name=re.compile(r"^Correct clause 2 of section 1")).click()
    page.get_by_label("Split before the words").fill("#TransformingLives")
    page.get_by_role("button", name="Split the clause").click()
    expect(page.get_by_text("29 sections, 170 clauses")).to_be_visible()
    page.get_by_role("textbox", name=re.compile(r"^Title")).fill("Ash staff code of conduct")
    page.get_by_label("Employee", exact=True).check()
    page.get_by_role("button", name="Create the draft").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Ash staff code of conduct")


def test_a_new_trust_sets_itself_up_and_imports_its_code(browser: Browser, live_server, page: Page):
    out = StringIO()
    call_command(
        "create_trust", "--name", TRUST, "--admin-email", "head@ash.example", "--admin-name", "Ash Head", stdout=out
    )
    _admin_sets_up_the_trust(page, out.getvalue().strip().splitlines()[-1])

    # The trust board's clerk (adding people is the People pages' business; here the role is given directly).
    board = Organisation.objects.get(name=f"{TRUST} Board", kind=OrganisationKind.BOARD)
    clerk = PersonFactory.create(email="clerk@ash.example")
    EmailAddress.objects.create(user=clerk, email=clerk.email, verified=True, primary=True)
    RoleFactory.create(person=clerk, organisation=board, kind="clerk")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    try:
        _clerk_imports_the_staff_code(context.new_page(), clerk.email)
    finally:
        context.close()

    academy = Organisation.objects.get(name="Ash Grove Academy")
    assert Organisation.objects.get(name="Ash Grove LGB").governs == academy
    code = Code.objects.get(title="Ash staff code of conduct")
    draft = code.versions.get()
    assert code.owner.name == TRUST and draft.status == "draft" and draft.created_by == clerk
    clauses = list(Clause.objects.filter(section__version=draft).order_by("section__position", "position"))
    assert len(clauses) == 170 and clauses[2].text == "#TransformingLives"
