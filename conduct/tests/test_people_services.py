"""conduct.people: correcting details, joiners, movers, leavers and accounts, each with its audit entry."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from acknowledgements.models import Obligation
from conduct.models import AuditAction, AuditLogEntry, Person, Role
from conduct.people import (
    person_deactivate,
    person_details_update,
    person_move,
    person_reactivate,
    person_record_leaver,
    role_add,
    role_end,
    role_update_governance,
)
from conduct.tests.factories import CodeFactory, PersonFactory, RoleFactory, adopt, make_version

TODAY = timezone.localdate()


@pytest.fixture
def officers(tree):
    trust_admin, clerk, school_admin = PersonFactory.create(), PersonFactory.create(), PersonFactory.create()
    RoleFactory.create(person=trust_admin, organisation=tree["trust"], kind="admin")
    RoleFactory.create(person=clerk, organisation=tree["north_lgb"], kind="clerk")
    RoleFactory.create(person=school_admin, organisation=tree["north"], kind="admin")
    return {"trust_admin": trust_admin, "clerk": clerk, "school_admin": school_admin}


@pytest.fixture
def staff(tree):
    return RoleFactory.create(person__full_name="Jon Smyth", organisation=tree["north"], kind="employee").person


def entries(action: AuditAction, subject: Person) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(action=action, subject=subject))


# --- Details


def test_an_admin_corrects_a_name_and_email_and_the_change_is_audited(officers, staff):
    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)
    old_email = staff.email
    person_details_update(
        actor=officers["trust_admin"], person=staff, full_name="  Jon   Smith ", email="Jon.Smith@Example.org"
    )
    staff.refresh_from_db()
    assert (staff.full_name, staff.email) == ("Jon Smith", "jon.smith@example.org")
    # The new address must be verified again; the old one is gone.
    assert list(EmailAddress.objects.filter(user=staff).values_list("email", "verified", "primary")) == [
        ("jon.smith@example.org", False, True)
    ]
    [entry] = entries(AuditAction.PERSON_CHANGED, staff)
    assert entry.actor == officers["trust_admin"]
    assert entry.details["before"] == {"full_name": "Jon Smyth", "email": old_email, "is_active": True}
    assert entry.details["after"]["full_name"] == "Jon Smith" and entry.details["via"] == "web"


def test_nothing_changed_records_nothing(officers, staff):
    person_details_update(actor=officers["trust_admin"], person=staff, full_name=staff.full_name, email=staff.email)
    assert not entries(AuditAction.PERSON_CHANGED, staff)


@pytest.mark.parametrize(
    ("full_name", "email", "field"),
    [
        ("", "ok@example.org", "full_name"),
        ("x" * 201, "ok@example.org", "full_name"),
        ("Name", "a" * 250 + "@example.org", "email"),
        ("Name", "not-an-email", "email"),
    ],
)
def test_bad_details_are_refused_and_nothing_is_saved(officers, staff, full_name, email, field):
    before = (staff.full_name, staff.email)
    with pytest.raises(ValidationError) as raised:
        person_details_update(actor=officers["trust_admin"], person=staff, full_name=full_name, email=email)
    assert field in raised.value.message_dict
    staff.refresh_from_db()
    assert (staff.full_name, staff.email) == before
    assert not AuditLogEntry.objects.exists()


def test_an_email_someone_else_has_is_refused_ignoring_case(officers, staff):
    other = PersonFactory.create(email="taken@example.org")
    with pytest.raises(ValidationError) as raised:
        person_details_update(actor=officers["trust_admin"], person=staff, full_name="X", email="TAKEN@example.org")
    assert "Someone else" in raised.value.message_dict["email"][0]
    assert Person.objects.get(pk=other.pk).email == "taken@example.org"


def test_another_trusts_admin_and_a_clerk_of_another_board_cannot_change_them(officers, staff, other_tree):
    outsider = PersonFactory.create()
    RoleFactory.create(person=outsider, organisation=other_tree["trust"], kind="admin")
    south_clerk = PersonFactory.create()
    RoleFactory.create(person=south_clerk, organisation=other_tree["south_lgb"], kind="clerk")
    for actor in (outsider, south_clerk, officers["clerk"]):  # the north clerk manages the board, not the school
        with pytest.raises(PermissionDenied):
            person_details_update(actor=actor, person=staff, full_name="Changed", email=staff.email)
    staff.refresh_from_db()
    assert staff.full_name == "Jon Smyth"


def test_a_clerk_cannot_change_an_admins_details(officers, tree):
    governor_admin = PersonFactory.create()
    RoleFactory.create(person=governor_admin, organisation=tree["north_lgb"], kind="local_governor")
    RoleFactory.create(person=governor_admin, organisation=tree["north"], kind="admin")
    with pytest.raises(PermissionDenied):
        person_details_update(actor=officers["clerk"], person=governor_admin, full_name="X", email="hijack@example.org")
    governor = RoleFactory.create(organisation=tree["north_lgb"], kind="local_governor").person
    person_details_update(actor=officers["clerk"], person=governor, full_name="Fixed Name", email=governor.email)
    assert Person.objects.get(pk=governor.pk).full_name == "Fixed Name"


# --- Roles


def test_role_add_grants_a_role_and_opens_what_it_owes(officers, tree, staff):
    code = CodeFactory.create(owner=tree["trust"], audience=["employee", "volunteer"])
    adopt(make_version(code), tree["board"])
    role = role_add(
        actor=officers["school_admin"],
        person=staff,
        organisation=tree["north"],
        kind="volunteer",
        starts_on=TODAY,
        via="csv",
    )
    assert Role.objects.filter(pk=role.pk, kind="volunteer").exists()
    [entry] = entries(AuditAction.ROLE_GRANTED, staff)
    assert entry.details["after"]["kind"] == "volunteer" and entry.details["via"] == "csv"
    assert entry.organisation == tree["north"]


def test_only_admins_grant_officer_roles_and_clerks_only_on_their_boards(officers, tree, staff):
    governor = RoleFactory.create(organisation=tree["north_lgb"], kind="local_governor").person
    with pytest.raises(PermissionDenied):
        role_add(
            actor=officers["clerk"], person=governor, organisation=tree["north_lgb"], kind="chair", starts_on=TODAY
        )
    with pytest.raises(PermissionDenied):
        role_add(
            actor=officers["clerk"],
            person=governor,
            organisation=tree["south_lgb"],
            kind="local_governor",
            starts_on=TODAY,
        )
    role_add(actor=officers["clerk"], person=governor, organisation=tree["north_lgb"], kind="trustee", starts_on=TODAY)
    role_add(
        actor=officers["trust_admin"], person=governor, organisation=tree["north_lgb"], kind="chair", starts_on=TODAY
    )
    assert set(Role.objects.filter(person=governor).values_list("kind", flat=True)) == {
        "local_governor",
        "trustee",
        "chair",
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "wizard"}, "kind"),
        ({"title": "t" * 121}, "title"),
        ({"appointed_by": "a" * 201}, "appointed_by"),
        ({"ends_on": date(2019, 1, 1)}, "ends_on"),
        ({"starts_on": date(1899, 12, 31)}, "starts_on"),
        ({"term_ends_on": date(2101, 1, 1)}, "term_ends_on"),
        ({"category": "nonsense"}, "category"),
        ({"kind": "employee"}, "starts_on"),  # overlaps the role held since 2020
    ],
)
def test_bad_roles_are_refused_and_nothing_is_saved(officers, tree, staff, fields, field):
    arguments = {"kind": "volunteer", "starts_on": date(2020, 1, 1), **fields}
    with pytest.raises(ValidationError) as raised:
        role_add(actor=officers["trust_admin"], person=staff, organisation=tree["north"], **arguments)
    assert field in raised.value.message_dict
    assert Role.objects.filter(person=staff).count() == 1
    assert not AuditLogEntry.objects.exists()


def test_governance_details_are_changed_with_before_and_after(officers, tree):
    role = RoleFactory.create(organisation=tree["north_lgb"], kind="local_governor", starts_on=date(2022, 9, 1))
    role_update_governance(
        actor=officers["clerk"],
        role=role,
        category="parent",
        appointed_by="Parents of North Academy",
        starts_on=date(2022, 9, 5),
        term_ends_on=date(2026, 9, 4),
        title="Vice-chair",
    )
    role.refresh_from_db()
    assert (role.category, role.appointed_by, role.starts_on, role.term_ends_on) == (
        "parent",
        "Parents of North Academy",
        date(2022, 9, 5),
        date(2026, 9, 4),
    )
    [entry] = entries(AuditAction.ROLE_CHANGED, role.person)
    assert entry.details["before"]["category"] == "" and entry.details["after"]["category"] == "parent"
    with pytest.raises(ValidationError) as raised:
        role_update_governance(
            actor=officers["clerk"],
            role=role,
            category="parent",
            appointed_by="",
            starts_on=date(2022, 9, 5),
            term_ends_on=date(2020, 1, 1),
            title="",
        )
    assert "term_ends_on" in raised.value.message_dict


def test_ending_a_role_twice_ends_it_once(officers, tree, staff):
    role = staff.roles.get()
    role_end(actor=officers["school_admin"], role=role, ends_on=TODAY, reason="Resigned")
    with pytest.raises(ValidationError):
        role_end(actor=officers["school_admin"], role=Role.objects.get(pk=role.pk), ends_on=TODAY, reason="Again")
    role.refresh_from_db()
    assert (role.ends_on, role.end_reason) == (TODAY, "Resigned")
    assert len(entries(AuditAction.ROLE_ENDED, staff)) == 1


def test_a_role_cannot_end_before_it_began_or_without_a_reason(officers, staff):
    role = staff.roles.get()
    with pytest.raises(ValidationError) as raised:
        role_end(actor=officers["school_admin"], role=role, ends_on=date(2019, 1, 1), reason="")
    assert set(raised.value.message_dict) == {"ends_on", "reason"}
    assert Role.objects.get(pk=role.pk).ends_on is None


# --- Leavers and movers


@pytest.fixture
def owed(tree, staff):
    """The staff member owes the trust's staff code, adopted by the trust board for all its academies."""
    code = CodeFactory.create(owner=tree["trust"], audience=["employee"])
    adopt(make_version(code), tree["board"], held_on=TODAY - timedelta(days=10))
    return Obligation.objects.get(person=staff)


