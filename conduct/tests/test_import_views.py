"""Importing a code's text on the web: read a Word document or pasted text, check it beside the
document, correct misread clauses, then create a new code's draft or replace a draft's text.
Nothing is saved before that, and only those who create or draft the code reach the pages."""

from __future__ import annotations

import re
from typing import Any

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve, reverse

from conduct import drafting, limits
from conduct.importer.cleaning import collapse
from conduct.importing import review_from_docx, review_from_text
from conduct.models import Clause, Code, CodeVersion, Organisation, Person, RoleKind, Section
from conduct.tests.factories import (
    CodeFactory,
    PersonFactory,
    RoleFactory,
    adopt,
    clause,
    make_version,
    simple_sections,
)
from conduct.tests.importer_corpus import SLUGS, compound_file, saved, seed_docx, seed_text, simple_docx
from conduct.views_importing import SESSION_KEY

pytestmark = pytest.mark.django_db

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PASTED = """Oak Trust Code of Conduct

# Our duties
We act fairly and honestly.
We keep records safe.

# Reporting
Report concerns to the safeguarding lead.
"""


def oak_docx() -> bytes:
    """A small code as an author writes it in Word, with a table the importer cannot place."""
    document = docx.Document()
    document.add_paragraph("Oak Trust Code of Conduct", style="Title")
    document.add_paragraph("Our duties", style="Heading 1")
    document.add_paragraph("We act fairly and honestly. We keep records safe.")
    document.add_paragraph("We will:")
    document.add_paragraph("Treat people with respect", style="List Bullet")
    document.add_paragraph("and listen to them.", style="List Bullet")
    document.add_paragraph("Trustees: We oversee the finances.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Contact", "dsl@oak.example"
    document.add_paragraph("Reporting", style="Heading 1")
    document.add_paragraph("Report concerns to the safeguarding lead.")
    return saved(document)


def upload(data: bytes, name: str = "oak-code.docx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=DOCX_TYPE)


def url(name: str, *args: Any) -> str:
    return reverse(f"conduct:{name}", args=args)


def import_id(response: Any) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return resolve(response["Location"]).kwargs["import_id"]


def clause_url(name: str, the_import: str, section: int, position: int) -> str:
    return url(name, the_import, section, position)


def content(version: CodeVersion) -> list[dict[str, Any]]:
    """A version's sections and clauses as saved, in the fixture format (with the "new" flag as saved)."""
    return [
        {
            "number": section.number,
            "title": section.title,
            "clauses": [
                clause(c.text, number=c.number, style=c.style, depth=c.depth, term=c.term, roles=c.roles, new=c.is_new)
                for c in section.clauses.order_by("position")
            ],
        }
        for section in Section.objects.filter(version=version).order_by("position")
    ]


def counts() -> tuple[int, int, int, int]:
    return Code.objects.count(), CodeVersion.objects.count(), Section.objects.count(), Clause.objects.count()


def stored_imports(client: Client) -> dict[str, Any]:
    return client.session.get(SESSION_KEY, {})


@pytest.fixture
def clerk(tree: dict[str, Organisation]) -> Person:
    """The trust board's clerk: drafts the trust's codes."""
    person = PersonFactory.create(full_name="Cara Clerk")
    RoleFactory.create(person=person, organisation=tree["board"], kind=RoleKind.CLERK)
    return person


@pytest.fixture
def clerk_client(client_for: Any, clerk: Person) -> Client:
    return client_for(clerk)


@pytest.fixture
def code(tree: dict[str, Organisation]) -> Code:
    return CodeFactory.create(owner=tree["trust"], title="Oak staff code", audience=["employee", "trustee"])


@pytest.fixture
def draft(code: Code, clerk: Person) -> CodeVersion:
    return make_version(code, sections=simple_sections(), created_by=clerk)


@pytest.fixture
def others(client_for: Any, tree: dict[str, Organisation], other_tree: dict[str, Organisation]) -> dict[str, Client]:
    """An officer of another trust, a signatory of this one, and someone signed out."""
    officer = PersonFactory.create()
    RoleFactory.create(person=officer, organisation=other_tree["board"], kind=RoleKind.CLERK)
    signatory = PersonFactory.create()
    RoleFactory.create(person=signatory, organisation=tree["north"], kind=RoleKind.EMPLOYEE)
    return {"other trust's officer": client_for(officer), "signatory": client_for(signatory), "anonymous": Client()}


# ---------------------------------------------------------------------------
# A new code from a Word document, corrected before it is saved
# ---------------------------------------------------------------------------


def test_a_word_document_is_read_corrected_and_becomes_a_new_codes_draft(clerk_client, clerk, tree):
    page = clerk_client.get(url("import_word")).content.decode()
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page and "Heading 1" in page
    before = counts()

    the_import = import_id(
        clerk_client.post(url("import_word"), {"owner": tree["trust"].pk, "document": upload(oak_docx())})
    )
    preview = clerk_client.get(url("import_preview", the_import)).content.decode()
    assert "Read from <strong>oak-code.docx</strong>: 2 sections, 6 clauses" in preview
    assert "We act fairly and honestly. We keep records safe." in preview
    assert "• Treat people with respect" in preview  # the line as read, beside the clause
    assert "Not placed: Contact | dsl@oak.example" in preview
    assert "Tables are not imported as clauses" in preview
    assert 'value="Oak Trust Code of Conduct"' in preview  # the title read is suggested…
    assert re.search(r'value="trustee"[^>]*checked', preview)  # …and the roles its clauses are limited to
    assert counts() == before

    # Two statements read as one: split before "We keep records".
    split = clause_url("import_clause_split", the_import, 1, 1)
    response = clerk_client.post(split, {"split-changes": 0, "split-before": "We keep records"})
    assert response["Location"] == url("import_preview", the_import) + "#c-1-1"
    # A list item that continues the one before: merge (now clause 5, after the split).
    merge = clause_url("import_clause_merge", the_import, 1, 5)
    assert clerk_client.post(merge, {"merge-changes": 1})["Location"].endswith("#c-1-4")
    # A clause that applies only to staff, new this year.
    mark = clause_url("import_clause_mark", the_import, 2, 1)
    assert (
        clerk_client.post(mark, {"mark-changes": 2, "mark-roles": ["employee"], "mark-is_new": "on"}).status_code == 302
    )
    preview = clerk_client.get(url("import_preview", the_import)).content.decode()
    assert "Treat people with respect and listen to them." in preview and "Employees only" in preview
    assert counts() == before  # corrections change only the preview

    response = clerk_client.post(
        url("import_create", the_import),
        {
            "title": "Oak Trust Code of Conduct",
            "label": "2026-2027",
            "audience": ["employee", "trustee"],
            "signing_due_days": "30",
        },
    )
    code = Code.objects.get(title="Oak Trust Code of Conduct")
    draft = code.versions.get()
    assert response["Location"] == url("draft_edit", code.slug, draft.pk)
    assert (code.owner, code.audience, draft.label, draft.created_by) == (
        tree["trust"],
        ["employee", "trustee"],
        "2026-2027",
        clerk,
    )
    assert content(draft) == [
        {
            "number": "",
            "title": "Our duties",
            "clauses": [
                clause("We act fairly and honestly."),
                clause("We keep records safe."),
                clause("We will:", style="subheading"),
                clause("Treat people with respect and listen to them.", style="bullet", depth=1),
                clause("Trustees: We oversee the finances.", roles=["trustee"]),
            ],
        },
        {
            "number": "",
            "title": "Reporting",
            "clauses": [clause("Report concerns to the safeguarding lead.", roles=["employee"], new=True)],
        },
    ]
    # The import is forgotten: sending the form again creates nothing more.
    assert the_import not in stored_imports(clerk_client)
    again = clerk_client.post(url("import_create", the_import), {"title": "Twice", "label": "2026-2027"})
    assert again.status_code == 404 and "This import is no longer available" in again.content.decode()
    assert Code.objects.filter(owner=tree["trust"]).count() == 1


def test_the_correction_page_shows_the_clause_beside_its_source(clerk_client, tree):
    the_import = import_id(
        clerk_client.post(url("import_word"), {"owner": tree["trust"].pk, "document": upload(oak_docx())})
    )
    page = clerk_client.get(clause_url("import_clause", the_import, 1, 4)).content.decode()
    assert "• and listen to them." in page and "Treat people with respect" in page  # the clause before it
    assert "Merge into the clause before" in page and "Split before the words" in page
    # For a new code, whose audience is chosen later, every role is offered.
    assert page.count('name="mark-roles"') == len(RoleKind.values)
    first = clerk_client.get(clause_url("import_clause", the_import, 1, 1)).content.decode()
    assert "there is no clause before it to merge into" in first
    assert clerk_client.get(clause_url("import_clause", the_import, 1, 9)).status_code == 404
    assert clerk_client.get(clause_url("import_clause", the_import, 3, 1)).status_code == 404


def test_corrections_that_cannot_be_made_are_refused_with_a_reason(clerk_client, tree):
    the_import = import_id(
        clerk_client.post(url("import_word"), {"owner": tree["trust"].pk, "document": upload(oak_docx())})
    )
    stored_before = stored_imports(clerk_client)[the_import]["review"]

    def refused(name: str, position: int, data: dict[str, Any], message: str) -> None:
        response = clerk_client.post(clause_url(name, the_import, 1, position), data)
        assert response.status_code == 400 and message in response.content.decode(), name
        assert stored_imports(clerk_client)[the_import]["review"] == stored_before

    refused("import_clause_merge", 1, {"merge-changes": 0}, "there is no clause before it to merge into")
    refused("import_clause_split", 1, {"split-changes": 0, "split-before": "We never"}, "is not in this clause")
    refused("import_clause_split", 1, {"split-changes": 0, "split-before": "We"}, "is in this clause 2 times")
    refused("import_clause_split", 1, {"split-changes": 0, "split-before": "We act"}, "already starts with these words")
    refused("import_clause_split", 1, {"split-changes": 0, "split-before": ""}, "Type the words the second clause")
    refused("import_clause_mark", 1, {"mark-changes": 0, "mark-roles": ["nobody"]}, "Select a valid choice")
    # A correction sent from a page shown before another tab's correction is not applied to the wrong clause.
    assert (
        clerk_client.post(clause_url("import_clause_merge", the_import, 1, 4), {"merge-changes": 0}).status_code == 302
    )
    stored_before = stored_imports(clerk_client)[the_import]["review"]
    refused("import_clause_merge", 4, {"merge-changes": 0}, "corrected in another tab or window")


def test_a_merge_over_the_clause_limit_is_refused(clerk_client, tree):
    long_text = "A" * (limits.MAX_CLAUSE_TEXT_CHARS - 10) + "."
    data = simple_docx(long_text, "And a second sentence that is long enough.")
    the_import = import_id(clerk_client.post(url("import_word"), {"owner": tree["trust"].pk, "document": upload(data)}))
    response = clerk_client.post(clause_url("import_clause_merge", the_import, 1, 2), {"merge-changes": 0})
    assert "Merged, the clause" in response.content.decode() and "the limit is 2,000" in response.content.decode()
    assert len(stored_imports(clerk_client)[the_import]["review"]["sections"][0]["clauses"]) == 2


def test_a_clause_limited_to_a_role_outside_the_audience_creates_nothing(clerk_client, tree):
    the_import = import_id(
        clerk_client.post(url("import_word"), {"owner": tree["trust"].pk, "document": upload(oak_docx())})
    )
    before = counts()
    response = clerk_client.post(
        url("import_create", the_import),
        {"title": "Oak staff code", "label": "2026-2027", "audience": ["employee"], "signing_due_days": "30"},
    )
    page = response.content.decode()
    assert response.status_code == 400 and "The draft was not created" in page
    # The message is the editor's own (ClauseContent.cleaned), naming the clause.
    assert "Section 1, clause 5 (“Trustees: We oversee the finances.”): Trustee do not sign Oak staff code" in page
    assert counts() == before  # the code created first was taken back with the refused text
    assert the_import in stored_imports(clerk_client)  # kept, to correct and try again


def test_the_new_code_form_needs_its_details(clerk_client, tree):
    the_import = import_id(
        clerk_client.post(url("import_word"), {"owner": tree["trust"].pk, "document": upload(oak_docx())})
    )
    before = counts()
    response = clerk_client.post(url("import_create", the_import), {"title": "", "label": "", "signing_due_days": "30"})
    page = response.content.decode()
    assert response.status_code == 400 and "Error: Check the imported text" in page
    assert 'href="#id_title"' in page and "Choose at least one role that must sign this code." in page
    assert counts() == before


@pytest.mark.parametrize("kind", ["docx", "text"])
@pytest.mark.parametrize("slug", SLUGS)
def test_every_clause_of_the_seed_codes_is_shown_beside_the_line_it_was_read_from(slug, kind):
    review = (
        review_from_docx(seed_docx(slug), name="code.docx") if kind == "docx" else review_from_text(seed_text(slug))
    )
    clauses = [item for row in review.rows() for item in row.clauses]
    assert clauses and all(item.read for item in clauses)
    for item in clauses:
        words = collapse(item.clause["text"].replace("*", "")).casefold()
        line = collapse(item.read.replace("*", "")).casefold()
        assert words in line or line.split(maxsplit=1)[-1] in words, (item.clause["text"], item.read)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"%PDF-1.7 a code", "code.docx", "This file is a PDF, not a Word document."),
        (compound_file("EncryptedPackage"), "code.docx", "This document is protected with a password"),
        (compound_file("WordDocument"), "code.doc", "This is a Word 97-2003 document (.doc)"),
        (b"Just some text", "code.txt", "This file is not a Word document (.docx)."),
        (b"PK\x03\x04 broken", "code.docx", "The file is damaged or incomplete"),
        (b"", "empty.docx", "The file is empty."),
    ],
)
def test_a_bad_file_is_refused_with_the_reason_and_nothing_is_kept(clerk_client, tree, data, name, message):
    before = counts()
    response = clerk_client.post(url("import_word"), {"owner": tree["trust"].pk, "document": upload(data, name)})
    page = response.content.decode()
    assert response.status_code == 400 and message in page and "The text was not read" in page
    assert counts() == before and stored_imports(clerk_client) == {}


