"""Organisations set up in the app: who may create, rename, move and close them, what is refused, what is recorded."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from acknowledgements.models import Obligation
from conduct.models import (
    Adoption,
    AuditAction,
    AuditLogEntry,
    MembershipStatus,
    NetworkMembership,
    Organisation,
    Person,
    RoleKind,
)
from conduct.organisations import (
    network_membership_accept,
    network_membership_end,
    network_membership_request,
    organisation_close,
    organisation_create,
    organisation_move,
    organisation_rename,
)
from conduct.services import adoption_evidence_hash, role_create
from conduct.tests.factories import (
    CodeFactory,
    OrganisationFactory,
    PersonFactory,
    RoleFactory,
    adopt,
    make_version,
)
from reports.selectors import ReportFilters, school_map

TODAY = timezone.localdate()


def officer(organisation: Organisation, kind: str = RoleKind.ADMIN) -> Person:
    person = PersonFactory.create()
    RoleFactory.create(person=person, organisation=organisation, kind=kind)
    return person


def operator() -> Person:
    return PersonFactory.create(is_superuser=True, is_staff=True)


def saved_state() -> dict[str, Any]:
    """Everything a refused change must leave as it was: the tree, the memberships and the audit log."""
    return {
        "organisations": list(
            Organisation.objects.order_by("pk").values_list("pk", "name", "slug", "kind", "parent", "path", "closed_on")
        ),
        "memberships": list(NetworkMembership.objects.order_by("pk").values_list("pk", "status", "left_on")),
        "audit": AuditLogEntry.objects.count(),
    }


def only_entry(action: AuditAction) -> AuditLogEntry:
    entries = list(AuditLogEntry.objects.filter(action=action))
    assert len(entries) == 1, entries
    return entries[0]


def refusal_fields(error: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(error.value.message_dict)


def network_dashboard_schools(network: Organisation) -> dict[int, str]:
    """The member schools a network's dashboard lists today (reports read only accepted, current memberships)."""
    return school_map(ReportFilters(organisation=network, as_at=TODAY)).names


@pytest.fixture
def network(db) -> dict[str, Organisation]:
    partners = OrganisationFactory.create(name="Partners", slug="partners", kind="network")
    hub = OrganisationFactory.create(name="Partners Hub", slug="partners-hub", kind="hub", parent=partners)
    return {"network": partners, "hub": hub}


# ---------------------------------------------------------------------------
# Creating
# ---------------------------------------------------------------------------


def test_a_trust_admin_adds_an_academy_its_local_board_and_a_committee(tree):
    admin = officer(tree["trust"])
    academy = organisation_create(by=admin, parent=tree["trust"], kind="school", name="  Oak  West Academy ")
    lgb = organisation_create(
        by=admin, parent=tree["board"], kind="board", name="Oak West LGB", slug="oak-west-lgb", governs=academy
    )
    committee = organisation_create(by=admin, parent=lgb, kind="committee", name="Finance Committee")

    academy.refresh_from_db()
    assert (academy.name, academy.slug, academy.parent_id) == ("Oak West Academy", "oak-west-academy", tree["trust"].pk)
    assert academy.path == f"{tree['trust'].path}{academy.pk:06d}/"
    assert Organisation.objects.get(pk=lgb.pk).governs_id == academy.pk
    assert Organisation.objects.get(pk=committee.pk).path == f"{lgb.path}{committee.pk:06d}/"

    entry = AuditLogEntry.objects.get(action=AuditAction.ORGANISATION_CREATED, organisation=lgb)
    assert (entry.actor, entry.target_type, entry.target_id) == (admin, "conduct.organisation", str(lgb.pk))
    assert entry.details == {
        "name": "Oak West LGB",
        "slug": "oak-west-lgb",
        "kind": "board",
        "parent_id": tree["board"].pk,
        "governs_id": academy.pk,
        "path": lgb.path,
    }
    assert "governing Oak West Academy" in entry.summary
    assert AuditLogEntry.objects.filter(action=AuditAction.ORGANISATION_CREATED).count() == 3


