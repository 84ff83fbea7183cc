"""The access rules of acknowledgements' pages (conduct.permissions, "Records and people"), each true and false
for the right people: the record's own person, an officer of the same organisation, an officer of another
trust, a signatory colleague and an anonymous visitor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from acknowledgements.models import Acknowledgement
from acknowledgements.paper import acknowledgement_record_on_behalf
from acknowledgements.tests.factories import META, Owing, owing, sign
from conduct.models import OFFICER_ROLE_KINDS, Organisation, Person, RoleKind
from conduct.permissions import (
    can_correct_record,
    can_manage_people,
    can_record_on_behalf,
    can_view_record,
    manages_people,
    may_grant_role,
    organisations_managed_by,
    records_paper_signatures,
    role_kinds_grantable,
)
from conduct.tests.factories import PersonFactory, RoleFactory

pytestmark = pytest.mark.django_db

NON_OFFICER_KINDS = [kind for kind in RoleKind.values if kind not in OFFICER_ROLE_KINDS]


def anonymous() -> Person:
    """The visitor a template or a public page passes in; the rules take it as they take a person."""
    return cast(Person, AnonymousUser())


def holding(organisation: Organisation, kind: str) -> Person:
    person = PersonFactory.create()
    RoleFactory.create(person=person, organisation=organisation, kind=kind)
    return person


@dataclass
class People:
    staff: Owing  # owes (and signs) the Oak Trust code at North Academy
    admin: Person  # Oak Trust's admin
    clerk: Person  # North Academy's clerk: manages people and records paper signatures there, grants no officers
    colleague: Person  # an employee beside them: a signatory, no reach
    elsewhere: Person  # Elm Trust's admin


@pytest.fixture
def people(staff: Owing) -> People:
    colleague = holding(staff.orgs["north"], "employee")
    elm = owing(name="Elm Trust")
    return People(
        staff=staff,
        admin=holding(staff.orgs["trust"], "admin"),
        clerk=holding(staff.orgs["north"], "clerk"),
        colleague=colleague,
        elsewhere=holding(elm.orgs["trust"], "admin"),
    )


def paper_record(people: People) -> Acknowledgement:
    return acknowledgement_record_on_behalf(
        person=people.staff.person,
        version=people.staff.version,
        recorded_by=people.clerk,
        typed_name=people.staff.person.full_name,
        paper_signed_on=timezone.localdate(),
        reason="Signed on paper at the staff meeting.",
        declaration=None,
        request_meta=META,
        issue_pdf=False,
    ).acknowledgement


def test_a_record_is_seen_by_its_person_and_the_officers_where_it_was_made(people):
    ack = sign(people.staff, issue_pdf=False).acknowledgement

    def sees(user: Person) -> bool:
        return can_view_record(user, person_id=ack.person_id, organisation=ack.organisation)

    assert sees(people.staff.person) and sees(people.admin) and sees(people.clerk)
    assert not sees(people.colleague)
    assert not sees(people.elsewhere)
    assert not sees(anonymous())
    assert not sees(holding(people.staff.orgs["south"], "admin"))  # the other academy's admin


def test_only_a_paper_record_is_corrected_and_only_by_who_records_paper_signatures_there(people):
    paper = paper_record(people)

    assert can_correct_record(people.clerk, on_behalf=paper.on_behalf, organisation=paper.organisation)
    assert can_correct_record(people.admin, on_behalf=paper.on_behalf, organisation=paper.organisation)
    for user in (people.staff.person, people.colleague, people.elsewhere, anonymous()):
        assert not can_correct_record(user, on_behalf=paper.on_behalf, organisation=paper.organisation)
    superuser = PersonFactory.create(is_superuser=True)
    assert can_correct_record(superuser, on_behalf=True, organisation=paper.organisation)
    assert not can_correct_record(superuser, on_behalf=False, organisation=paper.organisation)  # signed online


def test_paper_signatures_are_recorded_by_admins_and_clerks_of_the_organisation(people):
    north = people.staff.orgs["north"]
    assert can_record_on_behalf(people.clerk, north) and can_record_on_behalf(people.admin, north)
    assert records_paper_signatures(people.clerk) and records_paper_signatures(people.admin)
    for user in (people.staff.person, people.colleague, people.elsewhere, anonymous()):
        assert not can_record_on_behalf(user, north)
    for user in (people.staff.person, people.colleague, anonymous()):
        assert not records_paper_signatures(user)
    assert not can_record_on_behalf(people.clerk, people.staff.orgs["south"])


def test_officer_roles_are_granted_by_admins_only_other_roles_by_whoever_manages_people(people):
    north = people.staff.orgs["north"]
    for officer_kind in OFFICER_ROLE_KINDS:
        assert may_grant_role(people.admin, officer_kind, north)
        assert not may_grant_role(people.clerk, officer_kind, north)
    for kind in NON_OFFICER_KINDS:
        assert may_grant_role(people.admin, kind, north) and may_grant_role(people.clerk, kind, north)
    for user in (people.staff.person, people.colleague, people.elsewhere, anonymous()):
        assert not any(may_grant_role(user, kind, north) for kind in RoleKind.values)
    assert not may_grant_role(people.clerk, "employee", people.staff.orgs["south"])


def test_a_forms_role_choices_are_the_kinds_the_user_may_grant_where_they_manage_people(people):
    assert role_kinds_grantable(people.admin, organisations_managed_by(people.admin)) == list(RoleKind.values)
    assert role_kinds_grantable(people.clerk, organisations_managed_by(people.clerk)) == NON_OFFICER_KINDS
    assert role_kinds_grantable(people.colleague, organisations_managed_by(people.colleague)) == []


def test_people_are_managed_by_admins_and_clerks_in_their_own_part_of_the_tree(people):
    orgs = people.staff.orgs
    assert list(organisations_managed_by(people.clerk)) == [orgs["north"]]
    assert set(organisations_managed_by(people.admin)) == set(orgs.values())
    assert [org.path for org in organisations_managed_by(people.admin)] == sorted(org.path for org in orgs.values())
    assert can_manage_people(people.clerk, orgs["north"]) and not can_manage_people(people.clerk, orgs["trust"])
    assert manages_people(people.clerk) and manages_people(people.admin)
    for user in (people.staff.person, people.colleague, anonymous()):
        assert not manages_people(user) and not organisations_managed_by(user).exists()
    assert not can_manage_people(people.elsewhere, orgs["north"])