def test_a_file_over_the_upload_limit_is_refused_before_it_is_read(clerk_client, tree, monkeypatch):
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the importer was given a file over the limit")

    monkeypatch.setattr("conduct.importing.code_import_docx", never)
    big = upload(b"PK\x03\x04" + bytes(limits.MAX_UPLOAD_BYTES))
    response = clerk_client.post(url("import_word"), {"owner": tree["trust"].pk, "document": big})
    assert "The file is 5.0 MB; the limit is 5 MB." in response.content.decode()
    assert stored_imports(clerk_client) == {}


def test_pasted_text_over_the_limit_and_text_with_no_clauses_are_refused(clerk_client, tree):
    too_long = "x" * (limits.MAX_PASTED_TEXT_CHARS + 1)
    response = clerk_client.post(url("import_text"), {"owner": tree["trust"].pk, "text": too_long})
    assert "The text is 400,001 characters long; the limit is 400,000." in response.content.decode()
    response = clerk_client.post(url("import_text"), {"owner": tree["trust"].pk, "text": "   \n  \n"})
    assert "No text to import was found in the document." in response.content.decode()
    assert stored_imports(clerk_client) == {}


def test_a_stale_or_made_up_import_id_says_so(clerk_client):
    response = clerk_client.get(url("import_preview", "no-such-import"))
    assert response.status_code == 404 and "This import is no longer available" in response.content.decode()
    response = clerk_client.post(clause_url("import_clause_merge", "no-such-import", 1, 2), {"merge-changes": 0})
    assert response.status_code == 404