def test_a_leaver_owes_nothing_after_their_last_day_and_keeps_roles_elsewhere(officers, tree, other_tree, staff, owed):
    RoleFactory.create(person=staff, organisation=tree["north_lgb"], kind="local_governor")
    RoleFactory.create(person=staff, organisation=other_tree["south"], kind="volunteer")
    ended = person_record_leaver(
        actor=officers["trust_admin"], person=staff, ends_on=TODAY, reason="Resigned", within=tree["trust"]
    )
    assert {role.kind for role in ended} == {"employee", "local_governor"}
    assert Role.objects.get(person=staff, organisation=other_tree["south"]).ends_on is None
    # Owed today (their last day), not tomorrow.
    assert Obligation.objects.filter(pk=owed.pk).open().for_current_roles(TODAY).exists()
    assert not Obligation.objects.filter(pk=owed.pk).open().for_current_roles(TODAY + timedelta(days=1)).exists()
    [entry] = entries(AuditAction.PERSON_LEFT, staff)
    assert len(entry.details["after"]) == 2 and entry.organisation == tree["trust"]
    with pytest.raises(ValidationError):  # nothing left to end
        person_record_leaver(
            actor=officers["trust_admin"], person=staff, ends_on=TODAY, reason="Again", within=tree["trust"]
        )