def test_a_made_up_slug_never_collides(tree):
    admin = officer(tree["trust"])
    first = organisation_create(by=admin, parent=tree["north_lgb"], kind="committee", name="Finance Committee")
    second = organisation_create(by=admin, parent=tree["south_lgb"], kind="committee", name="Finance Committee")
    assert (first.slug, second.slug) == ("finance-committee", "finance-committee-2")


def test_a_trust_admin_changes_only_their_own_tree(tree, other_tree):
    admin = officer(tree["trust"])
    before = saved_state()
    with pytest.raises(PermissionDenied):
        organisation_create(by=admin, parent=other_tree["trust"], kind="school", name="Elm East Academy")
    with pytest.raises(PermissionDenied):
        organisation_rename(by=admin, organisation=other_tree["north"], name="Renamed")
    with pytest.raises(PermissionDenied):
        organisation_close(by=admin, organisation=other_tree["north"], closed_on=TODAY)
    with pytest.raises(PermissionDenied):
        organisation_move(by=admin, organisation=other_tree["north_lgb"], new_parent=tree["board"])
    assert saved_state() == before


def test_a_school_admin_cannot_add_siblings_close_or_move_their_school(tree):
    admin = officer(tree["north"])
    before = saved_state()
    with pytest.raises(PermissionDenied):
        organisation_create(by=admin, parent=tree["trust"], kind="school", name="Oak West Academy")
    with pytest.raises(PermissionDenied):
        organisation_close(by=admin, organisation=tree["north"], closed_on=TODAY)
    with pytest.raises(PermissionDenied):
        organisation_move(by=admin, organisation=tree["north"], new_parent=tree["board"])
    with pytest.raises(ValidationError) as refused:
        organisation_create(by=admin, parent=tree["north"], kind="committee", name="Staff Committee")
    assert "Nothing sits under a school or academy" in refused.value.message_dict["kind"][0]
    assert saved_state() == before


def test_chairs_and_clerks_do_not_shape_the_tree(tree):
    for kind in (RoleKind.CHAIR, RoleKind.CLERK):
        with pytest.raises(PermissionDenied):
            organisation_create(by=officer(tree["board"], kind), parent=tree["board"], kind="committee", name="Audit")
    assert not Organisation.objects.filter(name="Audit").exists()


def test_only_a_platform_operator_starts_a_new_tree(tree):
    with pytest.raises(PermissionDenied):
        organisation_create(by=officer(tree["trust"]), parent=None, kind="trust", name="Ash Trust")
    ash = organisation_create(by=operator(), parent=None, kind="trust", name="Ash Trust")
    assert Organisation.objects.get(pk=ash.pk).path == f"/{ash.pk:06d}/"


CREATE_REFUSALS = {
    "a name already used by a sibling (ignoring case and spaces)": (
        {"parent": "trust", "kind": "school", "name": "oak trust  NORTH academy"},
        "name",
        "already has an organisation called",
    ),
    "an empty name": ({"parent": "trust", "kind": "school", "name": "   "}, "name", "Give the organisation a name"),
    "a name over the column length": (
        {"parent": "trust", "kind": "school", "name": "A" * 201},
        "name",
        "200 characters",
    ),
    "a slug already taken": (
        {"parent": "trust", "kind": "school", "name": "Oak West Academy", "slug": "elm-trust-north"},
        "slug",
        "already taken",
    ),
    "a malformed slug": (
        {"parent": "trust", "kind": "school", "name": "Oak West Academy", "slug": "oak west!"},
        "slug",
        "letters, numbers",
    ),
    "a board governing a school of another trust": (
        {"parent": "board", "kind": "board", "name": "Oak West LGB", "governs": "elm:north"},
        "governs",
        "belongs to another trust",
    ),
    "a board governing a board": (
        {"parent": "board", "kind": "board", "name": "Oak West LGB", "governs": "north_lgb"},
        "governs",
        "not a Board",
    ),
    "a school that governs": (
        {"parent": "trust", "kind": "school", "name": "Oak West Academy", "governs": "north"},
        "governs",
        "Only boards and committees govern",
    ),
    "a school under a board": (
        {"parent": "board", "kind": "school", "name": "Oak West Academy"},
        "kind",
        "A school or academy cannot sit under Oak Trust Board (a board); there you can add: board, committee.",
    ),
    "a trust under a trust": (
        {"parent": "trust", "kind": "trust", "name": "Oak Junior Trust"},
        "kind",
        "A trust cannot sit under Oak Trust (a trust); there you can add: school or academy, board.",
    ),
    "an unknown kind": ({"parent": "trust", "kind": "castle", "name": "Oak Castle"}, "kind", "Choose a kind"),
}


