"""Conduct's read-side selectors: what each page is given, in a number of queries that does not grow with data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conduct.models import Code, CodeVersion, Organisation, Person, RoleKind
from conduct.reviews import reviews_due
from conduct.selectors import code_history, draft_editor, governance_overview
from conduct.services import version_content_as_data
from conduct.tests.factories import (
    CodeFactory,
    MeetingFactory,
    OrganisationFactory,
    RoleFactory,
    adopt,
    make_version,
)

pytestmark = pytest.mark.django_db


def holding(kind: str, organisation: Organisation) -> Person:
    return RoleFactory.create(organisation=organisation, kind=kind).person


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def adopted_version(code: Code, board: Organisation, *, label: str = "2025-2026", held_on: date) -> CodeVersion:
    version = make_version(code, label)
    adopt(version, board, held_on=held_on)
    version.refresh_from_db()
    return version


# ---------------------------------------------------------------------------
# The governance overview
# ---------------------------------------------------------------------------


def test_governance_overview_gives_the_codes_followed_the_boards_and_the_reviews_due(tree, other_tree):
    today = timezone.localdate()
    clerk = holding(RoleKind.CLERK, tree["board"])
    trust_code = CodeFactory.create(owner=tree["trust"], title="Governance code")
    adopted_version(trust_code, tree["board"], held_on=today - timedelta(days=340))  # review due in about 25 days
    north_code = CodeFactory.create(owner=tree["north"], title="North staff code")
    CodeFactory.create(owner=other_tree["trust"], title="Elm code")
    MeetingFactory.create(board=tree["north_lgb"], held_on=date(2025, 3, 1))

    overview = governance_overview(clerk)

    assert overview.codes == [trust_code, north_code]  # by owner, then title; not the other trust's
    assert [version.label for version in overview.codes[0].versions.all()] == ["2025-2026"]
    # The trust board's one meeting is the one at which it adopted the code.
    assert [(item.board, item.meeting_count) for item in overview.boards] == [
        (tree["board"], 1),
        (tree["north_lgb"], 1),
        (tree["south_lgb"], 0),
    ]
    assert [item.last_meeting for item in overview.boards[1:]] == [date(2025, 3, 1), None]
    assert overview.can_create and not overview.is_empty
    assert [(item.adoption.version.code, item.overdue) for item in overview.reviews] == [(trust_code, False)]


def test_governance_overview_is_empty_for_a_signatory_whose_page_is_then_missing(tree, client_for):
    teacher = holding(RoleKind.EMPLOYEE, tree["north"])
    CodeFactory.create(owner=tree["north"])
    overview = governance_overview(teacher)
    assert overview.is_empty and overview.codes == [] and overview.boards == [] and overview.reviews == []
    assert client_for(teacher).get(reverse("conduct:governance")).status_code == 404


def test_governance_overview_takes_the_same_queries_for_one_code_and_board_as_for_three(
    client_for, django_assert_num_queries
):
    today = timezone.localdate()
    trust = OrganisationFactory.create(name="Ash Trust", slug="ash-trust", kind="trust")
    board = OrganisationFactory.create(name="Ash Board", slug="ash-board", kind="board", parent=trust, governs=trust)
    admin = holding(RoleKind.ADMIN, trust)
    adopted_version(CodeFactory.create(owner=trust), board, held_on=today - timedelta(days=340))
    client = client_for(admin)
    url = reverse("conduct:governance")
    one = queries(client, url)

    for n in (1, 2):
        school = OrganisationFactory.create(name=f"Ash School {n}", slug=f"ash-school-{n}", kind="school", parent=trust)
        local = OrganisationFactory.create(
            name=f"Ash LGB {n}", slug=f"ash-lgb-{n}", kind="board", parent=board, governs=school
        )
        adopted_version(CodeFactory.create(owner=trust), local, held_on=today - timedelta(days=400))
        MeetingFactory.create(board=local)
    overview = governance_overview(admin)
    assert (len(overview.boards), len(overview.codes), len(overview.reviews)) == (3, 3, 3)
    assert queries(client, url) == one

    fresh = Person.objects.get(pk=admin.pk)  # no grants cached yet
    # The grants, the boards, the adopting boards' paths, the codes and their versions, can-create, the reviews.
    with django_assert_num_queries(7):
        governance_overview(fresh)


# ---------------------------------------------------------------------------
# A code's history
# ---------------------------------------------------------------------------


def test_code_history_gives_each_version_what_it_is_compared_with_and_reviews_only_each_boards_latest(tree):
    today = timezone.localdate()
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee", "local_governor"])
    first = adopted_version(code, tree["board"], label="2024-2025", held_on=today - timedelta(days=500))
    adopt(first, tree["north_lgb"], held_on=today - timedelta(days=480))
    second = make_version(code, "2025-2026", version_content_as_data(first), based_on=first)
    adopt(second, tree["board"], held_on=today - timedelta(days=10))
    draft = make_version(code, "2026-2027", version_content_as_data(second), based_on=second)
    admin = holding(RoleKind.ADMIN, tree["trust"])

    history = code_history(admin, code, today)

    assert [(entry.version, entry.previous) for entry in history.versions] == [
        (draft, second),
        (second, first),
        (first, None),
    ]
    states = {
        (entry.version.label, item.adoption.board.slug): item.review_state
        for entry in history.versions
        for item in entry.adoptions
    }
    assert states == {
        ("2025-2026", "oak-trust-board"): "",  # reviewed a year from now
        ("2024-2025", "oak-trust-board"): "",  # overdue, but the board has adopted a later version
        # The local board's latest, but the trust board's trust-wide adoption of 2025-2026 covers its academy.
        ("2024-2025", "oak-trust-north-lgb"): "",
    }
    assert history.draft == draft and history.can_draft and history.can_adopt


def test_code_history_tells_a_signatory_nothing_they_may_do(tree):
    code = CodeFactory.create(owner=tree["trust"])
    adopted_version(code, tree["board"], held_on=timezone.localdate() - timedelta(days=5))
    history = code_history(holding(RoleKind.EMPLOYEE, tree["north"]), code, timezone.localdate())
    assert not history.can_draft and not history.can_adopt


def test_one_review_window_the_setting_serves_both_the_history_and_the_reviews_due(tree, settings):
    today = timezone.localdate()
    code = CodeFactory.create(owner=tree["trust"])
    chair = holding(RoleKind.CHAIR, tree["board"])
    adopt(make_version(code), tree["board"], chair=chair, held_on=today - timedelta(days=320))  # due in 45 days

    def state() -> str:
        return code_history(chair, code, today).versions[0].adoptions[0].review_state

    assert state() == "due" and len(reviews_due(chair, today=today)) == 1  # within the default 60 days
    settings.REVIEW_WARNING_DAYS = 30
    assert state() == "" and reviews_due(chair, today=today) == []
    settings.REVIEW_WARNING_DAYS = 45
    assert state() == "due" and len(reviews_due(chair, today=today)) == 1


def test_code_history_takes_the_same_queries_for_one_board_as_for_three(tree, client_for, django_assert_num_queries):
    today = timezone.localdate()
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee", "local_governor"])
    version = adopted_version(code, tree["board"], held_on=today - timedelta(days=30))
    admin = holding(RoleKind.ADMIN, tree["trust"])
    client = client_for(admin)
    url = reverse("conduct:code_history", args=[code.slug])
    one = queries(client, url)

    for board in (tree["north_lgb"], tree["south_lgb"]):
        RoleFactory.create(organisation=board, kind=RoleKind.LOCAL_GOVERNOR)
        adopt(version, board, held_on=today - timedelta(days=20), includes_sub_organisations=False)
    assert len(code_history(admin, code, today).versions[0].adoptions) == 3
    assert queries(client, url) == one

    fresh = Person.objects.get(pk=admin.pk)
    # The grants, the versions, their adoptions, the signatures counted per adoption (apart from the joins), and
    # whether the user adopts for any board here.
    with django_assert_num_queries(5):
        code_history(fresh, code, today)


# ---------------------------------------------------------------------------
# The draft editor
# ---------------------------------------------------------------------------


def test_draft_editor_pairs_each_clause_with_its_change_since_the_version_it_came_from(tree):
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee", "local_governor"])
    adopted = adopted_version(code, tree["board"], label="2025-2026", held_on=date(2025, 9, 20))
    content = version_content_as_data(adopted)
    content[0]["clauses"][0]["text"] = "We must all act fairly and openly."
    removed = content[0]["clauses"].pop(1)["text"]
    draft = make_version(code, "2026-2027", content, based_on=adopted)

    editor = draft_editor(draft)

    first = editor.sections[0].clauses[0]
    assert first.clause.text == "We must all act fairly and openly."
    assert first.change is not None and first.change.kind == "changed"
    assert all(item.change is not None and item.change.kind == "unchanged" for item in editor.sections[1].clauses)
    assert [change.clause.text for change in editor.removed] == [removed]
    assert editor.unflagged == [first.clause]  # reworded but not marked "new or updated"
    assert editor.previous == adopted and editor.diff is not None
    assert editor.clause_count == sum(len(s.clauses) for s in editor.sections) == 9


def test_a_first_draft_has_nothing_to_compare_with(tree):
    draft = make_version(CodeFactory.create(owner=tree["trust"]))
    editor = draft_editor(draft)
    assert editor.previous is None and editor.diff is None and editor.removed == [] and editor.unflagged == []
    assert all(item.change is None for section in editor.sections for item in section.clauses)
