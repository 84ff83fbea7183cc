"""A person's page and the pages that change them: what each officer sees, each change saved and audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acknowledgements.models import Invitation, Obligation
from acknowledgements.tests.factories import sign
from conduct.models import AuditAction, AuditLogEntry, Person, Role
from reminders.models import ReminderLog

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def page(world_person: Person) -> str:
    return reverse("people:person", args=[world_person.pk])


def test_the_page_shows_roles_owed_signed_invitations_reminders_and_changes(world, client_for):
    ada = world.oak.person
    result = sign(world.oak)
    Invitation.objects.create(person=ada, role=ada.roles.get(), invited_by=world.trust_admin, sent_at=timezone.now())
    ReminderLog.objects.create(
        recipient=ada,
        kind="signing",
        subject="obligation:1",
        step="due",
        organisation=world.orgs["north"],
        planned_for=TODAY,
    )
    client = client_for(world.trust_admin)
    client.post(reverse("people:edit", args=[ada.pk]), {"full_name": "Ada King", "email": ada.email})
    response = client.get(page(ada))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Ada King" in text and "Oak Trust North Academy" in text
    assert reverse("acknowledgements:record", args=[result.acknowledgement.pk]) in text
    assert "signed" in text and "“Ada Lovelace”" in text  # the record keeps the name as signed
    assert response.context["data"].invitations and response.context["data"].reminders
    assert [entry.action for entry in response.context["data"].audit] == [AuditAction.PERSON_CHANGED]


def test_the_page_shows_another_trust_nothing_and_a_clerk_only_their_boards_people(world, client_for):
    assert client_for(world.elm_admin).get(page(world.oak.person)).status_code == 404
    assert client_for(world.clerk).get(page(world.oak.person)).status_code == 404
    assert client_for(world.clerk).get(page(world.governor)).status_code == 200
    assert client_for(world.school_admin).get(page(world.south_staff)).status_code == 404


def test_someone_in_two_trusts_shows_each_trust_only_its_own_part(world, client_for):
    ada = world.oak.person
    Role.objects.create(person=ada, organisation=world.elm_orgs["south"], kind="volunteer", starts_on=date(2024, 1, 1))
    data = client_for(world.elm_admin).get(page(ada)).context["data"]
    assert [role.organisation for role in data.roles] == [world.elm_orgs["south"]]
    assert data.owed == [] and data.signed == []


def test_the_page_takes_a_fixed_number_of_queries(world, client_for):
    client = client_for(world.trust_admin)
    ada = world.oak.person

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page(ada)).status_code == 200
        return len(captured)

    few = queries()
    for n in range(5):
        Role.objects.create(
            person=ada,
            organisation=world.orgs["south"],
            kind="volunteer",
            starts_on=date(2010 + n, 1, 1),
            ends_on=date(2010 + n, 6, 1),
        )
        Invitation.objects.create(person=ada, role=ada.roles.first(), invited_by=world.trust_admin)
    assert queries() == few


def test_correcting_a_name_then_the_person_signs_with_it(world, client_for):
    ada = world.oak.person
    response = client_for(world.trust_admin).post(
        reverse("people:edit", args=[ada.pk]), {"full_name": "Ada King", "email": ada.email}
    )
    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.full_name == "Ada King"
    result = sign(world.oak, typed_name="Ada King")
    assert result.acknowledgement.typed_name == "Ada King"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"full_name": "x" * 201, "email": "ok@example.org"}, "full_name"),
        ({"full_name": "Ada", "email": "a" * 250 + "@example.org"}, "email"),
        ({"full_name": "Ada", "email": "grace@elm.example.org"}, "email"),  # someone else's, in another trust
    ],
)
def test_bad_details_are_shown_by_field_and_nothing_saved(world, client_for, data, field):
    ada = world.oak.person
    response = client_for(world.trust_admin).post(reverse("people:edit", args=[ada.pk]), data)
    assert response.status_code == 400 and field in response.context["form"].errors
    assert Person.objects.get(pk=ada.pk).full_name == "Ada Lovelace"
    assert not AuditLogEntry.objects.filter(subject=ada).exists()


def test_another_trusts_admin_cannot_reach_the_change_pages(world, client_for):
    ada, role = world.oak.person, world.oak.person.roles.get()
    client = client_for(world.elm_admin)
    for url in (
        reverse("people:edit", args=[ada.pk]),
        reverse("people:leaver", args=[ada.pk]),
        reverse("people:account", args=[ada.pk, "deactivate"]),
        reverse("people:role_end", args=[ada.pk, role.pk]),
        reverse("people:role_edit", args=[ada.pk, role.pk]),
        reverse("people:role_move", args=[ada.pk, role.pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert (
            client.post(url, {"full_name": "X", "email": "x@example.org", "ends_on": TODAY, "reason": "x"}).status_code
            == 404
        )
    assert Person.objects.get(pk=ada.pk).full_name == "Ada Lovelace" and Role.objects.get(pk=role.pk).ends_on is None


def test_adding_a_role_outside_reach_or_an_unknown_kind_or_bad_dates_is_refused(world, client_for):
    client = client_for(world.school_admin)
    url = reverse("people:role_add", args=[world.oak.person.pk])
    base = {"organisation": world.orgs["north"].pk, "kind": "volunteer", "starts_on": TODAY.isoformat()}
    for bad, field in (
        ({"organisation": world.orgs["south"].pk}, "organisation"),
        ({"kind": "wizard"}, "kind"),
        ({"kind": "admin"}, "kind"),  # offered only where they may grant it: here, their school
        ({"starts_on": "1899-12-31"}, "starts_on"),
        ({"ends_on": (TODAY - timedelta(days=1)).isoformat()}, "ends_on"),
        ({"title": "t" * 121}, "title"),
    ):
        response = client.post(url, {**base, **bad})
        if bad == {"kind": "admin"}:
            continue  # a school admin may make someone admin of their school; checked for a clerk below
        assert response.status_code == 400 and field in response.context["form"].errors, bad
    assert not Role.objects.filter(person=world.oak.person, kind="volunteer").exists()
    response = client.post(url, base)
    assert response.status_code == 302
    assert Role.objects.filter(person=world.oak.person, kind="volunteer", organisation=world.orgs["north"]).exists()


def test_a_clerk_is_not_offered_officer_roles_and_cannot_post_one(world, client_for):
    client = client_for(world.clerk)
    url = reverse("people:role_add", args=[world.governor.pk])
    response = client.post(url, {"organisation": world.orgs["north_lgb"].pk, "kind": "chair", "starts_on": TODAY})
    assert response.status_code == 400 and "kind" in response.context["form"].errors
    assert not Role.objects.filter(person=world.governor, kind="chair").exists()


def test_ending_editing_and_moving_roles_through_the_pages(world, client_for):
    client = client_for(world.trust_admin)
    governor_role = world.governor.roles.get()
    response = client.post(
        reverse("people:role_edit", args=[world.governor.pk, governor_role.pk]),
        {"category": "parent", "appointed_by": "Parents", "starts_on": "2022-09-01", "term_ends_on": "2026-08-31"},
    )
    assert response.status_code == 302
    governor_role.refresh_from_db()
    assert (governor_role.category, governor_role.term_ends_on) == ("parent", date(2026, 8, 31))
    response = client.post(
        reverse("people:role_edit", args=[world.governor.pk, governor_role.pk]),
        {"category": "parent", "appointed_by": "", "starts_on": "2022-09-01", "term_ends_on": "2020-01-01"},
    )
    assert response.status_code == 400 and "term_ends_on" in response.context["form"].errors
    staff_role = world.south_staff.roles.get()
    response = client.post(
        reverse("people:role_move", args=[world.south_staff.pk, staff_role.pk]),
        {"organisation": world.orgs["north"].pk, "kind": "employee", "on": TODAY.isoformat(), "title": "Head"},
    )
    assert response.status_code == 302
    assert Role.objects.get(pk=staff_role.pk).ends_on == TODAY - timedelta(days=1)
    new = Role.objects.get(person=world.south_staff, organisation=world.orgs["north"])
    assert Obligation.objects.get(person=world.south_staff).role == new
    response = client.post(
        reverse("people:role_end", args=[world.south_staff.pk, new.pk]), {"ends_on": "2001-01-01", "reason": "x"}
    )
    assert response.status_code == 400 and "ends_on" in response.context["form"].errors
    response = client.post(
        reverse("people:role_end", args=[world.south_staff.pk, new.pk]),
        {"ends_on": TODAY.isoformat(), "reason": "Left"},
    )
    assert response.status_code == 302 and Role.objects.get(pk=new.pk).ends_on == TODAY


def test_recording_a_leaver_through_the_page(world, client_for):
    client = client_for(world.trust_admin)
    ada = world.oak.person
    url = reverse("people:leaver", args=[ada.pk])
    form = client.get(url).context["form"]
    assert set(form.fields["within"].queryset) == {world.orgs["trust"], world.orgs["north"]}
    response = client.post(url, {"within": world.orgs["trust"].pk, "ends_on": TODAY.isoformat(), "reason": "Retired"})
    assert response.status_code == 302
    assert Role.objects.get(person=ada).ends_on == TODAY
    entry = AuditLogEntry.objects.get(action=AuditAction.PERSON_LEFT, subject=ada)
    assert entry.actor == world.trust_admin


def test_deactivating_through_the_page_and_nobody_deactivates_themselves(world, client_for):
    client = client_for(world.trust_admin)
    ada = world.oak.person
    assert client.post(reverse("people:account", args=[ada.pk, "deactivate"])).status_code == 302
    assert not Person.objects.get(pk=ada.pk).is_active
    assert client.post(reverse("people:account", args=[ada.pk, "reactivate"])).status_code == 302
    assert Person.objects.get(pk=ada.pk).is_active
    me = world.trust_admin.pk
    assert client.post(reverse("people:account", args=[me, "deactivate"])).status_code == 404
    assert Person.objects.get(pk=me).is_active
