"""The permission module's rules: who reaches which organisation for which action."""

from datetime import date, timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from conduct.models import Organisation
from conduct.permissions import (
    Action,
    boards_for_meetings,
    can,
    can_create_code,
    can_draft_code,
    can_follow_code,
    can_hold_meetings,
    can_preview_as,
    can_read_version,
    can_take_to_adoption,
    codes_administered_by,
    codes_followed_by,
    organisations_for,
    owners_for_new_code,
    scope_q,
    versions_copyable_by,
    versions_readable_by,
)
from conduct.tests.factories import (
    CodeFactory,
    PersonFactory,
    RoleFactory,
    adopt,
    make_version,
)


def officer(org, kind, **kwargs):
    person = PersonFactory.create()
    RoleFactory.create(person=person, organisation=org, kind=kind, **kwargs)
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
    root = PersonFactory.create(is_superuser=True)
    assert all(can(root, Action.PUBLISH_REGISTER, org) for org in [*tree.values(), *other_tree.values()])


def test_inactive_and_anonymous_people_reach_nothing(tree):
    from django.contrib.auth.models import AnonymousUser

    admin = officer(tree["trust"], "admin")
    admin.is_active = False
    assert not can(admin, Action.VIEW_REPORTS, tree["trust"])
    assert not can(AnonymousUser(), Action.VIEW_REPORTS, tree["trust"])


def test_drafts_are_readable_only_by_those_who_may_draft(tree, other_tree):
    code = CodeFactory.create(owner=tree["trust"])
    draft = make_version(code)
    teacher = officer(tree["north"], "employee")
    assert not can_read_version(teacher, draft)
    assert can_read_version(officer(tree["trust"], "admin"), draft)
    assert not can_read_version(officer(other_tree["trust"], "admin"), draft)
    adopt(draft, tree["board"])
    draft.refresh_from_db()
    assert can_read_version(teacher, draft)
    assert not can_read_version(officer(other_tree["north"], "employee"), draft)


# ---------------------------------------------------------------------------
# Named rules for conduct's pages: each holds for the officers it names and for
# nobody else (an officer of another trust, a signatory, an anonymous or inactive user).
# ---------------------------------------------------------------------------


def outsiders(tree, other_tree) -> list:
    """People who reach nothing in ``tree``: an admin of another trust, a signatory, anonymous, inactive."""
    inactive = officer(tree["trust"], "admin")
    inactive.is_active = False
    return [officer(other_tree["trust"], "admin"), officer(tree["north"], "employee"), AnonymousUser(), inactive]


def test_can_draft_code_and_can_preview_as_are_for_those_who_draft_for_or_see_records_of_the_owner(tree, other_tree):
    trust_code = CodeFactory.create(owner=tree["trust"])
    north_code = CodeFactory.create(owner=tree["north"])
    for person in (officer(tree["trust"], "admin"), officer(tree["board"], "clerk")):
        assert can_draft_code(person, trust_code) and can_preview_as(person, trust_code)
    north_chair = officer(tree["north_lgb"], "chair")  # drafts for the academy its board governs, not the trust
    assert can_draft_code(north_chair, north_code) and can_preview_as(north_chair, north_code)
    assert not can_draft_code(north_chair, trust_code) and not can_preview_as(north_chair, trust_code)
    for person in outsiders(tree, other_tree):
        assert not can_draft_code(person, trust_code) and not can_preview_as(person, trust_code)


def test_owners_for_new_code_are_the_organisations_one_drafts_for_boards_excepted(tree, other_tree):
    expected = [tree["trust"], tree["north"], tree["south"]]
    assert list(owners_for_new_code(officer(tree["trust"], "admin"))) == expected
    assert list(owners_for_new_code(officer(tree["board"], "clerk"))) == expected  # via the trust it governs
    north_clerk = officer(tree["north_lgb"], "clerk")
    assert list(owners_for_new_code(north_clerk)) == [tree["north"]] and can_create_code(north_clerk)
    stranger, *others = outsiders(tree, other_tree)
    assert list(owners_for_new_code(stranger)) == [other_tree["trust"], other_tree["north"], other_tree["south"]]
    for person in others:
        assert not owners_for_new_code(person).exists() and not can_create_code(person)


