"""Importing in headless Chromium: a clerk uploads the trust's staff code as a Word document,
corrects one misread clause beside the document's text, and starts the new code's draft."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conduct.models import Clause, Code
from conduct.tests.importer_corpus import STAFF, seed_docx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TITLE = "ATT Staff Code of Conduct (imported)"


def test_a_clerk_imports_the_staff_code_corrects_a_clause_and_starts_the_draft(demo, page, browser_login):
    browser_login(page, "clerk@att.example", "conduct-demo-2025")
    page.get_by_role("link", name="Governance", exact=True).click()
    page.get_by_role("link", name="New code…").click()
    page.get_by_role("link", name="Import from a Word document").click()

    page.get_by_label("Owned by").select_option(label="ATT Multi-Academy Trust")
    page.get_by_label("Word document (.docx)").set_input_files(
        files=[{"name": "staff-code.docx", "mimeType": DOCX_TYPE, "buffer": seed_docx(STAFF)}]
    )
    page.get_by_role("button", name="Read the document").click()
    expect(page.get_by_role("heading", name="Check the imported text", level=1)).to_be_visible()
    expect(page.get_by_text("29 sections, 169 clauses")).to_be_visible()
    assert Code.objects.filter(title=TITLE).count() == 0  # nothing saved by reading

    # The vision's hashtag was typed as the end of its sentence: split it into a clause of its own.
    vision = page.locator("#c-1-2")
    assert vision.get_by_role("cell").first.inner_text().endswith("#TransformingLives")  # as read
    vision.get_by_role("link", name=re.compile(r"^Correct clause 2 of section 1")).click()
    page.get_by_label("Split before the words").fill("#TransformingLives")
    page.get_by_role("button", name="Split the clause").click()
    expect(page.get_by_text("Clause split in two.")).to_be_visible()
    expect(page.get_by_text("29 sections, 170 clauses")).to_be_visible()

    page.get_by_role("textbox", name=re.compile(r"^Title")).fill(TITLE)
    page.get_by_label("Employee", exact=True).check()
    page.get_by_role("button", name="Create the draft").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(TITLE)
    expect(page.get_by_text(f"{TITLE} created from staff-code.docx")).to_be_visible()

    code = Code.objects.get(title=TITLE)
    draft = code.versions.get()
    assert code.owner.slug == "att" and code.audience == ["employee"] and draft.status == "draft"
    clauses = list(Clause.objects.filter(section__version=draft).order_by("section__position", "position"))
    assert len(clauses) == 170
    assert clauses[1].text.endswith("top drawer education for our learners.")
    assert (clauses[2].text, clauses[2].style) == ("#TransformingLives", "paragraph")