@pytest.mark.parametrize("arguments, field, message", CREATE_REFUSALS.values(), ids=CREATE_REFUSALS.keys())
def test_bad_input_is_refused_by_field_and_nothing_is_saved(tree, other_tree, arguments, field, message):
    def organisation(key: str) -> Organisation:
        return other_tree[key.removeprefix("elm:")] if key.startswith("elm:") else tree[key]

    admin = officer(tree["trust"])
    arguments = {
        **arguments,
        "parent": organisation(arguments["parent"]),
        **({"governs": organisation(arguments["governs"])} if "governs" in arguments else {}),
    }
    before = saved_state()
    with pytest.raises(ValidationError) as refused:
        organisation_create(by=admin, **arguments)
    assert field in refusal_fields(refused)
    assert any(message in text for text in refused.value.message_dict[field]), refused.value.message_dict
    assert saved_state() == before


def test_nothing_new_goes_under_a_closed_organisation(tree):
    admin = officer(tree["trust"])
    organisation_close(by=admin, organisation=tree["north_lgb"], closed_on=TODAY)
    before = saved_state()
    with pytest.raises(ValidationError) as refused:
        organisation_create(by=admin, parent=tree["north_lgb"], kind="committee", name="Finance Committee")
    assert "nothing new goes under it" in refused.value.message_dict["parent"][0]
    assert saved_state() == before


# ---------------------------------------------------------------------------
# Renaming
# ---------------------------------------------------------------------------


def test_an_admin_renames_an_organisation_and_the_log_keeps_both_names(tree):
    admin = officer(tree["trust"])
    renamed = organisation_rename(by=admin, organisation=tree["north"], name="Oak Northgate Academy")
    assert Organisation.objects.get(pk=tree["north"].pk).name == renamed.name == "Oak Northgate Academy"
    entry = only_entry(AuditAction.ORGANISATION_RENAMED)
    assert entry.details == {"from": "Oak Trust North Academy", "to": "Oak Northgate Academy"}
    assert (entry.actor, entry.organisation) == (admin, tree["north"])


def test_a_school_admin_renames_their_own_school(tree):
    organisation_rename(by=officer(tree["north"]), organisation=tree["north"], name="Oak Northgate Academy")
    assert Organisation.objects.get(pk=tree["north"].pk).name == "Oak Northgate Academy"


def test_renaming_to_the_same_name_records_nothing(tree):
    organisation_rename(by=officer(tree["trust"]), organisation=tree["north"], name=" Oak Trust North  Academy")
    assert not AuditLogEntry.objects.exists()


@pytest.mark.parametrize(
    "name, message",
    [("Oak Trust South Academy", "already has an organisation called"), ("B" * 201, "200 characters"), ("", "name")],
)
def test_a_bad_new_name_is_refused_and_nothing_is_saved(tree, name, message):
    before = saved_state()
    with pytest.raises(ValidationError) as refused:
        organisation_rename(by=officer(tree["trust"]), organisation=tree["north"], name=name)
    assert message in refused.value.message_dict["name"][0]
    assert saved_state() == before