def test_a_clerk_cannot_record_an_officer_leaving(officers, tree):
    chair = RoleFactory.create(organisation=tree["north_lgb"], kind="chair").person
    with pytest.raises(PermissionDenied):
        person_record_leaver(
            actor=officers["clerk"], person=chair, ends_on=TODAY, reason="Left", within=tree["north_lgb"]
        )
    assert Role.objects.get(person=chair).ends_on is None


def test_a_mover_carries_what_they_owe_to_the_new_role(officers, tree, staff, owed):
    old = staff.roles.get()
    new = person_move(
        actor=officers["trust_admin"], role=old, organisation=tree["south"], kind="employee", on=TODAY, title="Teacher"
    )
    old.refresh_from_db()
    assert old.ends_on == TODAY - timedelta(days=1) and new.starts_on == TODAY
    owed.refresh_from_db()
    assert (owed.role_id, owed.organisation_id) == (new.pk, tree["south"].pk)
    assert Obligation.objects.filter(pk=owed.pk).open().for_current_roles(TODAY + timedelta(days=30)).exists()
    [entry] = entries(AuditAction.PERSON_MOVED, staff)
    assert entry.details["after"]["started"]["role_id"] == new.pk


def test_a_move_to_the_same_role_or_before_it_began_is_refused(officers, tree, staff):
    old = staff.roles.get()
    with pytest.raises(ValidationError) as raised:
        person_move(actor=officers["trust_admin"], role=old, organisation=tree["north"], kind="employee", on=TODAY)
    assert "kind" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        person_move(
            actor=officers["trust_admin"], role=old, organisation=tree["south"], kind="employee", on=date(2019, 1, 1)
        )
    assert "on" in raised.value.message_dict
    assert Role.objects.filter(person=staff).count() == 1


# --- Accounts


def test_deactivating_stops_sign_in_keeps_history_and_is_recorded_once(officers, staff, client_for):
    person_deactivate(actor=officers["trust_admin"], person=staff)
    person_deactivate(actor=officers["trust_admin"], person=staff)  # a second click changes nothing
    staff.refresh_from_db()
    assert not staff.is_active and staff.roles.count() == 1
    assert len(entries(AuditAction.PERSON_DEACTIVATED, staff)) == 1
    assert client_for(staff).get("/").wsgi_request.user.is_anonymous
    person_reactivate(actor=officers["trust_admin"], person=staff)
    assert Person.objects.get(pk=staff.pk).is_active
    assert len(entries(AuditAction.PERSON_REACTIVATED, staff)) == 1


def test_nobody_deactivates_themselves(officers):
    with pytest.raises(PermissionDenied):
        person_deactivate(actor=officers["trust_admin"], person=officers["trust_admin"])