def test_only_the_newest_imports_are_kept(clerk_client, tree):
    ids = [
        import_id(clerk_client.post(url("import_text"), {"owner": tree["trust"].pk, "text": PASTED})) for _ in range(4)
    ]
    assert list(stored_imports(clerk_client)) == ids[1:]
    assert clerk_client.get(url("import_preview", ids[0])).status_code == 404
    assert clerk_client.get(url("import_preview", ids[3])).status_code == 200


# ---------------------------------------------------------------------------
# Replacing a draft's text
# ---------------------------------------------------------------------------


def test_pasted_text_replaces_a_drafts_text(clerk_client, clerk, draft):
    editor = clerk_client.get(url("draft_edit", draft.code.slug, draft.pk)).content.decode()
    assert url("draft_import_word", draft.code.slug, draft.pk) in editor
    assert url("draft_import_text", draft.code.slug, draft.pk) in editor
    before = counts()
    response = clerk_client.post(
        url("draft_import_text", draft.code.slug, draft.pk), {"revision": draft.revision, "text": PASTED}
    )
    the_import = import_id(response)
    preview = clerk_client.get(url("import_preview", the_import)).content.decode()
    assert "Read from <strong>Pasted text</strong>: 2 sections, 3 clauses" in preview
    assert "now has 2 sections and 10 clauses" in preview and "Replace this draft's text" in preview
    assert "# Our duties" in preview  # the heading's line as pasted
    # Clauses may be limited only to roles that sign this code.
    page = clerk_client.get(clause_url("import_clause", the_import, 1, 2)).content.decode()
    assert page.count('name="mark-roles"') == 2
    assert counts() == before

    revision = draft.revision
    response = clerk_client.post(url("import_replace", the_import), {"revision": revision})
    assert response["Location"] == url("draft_edit", draft.code.slug, draft.pk)
    draft.refresh_from_db()
    assert draft.revision == revision + 1 and draft.updated_by == clerk
    assert content(draft) == [
        {
            "number": "",
            "title": "Our duties",
            "clauses": [clause("We act fairly and honestly."), clause("We keep records safe.")],
        },
        {"number": "", "title": "Reporting", "clauses": [clause("Report concerns to the safeguarding lead.")]},
    ]
    assert the_import not in stored_imports(clerk_client)