def test_codes_followed_by_is_can_follow_code_as_one_query_set(tree, other_tree):
    codes = [CodeFactory.create(owner=tree[key]) for key in ("trust", "north", "south")]
    codes.append(CodeFactory.create(owner=other_tree["trust"]))
    north_chair = officer(tree["north_lgb"], "chair")
    assert set(codes_followed_by(north_chair)) == {codes[0], codes[1]}  # the trust above its board, its academy
    stranger, *others = outsiders(tree, other_tree)
    assert set(codes_followed_by(stranger)) == {codes[3]}
    for person in others:
        assert not codes_followed_by(person).exists()
    for person in [officer(tree["trust"], "admin"), officer(tree["board"], "clerk"), north_chair, stranger, *others]:
        assert set(codes_followed_by(person)) == {c for c in codes if can_follow_code(person, c)}


def test_codes_administered_by_are_owned_where_one_drafts_or_sees_reports(tree, other_tree):
    trust_codes = {CodeFactory.create(owner=tree[key]) for key in ("trust", "north", "south")}
    elm_code = CodeFactory.create(owner=other_tree["trust"])
    assert set(codes_administered_by(officer(tree["trust"], "admin"))) == trust_codes
    stranger, *others = outsiders(tree, other_tree)
    assert set(codes_administered_by(stranger)) == {elm_code}
    for person in others:
        assert not codes_administered_by(person).exists()


def test_versions_readable_by_gives_drafts_to_those_who_draft_and_adopted_text_to_those_it_concerns(tree, other_tree):
    code = CodeFactory.create(owner=tree["trust"])
    adopted = make_version(code, "2024-2025")
    adopt(adopted, tree["board"])
    draft = make_version(code, "2025-2026", based_on=adopted)
    assert [v.pk for v in versions_readable_by(officer(tree["trust"], "admin"), code)] == [draft.pk, adopted.pk]
    stranger, signatory, anonymous, inactive = outsiders(tree, other_tree)
    assert [v.pk for v in versions_readable_by(signatory, code)] == [adopted.pk]  # the text they sign, no draft
    for person in (stranger, anonymous, inactive):
        assert versions_readable_by(person, code) == []


def test_versions_copyable_by_are_model_codes_and_adopted_codes_of_ones_own(tree, other_tree):
    own = make_version(CodeFactory.create(owner=tree["trust"]))
    adopt(own, tree["board"])
    make_version(CodeFactory.create(owner=tree["north"]))  # a draft: never copyable
    model = make_version(CodeFactory.create(owner=other_tree["trust"], offered_as_model=True))
    adopt(model, other_tree["board"])
    assert set(versions_copyable_by(officer(tree["trust"], "admin"))) == {own, model}
    for person in outsiders(tree, other_tree):
        assert set(versions_copyable_by(person)) == {model}  # anyone may start from a model code


def test_meetings_are_held_by_the_officers_of_the_board_and_of_those_above_it(tree, other_tree):
    boards = [tree["board"], tree["north_lgb"], tree["south_lgb"]]
    for person in (officer(tree["trust"], "admin"), officer(tree["board"], "clerk")):
        assert list(boards_for_meetings(person)) == boards
        assert all(can_hold_meetings(person, board) for board in boards)
    north_clerk = officer(tree["north_lgb"], "clerk")
    assert list(boards_for_meetings(north_clerk)) == [tree["north_lgb"]]
    assert not can_hold_meetings(north_clerk, tree["board"]) and not can_hold_meetings(north_clerk, tree["south_lgb"])
    for person in outsiders(tree, other_tree):
        assert not any(can_hold_meetings(person, board) for board in boards)
        assert not set(boards_for_meetings(person)) & set(boards)


def test_a_version_is_taken_to_adoption_by_those_who_follow_its_code_and_a_draft_only_by_its_drafters(tree, other_tree):
    code = CodeFactory.create(owner=tree["trust"])
    adopted = make_version(code, "2024-2025")
    adopt(adopted, tree["board"])
    draft = make_version(code, "2025-2026", based_on=adopted)
    adopted.refresh_from_db()  # adopted by the service, which saved its own copy
    north_chair = officer(tree["north_lgb"], "chair")  # adopts the trust's codes for its board, drafts none
    for person in (officer(tree["trust"], "admin"), officer(tree["board"], "chair"), north_chair):
        assert can_take_to_adoption(person, adopted)
    assert can_take_to_adoption(officer(tree["board"], "clerk"), draft)
    assert not can_take_to_adoption(north_chair, draft)
    for person in outsiders(tree, other_tree):
        assert not can_take_to_adoption(person, adopted) and not can_take_to_adoption(person, draft)
