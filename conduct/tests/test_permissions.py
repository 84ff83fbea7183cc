"""The permission module's rules: who reaches which organisation for which action."""

from datetime import date, timedelta

from django.utils import timezone

from conduct.models import Organisation
from conduct.permissions import (
    Action,
    can,
    can_read_version,
    organisations_for,
    scope_q,
)
from conduct.tests.factories import (
    CodeFactory,
    PersonFactory,
    RoleFactory,
    adopt,
    make_version,
)


def officer(org, kind, **kwargs):
    person = PersonFactory()
    RoleFactory(person=person, organisation=org, kind=kind, **kwargs)
    return person


def test_trust_admin_reaches_its_academies_and_boards_but_not_another_trust(tree, other_tree):
    admin = officer(tree["trust"], "admin")
    for key in ("trust", "north", "south", "board", "north_lgb", "south_lgb"):
        assert can(admin, Action.VIEW_REPORTS, tree[key]), key
    for org in other_tree.values():
        assert not can(admin, Action.VIEW_REPORTS, org)
    assert set(organisations_for(admin, Action.VIEW_REPORTS)) == set(tree.values())


def test_school_admin_reaches_only_their_school(tree):
    admin = officer(tree["north"], "admin")
    assert can(admin, Action.VIEW_RECORDS, tree["north"])
    assert not can(admin, Action.VIEW_RECORDS, tree["south"])
    assert not can(admin, Action.VIEW_RECORDS, tree["trust"])


def test_chair_and_clerk_reach_their_board_and_for_governance_what_it_governs(tree):
    clerk = officer(tree["north_lgb"], "clerk")
    assert can(clerk, Action.ADOPT, tree["north_lgb"])
    assert can(clerk, Action.DRAFT, tree["north"])  # the academy its board governs
    assert not can(clerk, Action.VIEW_RECORDS, tree["north"])  # staff records are not the board's
    assert not can(clerk, Action.ADOPT, tree["south_lgb"])
    chair = officer(tree["board"], "chair")
    assert can(chair, Action.ADOPT, tree["board"]) and can(chair, Action.ADOPT, tree["north_lgb"])
    assert can(chair, Action.DRAFT, tree["trust"])
    assert not can(chair, Action.MANAGE_PEOPLE, tree["board"])  # chairs adopt; clerks and admins manage people


def test_a_chair_of_another_trust_cannot_adopt_here(tree, other_tree):
    chair = officer(other_tree["board"], "chair")
    assert not can(chair, Action.ADOPT, tree["board"])
    assert not can(chair, Action.DRAFT, tree["trust"])


def test_signatories_have_no_officer_reach(tree):
    teacher = officer(tree["north"], "employee")
    assert not any(can(teacher, action, org) for action in Action for org in tree.values())
    assert not organisations_for(teacher, Action.VIEW_REPORTS).exists()


def test_only_current_roles_count(tree):
    today = timezone.localdate()
    former = officer(tree["trust"], "admin", starts_on=date(2019, 1, 1), ends_on=today - timedelta(days=1))
    future = officer(tree["trust"], "admin", starts_on=today + timedelta(days=5))
    assert not can(former, Action.VIEW_REPORTS, tree["trust"])
    assert not can(future, Action.VIEW_REPORTS, tree["trust"])


def test_scope_q_filters_any_queryset_by_reach(tree, other_tree):
    admin = officer(tree["north"], "admin")
    reachable = Organisation.objects.filter(scope_q(admin, Action.VIEW_REPORTS, "parent")).values_list(
        "slug", flat=True
    )
    # Organisations whose parent is within the north academy: none (it has no children) …
    assert list(reachable) == []
    trust_admin = officer(tree["trust"], "admin")
    children = set(
        Organisation.objects.filter(scope_q(trust_admin, Action.VIEW_REPORTS, "parent")).values_list("slug", flat=True)
    )
    assert children == {
        "oak-trust-north",
        "oak-trust-south",
        "oak-trust-board",
        "oak-trust-north-lgb",
        "oak-trust-south-lgb",
    }


def test_superuser_reaches_everything(tree, other_tree):
    root = PersonFactory(is_superuser=True)
    assert all(can(root, Action.PUBLISH_REGISTER, org) for org in [*tree.values(), *other_tree.values()])


def test_inactive_and_anonymous_people_reach_nothing(tree):
    from django.contrib.auth.models import AnonymousUser

    admin = officer(tree["trust"], "admin")
    admin.is_active = False
    assert not can(admin, Action.VIEW_REPORTS, tree["trust"])
    assert not can(AnonymousUser(), Action.VIEW_REPORTS, tree["trust"])


def test_drafts_are_readable_only_by_those_who_may_draft(tree, other_tree):
    code = CodeFactory(owner=tree["trust"])
    draft = make_version(code)
    teacher = officer(tree["north"], "employee")
    assert not can_read_version(teacher, draft)
    assert can_read_version(officer(tree["trust"], "admin"), draft)
    assert not can_read_version(officer(other_tree["trust"], "admin"), draft)
    adopt(draft, tree["board"])
    draft.refresh_from_db()
    assert can_read_version(teacher, draft)
    assert not can_read_version(officer(other_tree["north"], "employee"), draft)
