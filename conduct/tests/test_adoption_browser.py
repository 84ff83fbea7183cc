"""The yearly cycle in headless Chromium: the clerk drafts, the chair adopts, the certificate lists the changes,
and a governor who signed last year's version is shown what changed."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from acknowledgements.declarations import DeclarationData
from acknowledgements.models import Acknowledgement, Obligation
from acknowledgements.signing import acceptance_statement, acknowledgement_sign
from conduct.drafting import default_new_label
from conduct.models import Adoption, Clause, Code, Person
from core.request_meta import RequestMeta

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHANGED_FROM = "We will maintain confidentiality even after we leave office."
CHANGED_TO = "We will maintain confidentiality even after we leave the board, and return or destroy board papers."
NEW_CLAUSE = "We will use trust email accounts, not personal ones, for board business."


def sign_in(page, browser_login, email: str) -> None:
    page.context.clear_cookies()
    browser_login(page, email, "conduct-demo-2025")


def test_clerk_drafts_chair_adopts_certificate_lists_changes_governor_sees_them(demo, page, browser_login):
    code = Code.objects.get(slug="llt-governance-code-of-conduct")
    old = code.versions.get()
    governor = Person.objects.get(email="governor@llt.example")
    acknowledgement_sign(
        person=governor,
        version=old,
        typed_name=governor.full_name,
        statement=acceptance_statement(old),
        declaration=DeclarationData(nothing_to_declare=True),
        request_meta=RequestMeta(ip_address="192.0.2.1", user_agent="test"),
        issue_pdf=False,
    )

    # The clerk starts next year's draft from the governance code's history page.
    sign_in(page, browser_login, "clerk@llt.example")
    page.get_by_role("link", name="Governance", exact=True).click()
    page.get_by_role("table").get_by_role("link", name=code.title).click()
    page.get_by_role("link", name="Start next year's draft").click()
    page.get_by_role("button", name="Start the draft").click()
    # The draft is offered the current academic year (the demo's dates move with the day it is loaded).
    source = code.versions.get(status="adopted").label
    new = default_new_label(after=source)
    expect(page.get_by_text(f"Draft {new} started from {source}")).to_be_visible()

    # One changed clause…
    page.get_by_role("link", name=re.compile(r"^Edit clause 4 We will maintain confidentiality even after")).click()
    page.get_by_label("Text").fill(CHANGED_TO)
    page.get_by_label("New or updated in this version").check()
    page.get_by_role("button", name="Save the clause").click()
    expect(page.get_by_text("Clause saved.")).to_be_visible()
    expect(page.locator("ins", has_text="the board, and return or destroy board papers").first).to_be_visible()

    # …and one new clause after it.
    page.get_by_role("link", name=re.compile(r"^Add after clause 4 We will maintain confidentiality")).click()
    page.get_by_label("Text").fill(NEW_CLAUSE)
    page.get_by_label("Number").fill("5")
    page.get_by_label("Shown as").select_option("numbered")
    page.get_by_role("button", name="Save the clause").click()
    expect(page.get_by_text("Clause added.")).to_be_visible()
    expect(page.get_by_text("1 new clause, 1 reworded")).to_be_visible()
    draft = code.versions.get(status="draft")
    assert Clause.objects.filter(section__version=draft, text=NEW_CLAUSE, is_new=True).exists()

    # The chair adopts it for the board at a meeting, for every organisation below too.
    sign_in(page, browser_login, "chair@llt.example")
    page.goto(f"/codes/{code.slug}/history/")
    page.get_by_role("link", name=f"Adopt {new} for a board…").click()
    # The trust board's chair reaches the local boards below it too, so first the board is chosen.
    page.get_by_role("link", name=re.compile("^Leading Learners Trust Board")).click()
    expect(page.get_by_role("heading", name=re.compile("Leading Learners Trust Board adopts"))).to_be_visible()
    page.get_by_label("Minute reference").fill("LLT-TB-2026-06 item 7")
    page.get_by_label("Also adopt it for every organisation below").check()
    page.get_by_label("Chair's signature").fill("Helen Marsh")
    page.get_by_role("button", name=re.compile(f"^Adopt {new} for")).click()
    assert "people now owe a signature" in page.get_by_role("status").inner_text()
    adoption = Adoption.objects.get(version=draft)
    assert adoption.chair.email == "chair@llt.example" and not adoption.recorded_on_behalf
    assert adoption.minute_reference == "LLT-TB-2026-06 item 7" and adoption.includes_sub_organisations

    # The certificate downloads, and its text lists the changes.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the adoption certificate (PDF)").click()
    content = Path(download_info.value.path()).read_bytes()
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())
    assert "Changes since the previous version" in text
    assert "1 new clause, 1 reworded" in text
    assert "Reworded" in text and "return or destroy board papers" in text
    assert "New clause" in text and NEW_CLAUSE in text

    # The governor, who signed last year's version, now owes the new one and is shown what changed.
    assert Obligation.objects.filter(person=governor, version=old, acknowledged_at__isnull=False).exists()
    assert Acknowledgement.objects.filter(person=governor, version=old).exists()
    sign_in(page, browser_login, "governor@llt.example")
    page.goto("/my-codes/")
    to_sign = page.get_by_role("region", name="To sign")
    expect(to_sign.get_by_text(f"version {new}")).to_be_visible()
    to_sign.get_by_role("link", name=re.compile("^Read and sign")).first.click()
    changes = page.locator("#changes")
    expect(changes.get_by_role("heading", name=f"What changed since the version you signed ({source})")).to_be_visible()
    expect(changes.get_by_text("1 new clause, 1 reworded")).to_be_visible()
    expect(changes.locator("ins", has_text="the board, and return or destroy board papers").first).to_be_visible()
    expect(changes.get_by_text(NEW_CLAUSE).first).to_be_visible()


def test_the_draft_editor_and_adoption_form_work_on_a_phone(demo, phone_page, browser_login):
    code = Code.objects.get(slug="llt-governance-code-of-conduct")
    browser_login(phone_page, "clerk@llt.example", "conduct-demo-2025")
    phone_page.goto(f"/codes/{code.slug}/drafts/new/")
    phone_page.get_by_role("button", name="Start the draft").click()
    assert phone_page.get_by_role("heading", level=1).inner_text().startswith(code.title)
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # Keyboard: the first clause's edit link is reachable and opens the form.
    edit = phone_page.get_by_role("link", name=re.compile(r"^Edit clause")).first
    edit.focus()
    phone_page.keyboard.press("Enter")
    phone_page.wait_for_load_state("networkidle")
    expect(phone_page.get_by_label("Text")).to_be_visible()
    draft = code.versions.get(status="draft")
    phone_page.goto(f"/codes/{code.slug}/versions/{draft.pk}/adopt/llt-board/")
    expect(phone_page.get_by_label("Chair's signature")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
