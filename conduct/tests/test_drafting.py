"""Draft services: start from the current version, edit, move, remove, and refuse stale or locked edits."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from conduct import drafting, limits
from conduct.diff import diff_versions
from conduct.drafting import ClauseContent, CodeDetails, DraftConflict, DraftLocked
from conduct.models import (
    Clause,
    Code,
    CodeVersion,
    ImmutableVersionError,
    Section,
    VersionStatus,
)
from conduct.tests.factories import (
    CodeFactory,
    PersonFactory,
    adopt,
    make_version,
    trust_tree,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk():
    return PersonFactory.create(full_name="Sam Clerk")


@pytest.fixture
def adopted(tree):
    code = CodeFactory.create(
        owner=tree["trust"], audience=["trustee", "local_governor", "chair"], title="Governance code"
    )
    version = make_version(code, "2025-2026")
    adopt(version, tree["board"])
    version.refresh_from_db()
    return version


@pytest.fixture
def draft(adopted, clerk):
    return drafting.draft_start(code=adopted.code, created_by=clerk)


def texts(version: CodeVersion) -> list[list[str]]:
    return [[c.text for c in s.clauses.all()] for s in version.ordered_sections()]


def fresh(version: CodeVersion) -> CodeVersion:
    return CodeVersion.objects.get(pk=version.pk)


def test_a_draft_copies_the_current_version_with_its_keys_and_clears_the_new_flags(adopted, draft, clerk):
    assert draft.status == VersionStatus.DRAFT and draft.label == "2026-2027" and draft.based_on == adopted
    assert draft.created_by == clerk and fresh(draft).updated_by == clerk
    assert texts(draft) == texts(adopted)
    old_keys = [(s.key, [c.key for c in s.clauses.all()]) for s in adopted.ordered_sections()]
    assert [(s.key, [c.key for c in s.clauses.all()]) for s in draft.ordered_sections()] == old_keys
    assert not Clause.objects.filter(section__version=draft, is_new=True).exists()
    assert Clause.objects.filter(section__version=adopted, is_new=True).exists()  # the adopted text is untouched
    assert not diff_versions(adopted, draft).has_changes


def test_only_one_draft_at_a_time(adopted, draft, clerk):
    with pytest.raises(ValidationError, match="already in progress"):
        drafting.draft_start(code=adopted.code, created_by=clerk)
    assert adopted.code.versions.filter(status="draft").count() == 1


def test_a_label_already_used_is_refused(adopted, clerk):
    with pytest.raises(ValidationError, match="already has a version labelled 2025-2026"):
        drafting.draft_start(code=adopted.code, created_by=clerk, label="2025-2026")
    assert adopted.code.versions.count() == 1


@pytest.mark.parametrize(
    "label, expected",
    [
        ("2025-2026", "2026-2027"),
        ("2024 - 25", "2025 - 26"),
        ("2099-2100", "2100-2101"),
        ("Autumn", "Autumn (revised)"),
    ],
)
def test_next_label(label, expected):
    assert drafting.next_label(label) == expected


def test_edit_add_move_and_remove_clauses_and_sections(adopted, draft, clerk):
    duties = draft.ordered_sections()[0]
    first, second = list(duties.clauses.all())[:2]
    revision = draft.revision

    drafting.clause_update(
        clause=first,
        revision=revision,
        by=clerk,
        content=ClauseContent(text="We must all act fairly and openly.", number="1.1", style="numbered"),
    )
    added = drafting.clause_add(
        section=duties,
        revision=revision + 1,
        by=clerk,
        content=ClauseContent(text="We declare our interests."),
        after=first,
    )
    drafting.clause_move(clause=second, revision=revision + 2, by=clerk, offset=-1)
    appendix = drafting.section_add(
        version=draft, revision=revision + 3, by=clerk, number="9", title="Reporting concerns"
    )
    drafting.clause_add(
        section=appendix, revision=revision + 4, by=clerk, content=ClauseContent(text="Tell the clerk.")
    )
    drafting.section_move(section=appendix, revision=revision + 5, by=clerk, offset=-1)

    draft = fresh(draft)
    assert draft.revision == revision + 6
    sections = draft.ordered_sections()
    assert [s.title for s in sections] == ["Duties", "Reporting concerns", "Appendix"]
    assert [c.text for c in sections[0].clauses.all()][:3] == [
        "We must all act fairly and openly.",
        "Treat people with respect",
        "We declare our interests.",
    ]
    assert [c.position for c in sections[0].clauses.all()] == list(range(1, len(sections[0].clauses.all()) + 1))
    assert Clause.objects.get(pk=added.pk).is_new  # new clauses are marked new or updated by default
    diff = diff_versions(adopted, draft)
    assert diff.counts["changed"] == 1 and diff.counts["added"] == 2 and diff.counts["removed"] == 0

    drafting.clause_remove(clause=added, revision=draft.revision, by=clerk)
    drafting.section_remove(section=sections[1], revision=draft.revision + 1, by=clerk)
    draft = fresh(draft)
    assert [s.title for s in draft.ordered_sections()] == ["Duties", "Appendix"]
    assert [s.position for s in draft.ordered_sections()] == [1, 2]
    assert not Clause.objects.filter(text__in=["We declare our interests.", "Tell the clerk."]).exists()


def test_role_limits_and_the_new_flag_are_saved(draft, clerk):
    clause = draft.ordered_sections()[0].clauses.all()[0]
    drafting.clause_update(
        clause=clause,
        revision=draft.revision,
        by=clerk,
        content=ClauseContent(
            text=clause.text, roles=("trustee",), is_new=True, term="Finance", depth=1, style="bullet"
        ),
    )
    clause.refresh_from_db()
    assert (clause.roles, clause.is_new, clause.term, clause.depth, clause.style) == (
        ["trustee"],
        True,
        "Finance",
        1,
        "bullet",
    )


def test_a_clause_moves_across_sections_at_the_edges(draft, clerk):
    duties, appendix = draft.ordered_sections()
    last = list(duties.clauses.all())[-1]
    drafting.clause_move(clause=last, revision=draft.revision, by=clerk, offset=+1)
    moved = Clause.objects.get(pk=last.pk)
    assert moved.section_id == appendix.pk and moved.position == 1
    assert [c.position for c in Clause.objects.filter(section=appendix).order_by("position")] == [1, 2, 3, 4, 5]
    drafting.clause_move(clause=moved, revision=draft.revision + 1, by=clerk, offset=-1)
    back = Clause.objects.get(pk=last.pk)
    assert back.section_id == duties.pk and back.position == len(duties.clauses.all())
    target = drafting.section_add(version=draft, revision=draft.revision + 2, by=clerk, title="Other")
    drafting.clause_move_to(clause=back, revision=draft.revision + 3, by=clerk, section=target)
    assert Clause.objects.get(pk=last.pk).section_id == target.pk


def test_moving_past_the_start_of_the_code_is_refused_and_changes_nothing(draft, clerk):
    first = draft.ordered_sections()[0].clauses.all()[0]
    with pytest.raises(ValidationError, match="already at the start"):
        drafting.clause_move(clause=first, revision=draft.revision, by=clerk, offset=-1)
    assert fresh(draft).revision == draft.revision


def test_bad_clause_input_is_refused_with_messages_and_changes_nothing(draft, clerk):
    section = draft.ordered_sections()[0]
    before = texts(draft)
    with pytest.raises(ValidationError) as error:
        drafting.clause_add(
            section=section,
            revision=draft.revision,
            by=clerk,
            content=ClauseContent(text="   ", roles=("employee",), depth=7),
        )
    messages = error.value.message_dict
    assert messages["text"] == ["Write the clause's text."]
    assert "do not sign" in messages["roles"][0] and "Indent" in messages["depth"][0]
    assert texts(draft) == before and fresh(draft).revision == draft.revision


def test_the_services_hold_clauses_and_headings_to_the_limits_whatever_calls_them(draft, clerk):
    """The forms say so first; the services refuse too, so no other caller can store a 1 MB clause."""
    section = draft.ordered_sections()[0]
    clause = section.clauses.first()
    assert clause is not None
    before = texts(draft)
    too_long = "word " * (limits.MAX_CLAUSE_TEXT_CHARS // 5 + 1)
    for call in (
        lambda: drafting.clause_add(
            section=section, revision=draft.revision, by=clerk, content=ClauseContent(text=too_long)
        ),
        lambda: drafting.clause_update(
            clause=clause, revision=draft.revision, by=clerk, content=ClauseContent(text=too_long)
        ),
    ):
        with pytest.raises(ValidationError) as error:
            call()
        assert "the limit is 2,000" in error.value.message_dict["text"][0]
    with pytest.raises(ValidationError) as error:
        drafting.section_add(
            version=draft, revision=draft.revision, by=clerk, title="H" * (limits.MAX_SECTION_TITLE_CHARS + 1)
        )
    assert "200 characters or fewer" in error.value.message_dict["title"][0]
    assert texts(draft) == before and fresh(draft).revision == draft.revision


def test_a_stale_edit_is_refused_with_a_conflict_message_naming_who_saved_first(draft, clerk):
    colleague = PersonFactory.create(full_name="Alex Governance")
    clause = draft.ordered_sections()[0].clauses.all()[0]
    opened_at = draft.revision  # both people opened the draft at this revision
    drafting.clause_update(
        clause=clause, revision=opened_at, by=colleague, content=ClauseContent(text="Colleague's wording.")
    )
    with pytest.raises(DraftConflict) as conflict:
        drafting.clause_update(clause=clause, revision=opened_at, by=clerk, content=ClauseContent(text="My wording."))
    assert "Alex Governance saved a change to this draft" in conflict.value.messages[0]
    assert "nothing was overwritten" in conflict.value.messages[0]
    clause.refresh_from_db()
    assert clause.text == "Colleague's wording."
    assert fresh(draft).revision == opened_at + 1
    with pytest.raises(DraftConflict):
        drafting.clause_add(section=clause.section, revision=opened_at, by=clerk, content=ClauseContent(text="More."))
    assert not Clause.objects.filter(text="More.").exists()


def test_an_adopted_version_cannot_be_edited_through_the_draft_services(adopted, clerk):
    clause = adopted.ordered_sections()[0].clauses.all()[0]
    with pytest.raises(DraftLocked, match="has been adopted"):
        drafting.clause_update(
            clause=clause, revision=adopted.revision, by=clerk, content=ClauseContent(text="Sneaky.")
        )
    with pytest.raises(DraftLocked):
        drafting.section_add(version=adopted, revision=adopted.revision, by=clerk, title="Sneaky")
    with pytest.raises(ImmutableVersionError):
        Clause.objects.filter(pk=clause.pk).update(text="Sneaky.")
    clause.refresh_from_db()
    assert clause.text != "Sneaky."


def test_an_edit_made_after_the_draft_was_adopted_is_refused(draft, clerk, tree):
    clause = draft.ordered_sections()[0].clauses.all()[0]
    revision = draft.revision
    adopt(draft, tree["board"])
    with pytest.raises(DraftLocked, match="adopted"):
        drafting.clause_update(clause=clause, revision=revision, by=clerk, content=ClauseContent(text="Too late."))


def test_discarding_a_draft_removes_it_and_its_text(draft, clerk):
    drafting.draft_discard(version=draft, revision=draft.revision, by=clerk)
    assert not CodeVersion.objects.filter(pk=draft.pk).exists()
    assert not Section.objects.filter(version_id=draft.pk).exists()


def test_renaming_a_draft(draft, clerk):
    drafting.draft_update(version=draft, revision=draft.revision, by=clerk, label="2026 – 2027 (consultation)")
    assert fresh(draft).label == "2026 – 2027 (consultation)"
    with pytest.raises(ValidationError, match="already has a version labelled"):
        drafting.draft_update(version=draft, revision=draft.revision, by=clerk, label="2025-2026")


def test_a_new_code_from_scratch_starts_with_an_empty_draft(tree, clerk):
    draft = drafting.code_create(
        owner=tree["trust"],
        details=CodeDetails(title="Volunteers' code", audience=["volunteer"], signing_due_days=14),
        created_by=clerk,
        label="2026-2027",
    )
    code = draft.code
    assert (code.owner, code.title, code.audience, code.signing_due_days, code.derived_from) == (
        tree["trust"],
        "Volunteers' code",
        ["volunteer"],
        14,
        None,
    )
    assert code.slug == "oak-trust-volunteers-code"
    assert draft.status == "draft" and draft.sections.count() == 0


def test_a_new_code_copied_from_another_organisations_code_keeps_the_link_and_local_edits_diff(adopted, clerk):
    elm = trust_tree("Elm Trust")
    copy = drafting.code_create(
        owner=elm["trust"],
        details=CodeDetails(title="Elm governance code", audience=["local_governor", "chair"]),
        created_by=clerk,
        copy_of=adopted,
    )
    assert copy.code.derived_from == adopted
    assert texts(copy) == texts(adopted)
    # Clauses limited to roles that do not sign the copy lose that limit rather than vanish from every reader.
    assert not any("trustee" in c.roles for c in Clause.objects.filter(section__version=copy))
    clause = copy.ordered_sections()[0].clauses.all()[0]
    drafting.clause_update(
        clause=clause, revision=copy.revision, by=clerk, content=ClauseContent(text="We must all act fairly, locally.")
    )
    diff = diff_versions(adopted, copy)
    assert [c.kind for c in diff.changes if c.is_change] == ["changed", "changed", "changed"]
    assert diff.changes[0].html == "We must all act fairly<ins>, locally</ins>."


def test_a_draft_cannot_be_copied_as_a_new_code(tree, clerk):
    draft = make_version(CodeFactory.create(owner=trust_tree("Ash Trust")["trust"]), "draft")
    with pytest.raises(ValidationError, match="Only adopted text can be copied"):
        drafting.code_create(
            owner=tree["trust"], details=CodeDetails(title="X", audience=["employee"]), created_by=clerk, copy_of=draft
        )
    assert not Code.objects.filter(title="X").exists()


def test_a_new_code_needs_an_audience(tree, clerk):
    with pytest.raises(ValidationError) as error:
        drafting.code_create(owner=tree["trust"], details=CodeDetails(title="No one", audience=[]), created_by=clerk)
    assert "audience" in error.value.message_dict
    assert not Code.objects.filter(title="No one").exists()