def test_replacing_a_draft_that_changed_since_the_import_is_refused(clerk_client, clerk, draft):
    response = clerk_client.post(
        url("draft_import_word", draft.code.slug, draft.pk),
        {"revision": draft.revision, "document": upload(oak_docx())},
    )
    the_import = import_id(response)
    started_at = draft.revision
    # Someone else edits the draft meanwhile.
    drafting.section_add(
        version=draft, revision=draft.revision, by=PersonFactory.create(full_name="Eve Editor"), title="Late"
    )
    saved_before = content(draft)

    response = clerk_client.post(url("import_replace", the_import), {"revision": started_at})
    page = response.content.decode()
    assert response.status_code == 400 and "The draft's text was not replaced" in page
    assert "Eve Editor saved a change to this draft" in page and "nothing was overwritten" in page
    assert content(draft) == saved_before
    # The form now carries the revision saved, so replacing anyway is a deliberate second click.
    assert f'name="revision" value="{started_at + 1}"' in page
    assert clerk_client.post(url("import_replace", the_import), {"revision": started_at + 1}).status_code == 302
    assert [section["title"] for section in content(draft)] == ["Our duties", "Reporting"]


def test_an_adopted_draft_cannot_be_replaced(clerk_client, draft, tree):
    the_import = import_id(
        clerk_client.post(
            url("draft_import_text", draft.code.slug, draft.pk), {"revision": draft.revision, "text": PASTED}
        )
    )
    adopt(draft, tree["board"])
    response = clerk_client.post(url("import_replace", the_import), {"revision": draft.revision})
    assert response.status_code == 302 and response["Location"] == draft.get_absolute_url()
    assert [section["title"] for section in content(draft)] == ["Duties", "Appendix"]


