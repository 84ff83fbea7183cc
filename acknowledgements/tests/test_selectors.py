"""acknowledgements.selectors: what each page shows, in a fixed number of queries however many rows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from acknowledgements.declarations import DeclarationData, InterestData, declaration_make
from acknowledgements.events import event_pdf_downloaded
from acknowledgements.invitations import invitation_create
from acknowledgements.models import ObligationStatus
from acknowledgements.selectors import (
    invitations_managed_by,
    my_codes,
    paper_obligations,
    record_page,
    recordable_obligation,
)
from acknowledgements.tests.factories import META, Owing, owing, sign
from conduct.models import Person
from conduct.services import role_create
from conduct.tests.factories import PersonFactory, RoleFactory
from core.academic_year import academic_year_label, academic_year_start

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 20)  # in the 2026–27 academic year


def interests(count: int) -> DeclarationData:
    return DeclarationData(
        nothing_to_declare=False,
        interests=tuple(
            InterestData(kind="business", counterparty=f"Company {n}", nature="Director", starts_on=date(2020, 1, 1))
            for n in range(count)
        ),
    )


def governor(name: str = "Ash Trust", person: Person | None = None) -> Owing:
    return owing(name=name, kind="local_governor", where="north_lgb", requires_declaration=True, person=person)


# ---------------------------------------------------------------------------
# My codes
# ---------------------------------------------------------------------------


def test_my_codes_lists_what_is_owed_and_signed(db):
    owed = owing(name="Oak Trust")
    signed = owing(name="Elm Trust", person=owed.person)
    ack = sign(signed, issue_pdf=False).acknowledgement
    today = timezone.localdate()

    page = my_codes(owed.person, today)

    assert [row.obligation.version for row in page.to_sign] == [owed.version]
    assert page.to_sign[0].status in (ObligationStatus.OUTSTANDING, ObligationStatus.OVERDUE)
    assert page.signed == [ack]
    assert page.declarations == [] and page.may_declare and not page.declaration_lapsed  # not a governor
    assert page.academic_year == academic_year_start(today)
    assert page.academic_year_label == academic_year_label(today)


def test_a_governors_declaration_lapses_with_the_academic_year(db):
    who = governor()
    declaration_make(
        person=who.person,
        organisation=who.orgs["north_lgb"],
        declaration=interests(1),
        at=timezone.now() - timedelta(days=1),
    )
    today = timezone.localdate()
    this_year = my_codes(who.person, today)
    next_year = my_codes(who.person, academic_year_start(today).replace(year=academic_year_start(today).year + 1))

    assert not this_year.declaration_lapsed
    assert next_year.declaration_lapsed and next_year.academic_year_label == academic_year_label(
        academic_year_start(today).year + 1
    )


def test_my_codes_takes_the_same_queries_for_one_code_as_for_several(db, django_assert_num_queries):
    few = governor()
    sign(few, declaration=interests(1), issue_pdf=False)
    many = governor(name="Fir Trust")
    sign(many, declaration=interests(3), issue_pdf=False)
    for name in ("Elm Trust", "Yew Trust", "Box Trust"):
        more = governor(name=name, person=many.person)
        sign(more, declaration=interests(2), issue_pdf=False)
    governor(name="Bay Trust", person=many.person)  # one still owed
    today = timezone.localdate()

    # Signed, owed, declarations and their interests, where one may declare; this year's declaration is
    # there, so no query asks whether they govern anywhere.
    with django_assert_num_queries(5):
        few_page = my_codes(few.person, today)
    with django_assert_num_queries(5):
        many_page = my_codes(many.person, today)
    assert (len(few_page.signed), len(many_page.signed), len(many_page.to_sign)) == (1, 4, 1)
    assert len(many_page.declarations) == 4 and all(d.interests.all() for d in many_page.declarations)


# ---------------------------------------------------------------------------
# One record
# ---------------------------------------------------------------------------


def test_the_record_page_is_for_its_person_and_officers_only(staff):
    ack = sign(staff, issue_pdf=False).acknowledgement
    admin = PersonFactory.create()
    RoleFactory.create(person=admin, organisation=staff.orgs["trust"], kind="admin")
    colleague = PersonFactory.create()
    RoleFactory.create(person=colleague, organisation=staff.orgs["north"], kind="employee")

    own = record_page(staff.person, ack.pk)
    seen = record_page(admin, ack.pk)

    assert own is not None and own.own and own.ack == ack and own.pdf is None and own.evidence_intact
    assert seen is not None and not seen.own and not seen.may_correct  # signed online: nothing to correct
    assert record_page(colleague, ack.pk) is None
    assert record_page(staff.person, ack.pk + 1000) is None


def test_the_record_page_takes_the_same_queries_for_one_interest_and_event_as_for_several(
    db, django_assert_num_queries
):
    few = governor()
    few_ack = sign(few, declaration=interests(1), issue_pdf=False).acknowledgement
    many = governor(name="Fir Trust")
    many_ack = sign(many, declaration=interests(4), issue_pdf=False).acknowledgement
    for _ in range(3):
        event_pdf_downloaded(acknowledgement=many_ack, by=many.person, request_meta=META)

    # The record, its PDF, declaration and interests, audit trail, the evidence recomputed (declaration,
    # interests, pre-signing events) and any correction. The person's own: no grants to read.
    with django_assert_num_queries(9):
        few_page = record_page(few.person, few_ack.pk)
    with django_assert_num_queries(9):
        many_page = record_page(many.person, many_ack.pk)
    assert few_page is not None and many_page is not None
    assert many_page.declaration is not None and len(many_page.declaration.interests.all()) == 4
    assert len(many_page.events) == len(few_page.events) + 3


# ---------------------------------------------------------------------------
# Paper signatures and invitations
# ---------------------------------------------------------------------------


def test_paper_obligations_are_those_open_where_the_user_records_them(staff, django_assert_num_queries):
    clerk = PersonFactory.create()
    RoleFactory.create(person=clerk, organisation=staff.orgs["north"], kind="clerk")
    elsewhere = owing(name="Elm Trust")

    with django_assert_num_queries(2):  # the clerk's grants, then the list
        assert [o.person for o in paper_obligations(clerk)] == [staff.person]
    for name in ("Ann Able", "Ben Baker", "Cy Cole"):  # joiners owe the code in force from their first day
        joiner = PersonFactory.create(full_name=name)
        role_create(person=joiner, organisation=staff.orgs["north"], kind="employee", starts_on=TODAY)
    with django_assert_num_queries(1):  # the grants are cached on the user now
        listed = list(paper_obligations(clerk))
    assert [o.person.full_name for o in listed] == ["Ada Lovelace", "Ann Able", "Ben Baker", "Cy Cole"]
    assert [o.person for o in paper_obligations(clerk, staff.person.email.upper())] == [staff.person]
    assert recordable_obligation(clerk, staff.obligation.pk) == staff.obligation
    assert recordable_obligation(clerk, elsewhere.obligation.pk) is None
    assert recordable_obligation(staff.person, staff.obligation.pk) is None


def test_invitations_are_listed_where_the_user_manages_people(staff):
    admin = PersonFactory.create()
    RoleFactory.create(person=admin, organisation=staff.orgs["trust"], kind="admin")
    elsewhere = owing(name="Elm Trust")
    other_admin = PersonFactory.create()
    RoleFactory.create(person=other_admin, organisation=elsewhere.orgs["trust"], kind="admin")
    invited = invitation_create(
        invited_by=admin,
        full_name="Nia New",
        email="nia@example.org",
        organisation=staff.orgs["south"],
        kind="employee",
        starts_on=TODAY,
    ).invitation

    assert list(invitations_managed_by(admin)) == [invited]
    assert list(invitations_managed_by(other_admin)) == []
    assert list(invitations_managed_by(staff.person)) == []