# ---------------------------------------------------------------------------
# Closing
# ---------------------------------------------------------------------------


def test_closing_a_board_closes_what_sits_below_it(tree):
    admin = officer(tree["trust"])
    closed_on = TODAY + timedelta(days=30)
    organisation_close(by=admin, organisation=tree["board"], closed_on=closed_on)
    closed = dict(Organisation.objects.values_list("slug", "closed_on"))
    assert closed == {
        "oak-trust": None,
        "oak-trust-north": None,
        "oak-trust-south": None,
        "oak-trust-board": closed_on,
        "oak-trust-north-lgb": closed_on,
        "oak-trust-south-lgb": closed_on,
    }
    entry = only_entry(AuditAction.ORGANISATION_CLOSED)
    assert entry.details == {
        "closed_on": closed_on.isoformat(),
        "also_closed": sorted([tree["north_lgb"].pk, tree["south_lgb"].pk]),
    }
    assert entry.organisation == tree["board"]


def test_closing_twice_is_refused(tree):
    admin = officer(tree["trust"])
    organisation_close(by=admin, organisation=tree["north"], closed_on=TODAY)
    before = saved_state()
    with pytest.raises(ValidationError) as refused:
        organisation_close(by=admin, organisation=tree["north"], closed_on=TODAY + timedelta(days=1))
    assert "already closed" in refused.value.message_dict["closed_on"][0]
    assert saved_state() == before


def test_only_an_operator_closes_a_trust(tree):
    with pytest.raises(PermissionDenied):
        organisation_close(by=officer(tree["trust"]), organisation=tree["trust"], closed_on=TODAY)
    assert Organisation.objects.get(pk=tree["trust"].pk).closed_on is None


@pytest.fixture
def staff_code(tree):
    """A trust code every employee owes, and an employee in each academy."""
    code = CodeFactory.create(owner=tree["trust"], audience=["employee"])
    north = RoleFactory.create(organisation=tree["north"], kind="employee", starts_on=date(2020, 9, 1)).person
    south = RoleFactory.create(organisation=tree["south"], kind="employee", starts_on=date(2020, 9, 1)).person
    return {"code": code, "north": north, "south": south}


def test_a_closed_organisation_owes_nothing_new_and_keeps_what_it_has(tree, staff_code):
    code, north, south = staff_code["code"], staff_code["north"], staff_code["south"]
    first = adopt(make_version(code, "2024-2025"), tree["board"], held_on=TODAY - timedelta(days=30))
    organisation_close(by=officer(tree["trust"]), organisation=tree["north"], closed_on=TODAY - timedelta(days=10))
    first_adoption = Adoption.objects.values().get(pk=first.pk)

    second = adopt(make_version(code, "2025-2026"), tree["board"], held_on=TODAY - timedelta(days=1))

    assert not Obligation.objects.filter(person=north, version=second.version).exists()
    assert Obligation.objects.filter(person=south, version=second.version).exists()
    # What the academy owed before it closed is untouched, and still made for it.
    kept = Obligation.objects.get(person=north, version=first.version)
    assert (kept.organisation_id, kept.superseded_at) == (tree["north"].pk, None)
    assert Adoption.objects.values().get(pk=first.pk) == first_adoption


def test_someone_joining_a_closed_organisation_owes_nothing(tree, staff_code):
    adopt(make_version(staff_code["code"]), tree["board"], held_on=TODAY - timedelta(days=30))
    organisation_close(by=officer(tree["trust"]), organisation=tree["north"], closed_on=TODAY - timedelta(days=10))
    joiner = PersonFactory.create()
    role_create(person=joiner, organisation=tree["north"], kind="employee", starts_on=TODAY)
    assert not Obligation.objects.filter(person=joiner).exists()
    other = PersonFactory.create()
    role_create(person=other, organisation=tree["south"], kind="employee", starts_on=TODAY)
    assert Obligation.objects.filter(person=other).count() == 1


