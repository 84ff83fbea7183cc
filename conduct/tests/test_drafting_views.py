"""The drafting pages: start, edit, preview, compare, conflicts, and who may see them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conduct import drafting
from conduct.models import Clause, Code, CodeVersion, Person, Section
from conduct.services import version_content_as_data
from conduct.tests.factories import adopt, make_version
from core.academic_year import academic_year_start, version_label

pytestmark = pytest.mark.django_db

LLT_CODE = "llt-governance-code-of-conduct"


def person(email: str) -> Person:
    return Person.objects.get(email=email)


@pytest.fixture
def code(demo) -> Code:
    return Code.objects.get(slug=LLT_CODE)


@pytest.fixture
def clerk(client_for):
    return client_for(person("clerk@llt.example"))


@pytest.fixture
def draft(code) -> CodeVersion:
    return drafting.draft_start(code=code, created_by=person("clerk@llt.example"))


def url(name: str, *args) -> str:
    return reverse(f"conduct:{name}", args=args)


def first_clause(version: CodeVersion) -> Clause:
    return version.ordered_sections()[0].clauses.all()[0]


def test_starting_a_draft_copies_the_current_version(code, clerk):
    # Offered the current academic year's label ("2026-2027" in December 2026), not the year after the old one's.
    this_year = version_label(academic_year_start(timezone.localdate()))
    page = clerk.get(url("draft_start", LLT_CODE)).content.decode()
    assert f'value="{this_year}"' in page and "starts as a copy of" in page
    response = clerk.post(url("draft_start", LLT_CODE), {"label": this_year})
    draft = code.versions.get(status="draft")
    assert response.status_code == 302 and response["Location"] == url("draft_edit", LLT_CODE, draft.pk)
    assert draft.based_on == code.versions.get(label="2024-2025") and draft.created_by == person("clerk@llt.example")
    # A second start goes to the draft in progress instead of making another.
    again = clerk.get(url("draft_start", LLT_CODE))
    assert (
        again["Location"] == url("draft_edit", LLT_CODE, draft.pk) and code.versions.filter(status="draft").count() == 1
    )


def test_a_label_in_use_is_refused_on_the_form(code, clerk):
    response = clerk.post(url("draft_start", LLT_CODE), {"label": "2024-2025"})
    assert response.status_code == 400 and "already has a version labelled 2024-2025" in response.content.decode()
    assert not code.versions.filter(status="draft").exists()


def test_the_editor_shows_every_clause_with_actions_and_changes(draft, clerk):
    clause = first_clause(draft)
    drafting.clause_update(
        clause=clause,
        revision=draft.revision,
        by=person("clerk@llt.example"),
        content=drafting.ClauseContent(text=clause.text + " Always.", is_new=False),
    )
    page = clerk.get(url("draft_edit", LLT_CODE, draft.pk)).content.decode()
    assert page.count('class="draft-clause') == Clause.objects.filter(section__version=draft).count()
    assert "Changes since 2024-2025" in page and "1 reworded" in page
    assert "1 changed clause not marked “new or updated”" in page
    assert "<ins> Always.</ins>" in page
    assert "Trustees only" in page and "Local governors only" in page
    assert url("clause_edit", LLT_CODE, draft.pk, clause.pk) in page


def test_the_editor_takes_a_fixed_number_of_queries(code, clerk):
    small = drafting.code_create(
        owner=code.owner,
        details=drafting.CodeDetails(title="Small", audience=["trustee"]),
        created_by=person("clerk@llt.example"),
    )
    drafting.section_add(version=small, revision=small.revision, by=person("clerk@llt.example"), title="Only")
    big = drafting.draft_start(code=code, created_by=person("clerk@llt.example"))

    def count(version):
        with CaptureQueriesContext(connection) as ctx:
            assert clerk.get(url("draft_edit", version.code.slug, version.pk)).status_code == 200
        return len(ctx.captured_queries)

    # The big draft is compared with the version it came from (the diff's 4 queries); the small one,
    # drafted from nothing, makes the one query that looks for an earlier adopted version to compare with.
    assert count(big) == count(small) - 1 + 4


def test_editing_a_clause_through_the_form(draft, clerk):
    clause = first_clause(draft)
    edit = url("clause_edit", LLT_CODE, draft.pk, clause.pk)
    page = clerk.get(edit).content.decode()
    assert "In 2024-2025 it read" in page and clause.text in page
    response = clerk.post(
        edit,
        {
            "revision": draft.revision,
            "text": "A clearer first statement.",
            "term": "",
            "number": "",
            "style": "paragraph",
            "depth": "0",
            "roles": ["trustee"],
            "is_new": "on",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith(f"#c-{clause.key}")
    clause.refresh_from_db()
    assert (clause.text, clause.roles, clause.is_new) == ("A clearer first statement.", ["trustee"], True)
    assert CodeVersion.objects.get(pk=draft.pk).revision == draft.revision + 1


def test_a_clause_cannot_be_limited_to_a_role_that_does_not_sign_the_code(draft, clerk):
    clause = first_clause(draft)
    response = clerk.post(
        url("clause_edit", LLT_CODE, draft.pk, clause.pk),
        {
            "revision": draft.revision,
            "text": "x",
            "style": "paragraph",
            "depth": "0",
            "roles": ["employee"],
        },
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    clause.refresh_from_db()
    assert clause.text != "x"


def test_adding_a_clause_after_another(draft, clerk):
    section = draft.ordered_sections()[1]
    after = section.clauses.all()[0]
    add = url("clause_add", LLT_CODE, draft.pk, section.pk)
    assert 'name="is_new" checked' in clerk.get(add + f"?after={after.pk}").content.decode().replace(
        'class="checkboxinput form-check-input" ', ""
    ).replace(' id="id_is_new"', "")
    clerk.post(
        add,
        {
            "revision": draft.revision,
            "after": after.pk,
            "text": "Kindness.",
            "style": "bullet",
            "depth": "1",
            "is_new": "on",
        },
    )
    texts = [c.text for c in Section.objects.get(pk=section.pk).clauses.order_by("position")]
    assert texts[1] == "Kindness."
    new = Clause.objects.get(text="Kindness.")
    assert new.is_new and new.style == "bullet" and new.depth == 1


def test_an_empty_clause_is_refused_with_a_message(draft, clerk):
    section = draft.ordered_sections()[0]
    before = Clause.objects.filter(section=section).count()
    response = clerk.post(
        url("clause_add", LLT_CODE, draft.pk, section.pk),
        {"revision": draft.revision, "text": "  ", "style": "paragraph", "depth": "0"},
    )
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert Clause.objects.filter(section=section).count() == before


def test_two_people_editing_the_same_draft_get_a_conflict_not_a_silent_overwrite(draft, clerk, client_for):
    admin = client_for(person("admin@llt.example"))
    clause = first_clause(draft)
    edit = url("clause_edit", LLT_CODE, draft.pk, clause.pk)
    opened = draft.revision  # both opened the edit page at this revision
    fields = {"style": "paragraph", "depth": "0", "term": "", "number": ""}
    admin.post(edit, {**fields, "revision": opened, "text": "The admin's wording."})
    response = clerk.post(edit, {**fields, "revision": opened, "text": "The clerk's wording."})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Mark Ellison saved a change to this draft" in page and "nothing was overwritten" in page
    assert "The admin&#x27;s wording." in page  # what is saved now, shown beside the clerk's own
    assert "The clerk&#x27;s wording." in page
    clause.refresh_from_db()
    assert clause.text == "The admin's wording."
    # The form now carries the current revision, so saving again is a deliberate choice and works.
    current = CodeVersion.objects.get(pk=draft.pk).revision
    assert f'name="revision" value="{current}"' in page
    clerk.post(edit, {**fields, "revision": current, "text": "The clerk's wording."})
    clause.refresh_from_db()
    assert clause.text == "The clerk's wording."


def test_a_stale_move_is_refused_with_a_message(draft, clerk):
    clause = draft.ordered_sections()[1].clauses.all()[1]
    response = clerk.post(
        url("clause_move", LLT_CODE, draft.pk, clause.pk),
        {"revision": draft.revision - 1 or 99, "direction": "up"},
        follow=True,
    )
    assert "saved a change to this draft" in response.content.decode()
    assert Clause.objects.get(pk=clause.pk).position == clause.position


def test_moving_clauses_and_sections(draft, clerk):
    sections = draft.ordered_sections()
    clause = sections[1].clauses.all()[1]
    clerk.post(url("clause_move", LLT_CODE, draft.pk, clause.pk), {"revision": draft.revision, "direction": "up"})
    assert Clause.objects.get(pk=clause.pk).position == 1
    clerk.post(
        url("section_move", LLT_CODE, draft.pk, sections[2].pk), {"revision": draft.revision + 1, "direction": "up"}
    )
    assert Section.objects.get(pk=sections[2].pk).position == 2
    clerk.post(
        url("clause_move", LLT_CODE, draft.pk, clause.pk),
        {"revision": draft.revision + 2, "to_section": sections[0].pk},
    )
    assert Clause.objects.get(pk=clause.pk).section_id == sections[0].pk


def test_removing_a_clause_and_a_section_after_confirming(draft, clerk):
    section = draft.ordered_sections()[-1]
    clause = section.clauses.all()[0]
    confirm = clerk.get(url("clause_remove", LLT_CODE, draft.pk, clause.pk)).content.decode()
    assert "Remove this clause?" in confirm and clause.text in confirm
    clerk.post(url("clause_remove", LLT_CODE, draft.pk, clause.pk), {"revision": draft.revision})
    assert not Clause.objects.filter(pk=clause.pk).exists()
    clerk.post(url("section_remove", LLT_CODE, draft.pk, section.pk), {"revision": draft.revision + 1})
    assert not Section.objects.filter(pk=section.pk).exists()


def test_adding_and_renaming_sections(draft, clerk):
    clerk.post(
        url("section_add", LLT_CODE, draft.pk), {"revision": draft.revision, "number": "", "title": "Social media"}
    )
    section = Section.objects.get(version=draft, title="Social media")
    assert section.position == Section.objects.filter(version=draft).count()
    clerk.post(
        url("section_edit", LLT_CODE, draft.pk, section.pk),
        {"revision": draft.revision + 1, "number": "9", "title": "Online conduct"},
    )
    section.refresh_from_db()
    assert (section.number, section.title) == ("9", "Online conduct")
    response = clerk.post(
        url("section_add", LLT_CODE, draft.pk), {"revision": draft.revision + 2, "number": "", "title": ""}
    )
    assert "Give the section a heading or a number." in response.content.decode()


def test_renaming_and_discarding_the_draft(draft, clerk):
    clerk.post(
        url("draft_details", LLT_CODE, draft.pk), {"revision": draft.revision, "label": "2025-2026 (consultation)"}
    )
    assert CodeVersion.objects.get(pk=draft.pk).label == "2025-2026 (consultation)"
    response = clerk.post(url("draft_discard", LLT_CODE, draft.pk), {"revision": draft.revision + 1})
    assert response["Location"] == url("code_history", LLT_CODE)
    assert not CodeVersion.objects.filter(pk=draft.pk).exists()


def test_the_preview_shows_the_text_as_each_role_sees_it(draft, clerk):
    everyone = clerk.get(url("draft_preview", LLT_CODE, draft.pk)).content.decode()
    trustee = clerk.get(url("draft_preview", LLT_CODE, draft.pk) + "?as=trustee").content.decode()
    governor = clerk.get(url("draft_preview", LLT_CODE, draft.pk) + "?as=local_governor").content.decode()
    trustee_only = "Trustees: We agree to follow the charity governance code"
    local_only = "Those governing at local level: We will act as the local ambassadors for our trust."
    assert trustee_only in everyone and local_only in everyone
    assert trustee_only in trustee and local_only not in trustee
    assert local_only in governor and trustee_only not in governor
    assert "Shown as a local governor will see it" in governor


def test_an_adopted_version_is_not_editable(code, clerk):
    current = code.versions.get()
    response = clerk.get(url("draft_edit", LLT_CODE, current.pk))
    assert response.status_code == 302 and response["Location"] == current.get_absolute_url()
    clause = first_clause(current)
    clerk.post(
        url("clause_edit", LLT_CODE, current.pk, clause.pk),
        {"revision": current.revision, "text": "Changed.", "style": "paragraph", "depth": "0"},
    )
    clause.refresh_from_db()
    assert clause.text != "Changed."


def test_drafts_are_invisible_to_signatories(draft, client_for):
    governor = client_for(person("governor@llt.example"))
    assert governor.get(draft.get_absolute_url()).status_code == 404
    assert governor.get(url("draft_edit", LLT_CODE, draft.pk)).status_code == 404
    assert governor.get(url("draft_preview", LLT_CODE, draft.pk)).status_code == 404
    compare = governor.get(url("version_compare", LLT_CODE) + f"?to={draft.pk}")
    assert compare.status_code == 404
    assert "2025-2026" not in governor.get(url("version_compare", LLT_CODE)).content.decode()
    assert "2025-2026" not in governor.get("/").content.decode()


# ---------------------------------------------------------------------------
# New codes
# ---------------------------------------------------------------------------


def test_a_new_code_from_scratch(code, client_for):
    admin = client_for(person("admin@llt.example"))
    response = admin.post(
        url("code_create"),
        {
            "owner": code.owner.pk,
            "title": "Volunteers' code",
            "audience": ["volunteer"],
            "signing_due_days": "21",
            "label": "2026-2027",
            "copy_of": "",
        },
    )
    new = Code.objects.get(title="Volunteers' code")
    draft = new.versions.get()
    assert response["Location"] == url("draft_edit", new.slug, draft.pk)
    assert (new.owner, new.audience, new.signing_due_days, new.derived_from, draft.label) == (
        code.owner,
        ["volunteer"],
        21,
        None,
        "2026-2027",
    )


def test_a_new_code_copied_from_a_model_code_keeps_the_link(code, client_for):
    code.offered_as_model = True
    code.save()
    att_admin = client_for(person("admin@att.example"))
    model = code.versions.get()
    page = att_admin.get(url("code_create")).content.decode()
    assert f'value="{model.pk}"' in page  # offered as a model, so other trusts may copy it
    response = att_admin.post(
        url("code_create"),
        {
            "owner": Code.objects.get(slug="att-staff-code-of-conduct").owner.pk,
            "title": "ATT governance code",
            "audience": ["trustee", "local_governor"],
            "signing_due_days": "30",
            "label": "2026-2027",
            "copy_of": model.pk,
        },
    )
    copy = Code.objects.get(title="ATT governance code")
    assert response.status_code == 302 and copy.derived_from == model and copy.owner.slug == "att"
    assert (
        Clause.objects.filter(section__version__code=copy).count()
        == Clause.objects.filter(section__version=model).count()
    )
    history = att_admin.get(url("code_history", copy.slug)).content.decode()
    assert f"Copied from {code.title} 2024-2025 (Leading Learners Trust)." in history


def test_another_trusts_code_cannot_be_copied_unless_offered_as_a_model(code, client_for):
    att_admin = client_for(person("admin@att.example"))
    model = code.versions.get()
    assert f'value="{model.pk}"' not in att_admin.get(url("code_create")).content.decode()
    response = att_admin.post(
        url("code_create"),
        {
            "owner": Code.objects.get(slug="att-staff-code-of-conduct").owner.pk,
            "title": "Sneaky copy",
            "audience": ["trustee"],
            "signing_due_days": "30",
            "label": "2026-2027",
            "copy_of": model.pk,
        },
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not Code.objects.filter(title="Sneaky copy").exists()


def test_code_settings(code, clerk):
    clerk.post(
        url("code_settings", LLT_CODE),
        {
            "title": code.title,
            "audience": ["member", "trustee", "local_governor"],
            "signing_due_days": "45",
            "summary": "For governors.",
        },
    )
    code.refresh_from_db()
    assert code.signing_due_days == 45 and code.summary == "For governors."
    response = clerk.post(
        url("code_settings", LLT_CODE), {"title": code.title, "audience": [], "signing_due_days": "0"}
    )
    assert "Choose at least one role that must sign this code." in response.content.decode()
    code.refresh_from_db()
    assert code.audience == ["member", "trustee", "local_governor"]


# ---------------------------------------------------------------------------
# Comparing versions
# ---------------------------------------------------------------------------


def test_compare_page_shows_the_changes_with_word_highlights(draft, clerk):
    clause = first_clause(draft)
    drafting.clause_update(
        clause=clause,
        revision=draft.revision,
        by=person("clerk@llt.example"),
        content=drafting.ClauseContent(text=clause.text.replace("all members", "everyone")),
    )
    previous = draft.based_on
    page = clerk.get(url("version_compare", LLT_CODE) + f"?from={previous.pk}&to={draft.pk}").content.decode()
    assert "2024-2025 → 2025-2026" in page and "1 reworded" in page
    assert "<del>all members</del><ins>everyone</ins>" in page
    assert page.count('class="diff-change') == 1
    everything = clerk.get(
        url("version_compare", LLT_CODE) + f"?from={previous.pk}&to={draft.pk}&all=1"
    ).content.decode()
    assert everything.count('class="diff-change') == Clause.objects.filter(section__version=draft).count()


def test_signatories_can_compare_adopted_versions(code, client_for):
    governor = client_for(person("governor@llt.example"))
    response = governor.get(url("version_compare", LLT_CODE))
    assert (
        response.status_code == 200
        and "There is no earlier version to compare 2024-2025 with." in response.content.decode()
    )
    staff = client_for(person("staff@att.example"))
    assert staff.get(url("version_compare", LLT_CODE)).status_code == 404


def test_compare_page_queries_do_not_grow_with_the_number_of_versions(code, client_for):
    governor = client_for(person("governor@llt.example"))
    compare = url("version_compare", LLT_CODE)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert governor.get(compare).status_code == 200
        return len(ctx.captured_queries)

    first = count()
    previous = code.versions.get()
    for year in (2025, 2026, 2027):
        previous = make_version(code, f"{year}-{year + 1}", version_content_as_data(previous), based_on=previous)
        adopt(previous, code.owner.children.get(slug="llt-board"), chair=person("chair@llt.example"))
    # Comparing two versions adds the diff's four queries; more versions add none.
    assert count() == first + 4
