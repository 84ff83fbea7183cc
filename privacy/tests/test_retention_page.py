"""The admins' retention page (/privacy/retention/): who sees it, what it shows, and its fixed query count."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acknowledgements.models import EmailKind, EmailStatus, Invitation, OutgoingEmail
from conduct.models import Organisation, Person, RoleKind
from conduct.tests.factories import PersonFactory, RoleFactory
from privacy.retention import retention_apply, years_after

pytestmark = pytest.mark.django_db

URL = reverse("privacy:retention")
TODAY = timezone.localdate()


def _admin(organisation: Organisation) -> Person:
    admin = PersonFactory.create()
    RoleFactory.create(person=admin, organisation=organisation, kind=RoleKind.ADMIN, starts_on=date(2020, 1, 1))
    return admin


def _leaver(organisation: Organisation, name: str) -> Person:
    person = PersonFactory.create(full_name=name)
    RoleFactory.create(
        person=person, organisation=organisation, starts_on=date(1990, 1, 1), ends_on=years_after(TODAY, -7)
    )
    return person


def _old_email(person: Person, organisation: Organisation) -> OutgoingEmail:
    sent_at = timezone.now() - timedelta(days=400)
    return OutgoingEmail.objects.create(
        kind=EmailKind.INVITATION,
        person=person,
        organisation=organisation,
        invitation=Invitation.objects.create(person=person),
        to_address=person.email,
        status=EmailStatus.SENT,
        sent_at=sent_at,
        created_at=sent_at,
    )


def test_only_admins_reach_the_page(tree, client_for, client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    staff = PersonFactory.create()
    RoleFactory.create(person=staff, organisation=tree["north"])
    assert client_for(staff).get(URL).status_code == 404
    clerk = PersonFactory.create()
    RoleFactory.create(person=clerk, organisation=tree["board"], kind=RoleKind.CLERK)
    assert client_for(clerk).get(URL).status_code == 404
    assert client_for(_admin(tree["trust"])).get(URL).status_code == 200


def test_a_trust_admin_sees_the_schedule_and_their_trust_only(tree, other_tree, client_for, settings):
    settings.RETENTION_DECLARATIONS_YEARS = 8
    ours = _leaver(tree["north"], "Ottoline Ours")
    theirs = _leaver(other_tree["north"], "Theodora Theirs")
    _old_email(ours, tree["north"])
    _old_email(theirs, other_tree["north"])

    response = client_for(_admin(tree["trust"])).get(URL)

    page = response.content.decode()
    assert response.context["organisation"] == tree["trust"]
    assert "Declarations of interests" in page and "8 years" in page and "RETENTION_DECLARATIONS_YEARS" in page
    assert "Automatic erasure is <strong>off</strong>" in page
    assert [due.person for due in response.context["overview"].people_due] == [ours]
    assert reverse("people:person", args=[ours.pk]) in page and "Ottoline Ours" in page
    assert "Theodora Theirs" not in page
    assert '<dd class="col-sm-6" data-due="email_rows">1</dd>' in page  # ours only
    assert '<dd class="col-sm-6" data-due="people">1</dd>' in page


def test_a_school_admin_sees_their_school_and_cannot_pick_another(tree, client_for):
    north_leaver = _leaver(tree["north"], "Nora North")
    _leaver(tree["south"], "Sam South")
    admin = _admin(tree["north"])

    response = client_for(admin).get(URL)
    assert response.context["organisation"] == tree["north"]
    assert [due.person for due in response.context["overview"].people_due] == [north_leaver]
    # Asking for the trust (or anything else they do not administer) shows their own school instead.
    response = client_for(admin).get(URL, {"organisation": tree["trust"].slug})
    assert response.status_code == 200 and response.context["organisation"] == tree["north"]
    assert "Sam South" not in response.content.decode()


def test_an_operator_sees_every_organisation_or_one(tree, other_tree, client_for):
    _leaver(tree["north"], "Ottoline Ours")
    _leaver(other_tree["north"], "Theodora Theirs")
    operator = PersonFactory.create(is_superuser=True, is_staff=True)

    everything = client_for(operator).get(URL)
    assert everything.context["organisation"] is None
    assert everything.context["overview"].people_due_total == 2
    one = client_for(operator).get(URL, {"organisation": other_tree["trust"].slug})
    assert [due.person.full_name for due in one.context["overview"].people_due] == ["Theodora Theirs"]


def test_the_last_run_and_its_result_are_shown(tree, client_for):
    _old_email(_leaver(tree["north"], "Ottoline Ours"), tree["north"])
    admin = _admin(tree["trust"])
    assert "The schedule has not been applied yet." in client_for(admin).get(URL).content.decode()

    retention_apply(now=timezone.make_aware(datetime.combine(TODAY, datetime.min.time())) + timedelta(hours=3))

    page = client_for(admin).get(URL).content.decode()
    assert "The schedule was last applied on" in page
    assert "1 email and 0 reminder row(s) deleted, 1 person(s) flagged for review" in page
    assert '<dd class="col-sm-6" data-due="email_rows">0</dd>' in page


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == 200
    return len(captured)


def test_the_query_count_does_not_grow_with_what_is_due(tree, client_for):
    client = client_for(_admin(tree["trust"]))
    _leaver(tree["north"], "First Leaver")
    few = _queries(client)
    for number in range(5):
        person = _leaver(tree["south"], f"Leaver {number}")
        _old_email(person, tree["south"])
    assert _queries(client) == few == 9  # the grants come with the signed-in user
