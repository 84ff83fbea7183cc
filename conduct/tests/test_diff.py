"""The clause-level diff: added, removed, moved, changed and unchanged, with word-level highlights."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conduct.diff import diff_versions, word_diff_html
from conduct.models import Code
from conduct.services import version_content_as_data
from conduct.tests.factories import CodeFactory, clause, make_version

pytestmark = pytest.mark.django_db


def sections(*groups):
    return [
        {"number": str(n), "title": title, "clauses": clauses} for n, (title, clauses) in enumerate(groups, start=1)
    ]


@pytest.fixture
def code():
    return CodeFactory.create(audience=["trustee", "local_governor"])


def kinds(diff):
    return [(change.kind, (change.new or change.old).text) for change in diff.changes]


def test_identical_versions_have_no_changes(code):
    content = sections(("Duties", [clause("We act fairly."), clause("We keep records.")]))
    diff = diff_versions(make_version(code, "a", content), make_version(code, "b", content))
    assert not diff.has_changes
    assert diff.counts == {"added": 0, "removed": 0, "moved": 0, "changed": 0, "unchanged": 2}
    assert diff.summary() == "No changes to the wording"


def test_draft_copied_from_a_version_matches_clauses_by_key_even_when_reworded_and_moved(code):
    old = make_version(code, "2025", sections(("Duties", [clause("One."), clause("Two."), clause("Three.")])))
    data = version_content_as_data(old)
    one, two, three = data[0]["clauses"]
    one["text"] = "One, reworded entirely differently."  # too different for text matching: only the key pairs it
    data[0]["clauses"] = [three, one, two]
    new = make_version(code, "2026", data)
    diff = diff_versions(old, new)
    assert kinds(diff) == [
        ("moved", "Three."),
        ("changed", "One, reworded entirely differently."),
        ("unchanged", "Two."),
    ]
    assert diff.changes[0].notes == ("Moved within the section.",)


def test_added_removed_changed_moved_and_unchanged_between_unrelated_versions(code):
    """Versions that were not drafted from each other: clauses are paired by their wording."""
    old = make_version(
        code,
        "model",
        sections(
            (
                "Duties",
                [clause("We will act fairly."), clause("We will keep records."), clause("We will attend meetings.")],
            ),
            ("Conduct", [clause("We will not accept gifts."), clause("We will be truthful.")]),
        ),
    )
    new = make_version(
        code,
        "local",
        sections(
            ("Duties", [clause("We will act fairly and without bias."), clause("We will attend meetings.")]),
            (
                "Conduct",
                [
                    clause("We will be truthful."),
                    clause("We will not accept gifts."),
                    clause("We will declare interests."),
                ],
            ),
        ),
    )
    diff = diff_versions(old, new)
    assert kinds(diff) == [
        ("changed", "We will act fairly and without bias."),
        ("removed", "We will keep records."),
        ("unchanged", "We will attend meetings."),
        ("moved", "We will be truthful."),
        ("unchanged", "We will not accept gifts."),
        ("added", "We will declare interests."),
    ]
    assert diff.counts == {"added": 1, "removed": 1, "moved": 1, "changed": 1, "unchanged": 2}
    assert diff.summary() == "1 new clause, 1 reworded, 1 moved, 1 removed"
    changed, removed, added = diff.changes[0], diff.changes[1], diff.changes[5]
    assert changed.html == "We will act fairly<ins> and without bias</ins>."
    assert removed.html == "<del>We will keep records.</del>" and removed.section == "1. Duties" and removed.new is None
    assert added.html == "<ins>We will declare interests.</ins>" and added.old is None and added.section == "2. Conduct"


def test_a_clause_moved_to_another_section_names_where_it_came_from(code):
    old = make_version(
        code, "a", sections(("Duties", [clause("Alpha."), clause("Beta.")]), ("Conduct", [clause("Gamma.")]))
    )
    data = version_content_as_data(old)
    data[1]["clauses"].append(data[0]["clauses"].pop(1))
    diff = diff_versions(old, make_version(code, "b", data))
    moved = [c for c in diff.changes if c.kind == "moved"]
    assert len(moved) == 1 and moved[0].clause.text == "Beta."
    assert moved[0].section == "2. Conduct" and moved[0].old_section == "1. Duties"
    assert moved[0].notes == ("Moved from “1. Duties”.",)


def test_changing_who_a_clause_applies_to_is_a_change_even_with_the_same_words(code):
    old = make_version(code, "a", sections(("Duties", [clause("We oversee finance.")])))
    data = version_content_as_data(old)
    data[0]["clauses"][0]["roles"] = ["trustee"]
    diff = diff_versions(old, make_version(code, "b", data))
    assert [c.kind for c in diff.changes] == ["changed"]
    assert diff.changes[0].notes == ("Now applies to Trustees only (was everyone).",)


def test_renumbering_and_the_new_flag_are_not_changes_to_the_wording(code):
    old = make_version(code, "a", sections(("Duties", [clause("Alpha.", number="1", style="numbered")])))
    data = version_content_as_data(old)
    data[0]["clauses"][0].update(number="2", new=True)
    assert not diff_versions(old, make_version(code, "b", data)).has_changes


def test_role_kinds_hide_changes_to_clauses_the_reader_never_sees(code):
    old = make_version(
        code, "a", sections(("Duties", [clause("All of us."), clause("Trustees: finance.", roles=["trustee"])]))
    )
    data = version_content_as_data(old)
    data[0]["clauses"][1]["text"] = "Trustees: finance and audit."
    data[0]["clauses"].append(clause("Those governing at local level: ambassadors.", roles=["local_governor"]))
    new = make_version(code, "b", data)
    governor = diff_versions(old, new, role_kinds={"local_governor"})
    trustee = diff_versions(old, new, role_kinds={"trustee"})
    assert kinds(governor) == [("unchanged", "All of us."), ("added", "Those governing at local level: ambassadors.")]
    assert kinds(trustee) == [("unchanged", "All of us."), ("changed", "Trustees: finance and audit.")]
    assert diff_versions(old, new).counts["changed"] == 1 and diff_versions(old, new).counts["added"] == 1


def test_term_is_part_of_the_wording(code):
    old = make_version(code, "a", sections(("Values", [clause("Acting in the public interest.", term="Selflessness")])))
    data = version_content_as_data(old)
    data[0]["clauses"][0]["term"] = "Service"
    change = diff_versions(old, make_version(code, "b", data)).changes[0]
    assert change.kind == "changed"
    assert change.html == "<del>Selflessness</del><ins>Service</ins>: Acting in the public interest."


def test_highlights_escape_the_text(code):
    assert word_diff_html("Use <b>care</b> & tact", "Use <b>care</b> & skill") == (
        "Use &lt;b&gt;care&lt;/b&gt; &amp; <del>tact</del><ins>skill</ins>"
    )


def test_diff_takes_a_fixed_number_of_queries_whatever_the_size(code):
    small = sections(("Duties", [clause(f"Clause number {i} about duty {i}.") for i in range(3)]))
    large = sections(
        *[(f"Part {p}", [clause(f"Part {p} clause {i} about duty {i}.") for i in range(40)]) for p in range(10)]
    )
    pairs = [
        (make_version(code, f"{label}-old", content), make_version(code, f"{label}-new", content))
        for label, content in (("s", small), ("l", large))
    ]
    counts = []
    for old, new in pairs:
        old, new = type(old).objects.get(pk=old.pk), type(new).objects.get(pk=new.pk)
        with CaptureQueriesContext(connection) as ctx:
            diff_versions(old, new)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] == 4


# ---------------------------------------------------------------------------
# The governance code's flagged statements, against their previous wording
# ---------------------------------------------------------------------------

INDUCTION_BEFORE = (
    "We will participate in induction training and take responsibility for developing our individual and "
    "collective skills and knowledge on an ongoing basis."
)
INDUCTION_AFTER = (
    "We will participate in induction training, prioritise training in required areas (such as safeguarding) and "
    "commit to developing our individual and collective skills and knowledge on an ongoing basis."
)


def _governance_versions():
    """The previous year's governance code and the updated one, both drafted from the demo version.

    The demo statement on induction training holds, in one clause, the wording
    before and after the August 2023 update. Previous year: the flagged
    statements that were added in 2023 are absent and the induction statement
    has its old wording. Updated: every statement, the induction one with only
    its new wording.
    """
    code = Code.objects.get(slug="llt-governance-code-of-conduct")
    current = code.versions.get()
    flagged = {c.key for s in current.ordered_sections() for c in s.clauses.all() if c.is_new}
    previous_data, updated_data = version_content_as_data(current), version_content_as_data(current)
    for section in previous_data:
        section["clauses"] = [
            {**item, "text": INDUCTION_BEFORE} if item["text"].startswith("We will participate in induction") else item
            for item in section["clauses"]
            if item["key"] not in flagged or item["text"].startswith("We will participate in induction")
        ]
    for section in updated_data:
        for item in section["clauses"]:
            if item["text"].startswith("We will participate in induction"):
                item["text"] = INDUCTION_AFTER
    return make_version(code, "2022-2023", previous_data), make_version(code, "2023-2024", updated_data), flagged


def test_governance_code_flagged_statements_read_sensibly_against_the_previous_wording(demo):
    previous, updated, flagged = _governance_versions()
    diff = diff_versions(previous, updated, role_kinds={"local_governor"})

    reworded = [c for c in diff.changes if c.kind == "changed"]
    assert len(reworded) == 1
    assert reworded[0].section == "Demonstrate our commitment to the role"
    assert reworded[0].html == (
        "We will participate in induction training<del> and take responsibility for</del>"
        "<ins>, prioritise training in required areas (such as safeguarding) and commit to</ins>"
        " developing our individual and collective skills and knowledge on an ongoing basis."
    )
    added = [c.clause.text for c in diff.changes if c.kind == "added"]
    # A local governor is told about the new statements that apply to them, and none of the trustees' ones.
    assert (
        "Those governing at local level: We will champion the voices of our school community and stakeholders." in added
    )
    assert (
        "We will respect the remit of, and engage constructively with, relevant authorities and other schools." in added
    )
    assert not any(text.startswith("Trustees:") for text in added)
    assert all(c.clause.key in flagged for c in diff.changes if c.kind == "added")
    assert [text[:45] for text in added] == [
        "Those governing at local level: We recognise ",
        "We will apply the highest standards and will:",
        "We shall fully cooperate with individual requ",
        "We will fulfil our responsibilities to school",
        "We will have regard to our responsibilities u",
        "Those governing at local level: We will act a",
        "Those governing at local level: We will champ",
        "We will respect the remit of, and engage cons",
        "Those governing at local level: We will estab",
    ]
    assert diff.counts["removed"] == 0 and diff.counts["moved"] == 0
    # Every other statement is reported unchanged, in reading order.
    assert [c.clause.pk for c in diff.changes] == [
        c.pk for s in updated.ordered_sections() for c in s.clauses.all() if not c.roles or "local_governor" in c.roles
    ]


def test_trustees_see_their_own_flagged_statements_as_new(demo):
    previous, updated, _flagged = _governance_versions()
    added = [
        c.clause.text for c in diff_versions(previous, updated, role_kinds={"trustee"}).changes if c.kind == "added"
    ]
    assert "Trustees: We will engage with and be accountable to those governing at local level." in added
    assert not any(text.startswith("Those governing at local level:") for text in added)