def test_an_adoption_before_the_closing_day_is_still_owed_there(tree, staff_code):
    organisation_close(by=officer(tree["trust"]), organisation=tree["north"], closed_on=TODAY + timedelta(days=30))
    adoption = adopt(make_version(staff_code["code"]), tree["board"], held_on=TODAY - timedelta(days=1))
    assert Obligation.objects.filter(person=staff_code["north"], version=adoption.version).exists()


# ---------------------------------------------------------------------------
# Moving
# ---------------------------------------------------------------------------


def test_moving_a_board_moves_its_subtree_and_rewrites_no_evidence(tree, staff_code):
    admin = officer(tree["trust"])
    committee = organisation_create(by=admin, parent=tree["north_lgb"], kind="committee", name="Finance Committee")
    adoption = adopt(make_version(staff_code["code"]), tree["north_lgb"], held_on=TODAY - timedelta(days=1))
    obligations = list(Obligation.objects.order_by("pk").values())
    adoption_row = Adoption.objects.values().get(pk=adoption.pk)

    organisation_move(by=admin, organisation=tree["north_lgb"], new_parent=tree["south_lgb"])

    lgb = Organisation.objects.get(pk=tree["north_lgb"].pk)
    assert (lgb.parent_id, lgb.path) == (tree["south_lgb"].pk, f"{tree['south_lgb'].path}{lgb.pk:06d}/")
    assert Organisation.objects.get(pk=committee.pk).path == f"{lgb.path}{committee.pk:06d}/"
    assert Organisation.objects.get(pk=tree["north"].pk).path == tree["north"].path  # only the subtree moved
    assert list(Obligation.objects.order_by("pk").values()) == obligations
    assert Adoption.objects.values().get(pk=adoption.pk) == adoption_row
    assert adoption_evidence_hash(Adoption.objects.get(pk=adoption.pk)) == adoption.evidence_hash

    entry = only_entry(AuditAction.ORGANISATION_MOVED)
    assert entry.details == {
        "from_parent_id": tree["board"].pk,
        "to_parent_id": tree["south_lgb"].pk,
        "from_path": tree["north_lgb"].path,
        "to_path": lgb.path,
        "organisations_moved": 2,
    }


def test_an_academy_with_no_board_of_its_own_transfers_to_another_trust(tree, other_tree):
    both = officer(tree["trust"])
    RoleFactory.create(person=both, organisation=other_tree["trust"], kind="admin")
    academy = organisation_create(by=both, parent=tree["trust"], kind="school", name="Oak West Academy")
    organisation_move(by=both, organisation=academy, new_parent=other_tree["trust"])
    assert Organisation.objects.get(pk=academy.pk).path == f"{other_tree['trust'].path}{academy.pk:06d}/"


def test_a_move_needs_the_right_to_manage_both_places(tree, other_tree):
    academy = organisation_create(by=officer(tree["trust"]), parent=tree["trust"], kind="school", name="Oak West")
    before = saved_state()
    with pytest.raises(PermissionDenied):
        organisation_move(by=officer(tree["trust"]), organisation=academy, new_parent=other_tree["trust"])
    with pytest.raises(PermissionDenied):
        organisation_move(by=officer(other_tree["trust"]), organisation=academy, new_parent=other_tree["trust"])
    assert saved_state() == before


MOVE_REFUSALS = {
    "under one of its own sub-organisations": ("board", "north_lgb", "cannot move under itself"),
    "where it already is": ("north_lgb", "board", "already sits under"),
    "a kind that makes no sense there": ("north", "board", "A school or academy cannot sit under Oak Trust Board"),
    "next to a sibling of the same name": ("north_lgb", "south_lgb", "already has an organisation called"),
    "away from the board that governs it": ("north", "elm:trust", "Oak Trust North LGB governs Oak Trust North"),
}