# ---------------------------------------------------------------------------
# Who may import
# ---------------------------------------------------------------------------


def test_only_those_who_create_or_draft_the_code_reach_the_import_pages(clerk_client, tree, draft, others):
    new_code = import_id(clerk_client.post(url("import_text"), {"owner": tree["trust"].pk, "text": PASTED}))
    for_draft = import_id(
        clerk_client.post(
            url("draft_import_text", draft.code.slug, draft.pk), {"revision": draft.revision, "text": PASTED}
        )
    )
    before = counts()
    for who, client in others.items():
        pages = [
            url("draft_import_word", draft.code.slug, draft.pk),
            url("draft_import_text", draft.code.slug, draft.pk),
            *(
                url(name, the_import)
                for name in ("import_preview", "import_create", "import_replace")
                for the_import in (new_code, for_draft)
            ),
            clause_url("import_clause", new_code, 1, 1),
        ]
        for page in pages:
            get, post = client.get(page), client.post(page, {"revision": draft.revision, "merge-changes": 0})
            for response in (get, post):
                if who == "anonymous":
                    assert response.status_code == 302 and "/accounts/login/" in response["Location"], page
                else:
                    assert response.status_code in (404, 405), (who, page, response.status_code)
        merged = client.post(clause_url("import_clause_merge", new_code, 1, 2), {"merge-changes": 0})
        assert merged.status_code in (302, 404) and (who == "anonymous") == (merged.status_code == 302)
    # Another trust's officer may import codes for their own trust, but cannot name this one.
    officer = others["other trust's officer"]
    response = officer.post(url("import_text"), {"owner": tree["trust"].pk, "text": PASTED})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    # A signatory creates no codes anywhere.
    assert others["signatory"].get(url("import_word")).status_code == 404
    assert counts() == before
    assert len(stored_imports(clerk_client)[new_code]["review"]["sections"][0]["clauses"]) == 2