@pytest.mark.parametrize("moving, to, message", MOVE_REFUSALS.values(), ids=MOVE_REFUSALS.keys())
def test_a_move_that_makes_no_sense_is_refused_and_nothing_changes(tree, other_tree, moving, to, message):
    if moving == "north_lgb" and to == "south_lgb":
        OrganisationFactory.create(name="Oak Trust North LGB", kind="board", parent=tree["south_lgb"])
    new_parent = other_tree["trust"] if to == "elm:trust" else tree[to]
    before = saved_state()
    with pytest.raises(ValidationError) as refused:
        organisation_move(by=operator(), organisation=tree[moving], new_parent=new_parent)
    assert any(message in text for text in refused.value.message_dict["new_parent"]), refused.value.message_dict
    assert saved_state() == before


# ---------------------------------------------------------------------------
# Network memberships
# ---------------------------------------------------------------------------


def test_the_network_asks_and_only_the_school_accepts(tree, network):
    network_admin, school_admin = officer(network["network"]), officer(tree["north"])
    membership = network_membership_request(by=network_admin, network=network["hub"], school=tree["north"])
    assert (membership.status, membership.joined_on) == (MembershipStatus.PENDING, None)
    assert not NetworkMembership.objects.current().exists()
    assert network_dashboard_schools(network["network"]) == {}

    before = saved_state()
    for outsider in (network_admin, officer(tree["south"]), officer(network["hub"])):
        with pytest.raises(PermissionDenied):
            network_membership_accept(by=outsider, membership=membership)
    assert saved_state() == before

    network_membership_accept(by=school_admin, membership=membership)
    membership.refresh_from_db()
    assert (membership.status, membership.joined_on) == (MembershipStatus.ACCEPTED, TODAY)
    assert list(NetworkMembership.objects.current()) == [membership]
    assert network_dashboard_schools(network["network"]) == {tree["north"].pk: "Oak Trust North Academy"}

    requested, accepted = only_entry(AuditAction.MEMBERSHIP_REQUESTED), only_entry(AuditAction.MEMBERSHIP_ACCEPTED)
    assert (requested.actor, requested.organisation, requested.target_id) == (
        network_admin,
        network["hub"],
        str(membership.pk),
    )
    assert (accepted.actor, accepted.organisation) == (school_admin, tree["north"])
    assert accepted.details["joined_on"] == TODAY.isoformat()


def test_a_network_admin_cannot_change_a_member_school(tree, network):
    network_admin = officer(network["network"])
    membership = network_membership_request(by=network_admin, network=network["network"], school=tree["north"])
    network_membership_accept(by=officer(tree["north"]), membership=membership)
    before = saved_state()
    with pytest.raises(PermissionDenied):
        organisation_rename(by=network_admin, organisation=tree["north"], name="Partners Academy")
    with pytest.raises(PermissionDenied):
        organisation_close(by=network_admin, organisation=tree["north"], closed_on=TODAY)
    with pytest.raises(PermissionDenied):
        organisation_create(by=network_admin, parent=tree["north"], kind="committee", name="Partners Committee")
    with pytest.raises(PermissionDenied):
        organisation_move(by=network_admin, organisation=tree["north"], new_parent=network["network"])
    assert saved_state() == before


def test_a_school_admin_cannot_ask_their_school_into_a_network(tree, network):
    with pytest.raises(PermissionDenied):
        network_membership_request(by=officer(tree["north"]), network=network["network"], school=tree["north"])
    assert not NetworkMembership.objects.exists()