def test_an_import_is_refused_once_its_author_no_longer_drafts_there(clerk_client, clerk, tree):
    the_import = import_id(clerk_client.post(url("import_text"), {"owner": tree["trust"].pk, "text": PASTED}))
    clerk.roles.update(ends_on="2021-01-01")
    assert clerk_client.get(url("import_preview", the_import)).status_code == 404


# ---------------------------------------------------------------------------
# The drafting forms' limits (conduct.limits)
# ---------------------------------------------------------------------------


def test_the_section_and_clause_forms_refuse_text_over_the_limits(clerk_client, draft):
    slug, before, revision = draft.code.slug, counts(), draft.revision
    section = Section.objects.filter(version=draft).order_by("position").first()
    assert section is not None
    clause_data = {"revision": revision, "style": "paragraph", "depth": "0"}

    response = clerk_client.post(url("clause_add", slug, draft.pk, section.pk), {**clause_data, "text": "w" * 2_001})
    assert (
        "The clause is 2,001 characters long; the limit is 2,000. Split it into two clauses"
        in response.content.decode()
    )
    assert 'maxlength="2000"' not in response.content.decode()  # a browser would cut pasted text short unseen
    existing = section.clauses.order_by("position").first()
    assert existing is not None
    response = clerk_client.post(url("clause_edit", slug, draft.pk, existing.pk), {**clause_data, "text": "w" * 2_500})
    assert "The clause is 2,500 characters long" in response.content.decode()
    response = clerk_client.post(url("section_add", slug, draft.pk), {"revision": revision, "title": "H" * 201})
    assert "The heading is 201 characters long; the limit is 200." in response.content.decode()
    response = clerk_client.post(
        url("section_edit", slug, draft.pk, section.pk), {"revision": revision, "title": "H" * 250}
    )
    assert "The heading is 250 characters long" in response.content.decode()

    draft.refresh_from_db()
    existing.refresh_from_db()
    section.refresh_from_db()
    assert counts() == before and draft.revision == revision
    assert existing.text != "w" * 2_500 and section.title == "Duties"
    # At the limit, both are saved.
    assert (
        clerk_client.post(
            url("clause_add", slug, draft.pk, section.pk), {**clause_data, "text": "w" * 2_000}
        ).status_code
        == 302
    )