def test_either_side_ends_a_membership_and_the_spell_stays(tree, network):
    membership = network_membership_request(
        by=officer(network["network"]), network=network["hub"], school=tree["north"]
    )
    network_membership_accept(by=officer(tree["north"]), membership=membership, joined_on=TODAY - timedelta(days=100))
    ended_on = TODAY - timedelta(days=1)
    school_admin = officer(tree["north"])
    network_membership_end(by=school_admin, membership=membership, ended_on=ended_on)
    membership.refresh_from_db()
    assert (membership.status, membership.left_on) == (MembershipStatus.ACCEPTED, ended_on)
    assert NetworkMembership.objects.current(ended_on).exists()
    assert not NetworkMembership.objects.current(TODAY).exists()
    entry = only_entry(AuditAction.MEMBERSHIP_ENDED)
    assert (entry.actor, entry.organisation, entry.details["left_on"]) == (
        school_admin,
        tree["north"],
        ended_on.isoformat(),
    )
    # Now it has ended, the network may ask again.
    again = network_membership_request(by=officer(network["network"]), network=network["hub"], school=tree["north"])
    assert again.status == MembershipStatus.PENDING


def test_the_network_ends_a_membership_in_its_own_log(tree, network):
    membership = network_membership_request(
        by=officer(network["network"]), network=network["hub"], school=tree["north"]
    )
    network_membership_accept(by=officer(tree["north"]), membership=membership)
    network_admin = officer(network["hub"])
    network_membership_end(by=network_admin, membership=membership, ended_on=TODAY)
    assert only_entry(AuditAction.MEMBERSHIP_ENDED).organisation == network["hub"]
    with pytest.raises(PermissionDenied):
        network_membership_end(by=officer(tree["south"]), membership=membership, ended_on=TODAY)


def test_membership_requests_that_make_no_sense_are_refused(tree, network):
    network_admin = officer(network["network"])
    with pytest.raises(ValidationError) as refused:
        network_membership_request(by=operator(), network=tree["trust"], school=tree["north"])
    assert "not a network or hub" in refused.value.message_dict["network"][0]
    with pytest.raises(ValidationError) as refused:
        network_membership_request(by=network_admin, network=network["hub"], school=tree["north_lgb"])
    assert "not a school" in refused.value.message_dict["school"][0]

    membership = network_membership_request(by=network_admin, network=network["hub"], school=tree["north"])
    before = saved_state()
    with pytest.raises(ValidationError) as refused:
        network_membership_request(by=network_admin, network=network["hub"], school=tree["north"])
    assert "already been asked" in refused.value.message_dict["school"][0]
    with pytest.raises(ValidationError) as refused:
        network_membership_end(by=network_admin, membership=membership, ended_on=TODAY)
    assert "has not accepted" in refused.value.message_dict["membership"][0]
    assert saved_state() == before

    network_membership_accept(by=officer(tree["north"]), membership=membership)
    before = saved_state()
    with pytest.raises(ValidationError) as refused:
        network_membership_request(by=network_admin, network=network["hub"], school=tree["north"])
    assert "already a member" in refused.value.message_dict["school"][0]
    with pytest.raises(ValidationError) as refused:
        network_membership_accept(by=officer(tree["north"]), membership=membership)
    assert "already accepted" in refused.value.message_dict["membership"][0]
    with pytest.raises(ValidationError) as refused:
        network_membership_end(by=network_admin, membership=membership, ended_on=TODAY - timedelta(days=1))
    assert "on or after it began" in refused.value.message_dict["ended_on"][0]
    assert saved_state() == before


def test_a_closed_school_is_not_asked_to_join(tree, network):
    organisation_close(by=officer(tree["trust"]), organisation=tree["north"], closed_on=TODAY)
    with pytest.raises(ValidationError) as refused:
        network_membership_request(by=officer(network["network"]), network=network["hub"], school=tree["north"])
    assert "has closed" in refused.value.message_dict["school"][0]


def test_memberships_recorded_directly_count_as_accepted(tree, network):
    membership = NetworkMembership.objects.create(
        network=network["hub"], school=tree["north"], joined_on=date(2023, 9, 1)
    )
    assert membership.status == MembershipStatus.ACCEPTED
    assert list(NetworkMembership.objects.current()) == [membership]
