"""Inviting people one at a time: the account, the role, what they owe, the email and its set-password link."""

import re
from datetime import date, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from acknowledgements.invitations import invitation_create, invitation_send
from acknowledgements.models import AuditEvent, EventKind, Invitation, Obligation
from acknowledgements.tests.factories import email_part, owing
from conduct.models import Person, Role
from conduct.tests.factories import PersonFactory, RoleFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "sturdy-harbour-lantern-47"


@pytest.fixture
def school(staff):
    """Oak Trust with its staff code adopted, and its admin and a clerk of the North LGB."""
    admin = PersonFactory.create(full_name="Sarah Okafor")
    RoleFactory.create(person=admin, organisation=staff.orgs["trust"], kind="admin")
    clerk = PersonFactory.create(full_name="Alan Fraser")
    RoleFactory.create(person=clerk, organisation=staff.orgs["north_lgb"], kind="clerk")
    return {"orgs": staff.orgs, "admin": admin, "clerk": clerk, "version": staff.version}


def invite_data(school, **overrides):
    data = {
        "full_name": "Zara  Khan",
        "email": "Zara.Khan@Example.org",
        "organisation": school["orgs"]["north"].pk,
        "kind": "employee",
        "title": "Teacher",
        "starts_on": timezone.localdate().isoformat(),
    }
    data.update(overrides)
    return data


def link_in(message: EmailMessage) -> str:
    return email_part(message, r"http://testserver(/accounts/invitation/\S+)")


def test_an_admin_invites_someone_who_then_owes_the_code_and_gets_an_email(
    school, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(school["admin"]).post(reverse("acknowledgements:invite"), invite_data(school))
    assert response.status_code == 302
    person = Person.objects.get(email="zara.khan@example.org")
    assert person.full_name == "Zara Khan" and not person.has_usable_password()
    role = Role.objects.get(person=person)
    assert (role.organisation, role.kind, role.title) == (school["orgs"]["north"], "employee", "Teacher")
    assert Obligation.objects.filter(person=person, version=school["version"]).exists()
    invitation = Invitation.objects.get(person=person)
    assert (invitation.role, invitation.invited_by) == (role, school["admin"]) and invitation.sent_at is not None
    event = AuditEvent.objects.get(kind=EventKind.INVITED)
    assert (event.person, event.actor, event.details["organisation"]) == (
        person,
        school["admin"],
        school["orgs"]["north"].name,
    )
    assert not EmailAddress.objects.get(user=person).verified
    message = mail.outbox[-1]
    assert (
        message.to == ["zara.khan@example.org"] and "Sarah Okafor has added you as employee (Teacher)" in message.body
    )
    assert link_in(message).startswith("/accounts/invitation/")


def test_the_email_link_sets_a_password_verifies_the_address_and_signs_in(
    school, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            invited_by=school["admin"],
            full_name="Zara Khan",
            email="zara@example.org",
            organisation=school["orgs"]["north"],
            kind="employee",
            starts_on=timezone.localdate(),
        )
    response = client.get(link_in(mail.outbox[-1]), follow=True)
    assert "Set your password" in response.content.decode()
    response = client.post(
        response.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True
    )
    person = Person.objects.get(email="zara@example.org")
    assert response.wsgi_request.user == person
    assert person.check_password(NEW_PASSWORD)
    assert EmailAddress.objects.get(user=person).verified
    assert Invitation.objects.get(person=person).accepted_at is not None


def test_the_invitation_link_cannot_be_used_twice(school, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            invited_by=school["admin"],
            full_name="Zara Khan",
            email="zara@example.org",
            organisation=school["orgs"]["north"],
            kind="employee",
            starts_on=timezone.localdate(),
        )
    link = link_in(mail.outbox[0])
    first = client.get(link, follow=True)
    client.post(first.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    client.logout()
    again = client.get(link, follow=True).content.decode()
    assert "This invitation link no longer works" in again


def test_a_clerk_can_invite_governors_but_not_make_someone_an_admin(school, client_for):
    client = client_for(school["clerk"])
    page = client.get(reverse("acknowledgements:invite")).content.decode()
    assert 'value="local_governor"' in page and 'value="admin"' not in page
    data = invite_data(school, organisation=school["orgs"]["north_lgb"].pk, kind="admin")
    response = client.post(reverse("acknowledgements:invite"), data)
    assert response.status_code == 400 and not Person.objects.filter(email="zara.khan@example.org").exists()
    with pytest.raises(PermissionDenied):
        invitation_create(
            invited_by=school["clerk"],
            full_name="Zara Khan",
            email="z@example.org",
            organisation=school["orgs"]["north_lgb"],
            kind="admin",
            starts_on=date(2026, 9, 1),
        )
    assert not Person.objects.filter(email="z@example.org").exists()


def test_nobody_invites_into_an_organisation_they_do_not_manage(school, client_for):
    other = owing(name="Elm Trust")
    response = client_for(school["admin"]).post(
        reverse("acknowledgements:invite"), invite_data(school, organisation=other.orgs["north"].pk)
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert client_for(other.person).get(reverse("acknowledgements:invite")).status_code == 404
    assert not Person.objects.filter(email="zara.khan@example.org").exists()


def test_inviting_someone_who_has_an_account_adds_the_role_and_tells_them(
    school, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = invitation_create(
            invited_by=school["admin"],
            full_name="Ada Lovelace",
            email=staff.person.email.upper(),
            organisation=school["orgs"]["north_lgb"],
            kind="local_governor",
            starts_on=date(2026, 9, 1),
        )
    assert result.outcome == "role added" and result.person == staff.person
    assert Person.objects.filter(email=staff.person.email).count() == 1
    assert "Sign in with your email address and password" in mail.outbox[-1].body
    again = invitation_create(
        invited_by=school["admin"],
        full_name="Ada Lovelace",
        email=staff.person.email,
        organisation=school["orgs"]["north_lgb"],
        kind="local_governor",
        starts_on=date(2026, 9, 1),
    )
    assert (
        again.outcome == "already present"
        and Role.objects.filter(person=staff.person, kind="local_governor").count() == 1
    )


def test_bad_input_is_explained_and_nothing_is_saved(school, client_for):
    people = Person.objects.count()
    response = client_for(school["admin"]).post(
        reverse("acknowledgements:invite"), invite_data(school, email="not-an-email", full_name="")
    )
    page = response.content.decode()
    assert response.status_code == 400 and "Enter a valid email address." in page and "This field is required." in page
    assert Person.objects.count() == people and not Invitation.objects.exists()


def test_an_invitation_is_sent_once_even_if_the_task_runs_twice(school, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = invitation_create(
            invited_by=school["admin"],
            full_name="Zara Khan",
            email="zara@example.org",
            organisation=school["orgs"]["north"],
            kind="employee",
            starts_on=timezone.localdate(),
        )
    assert result.invitation is not None  # someone new is invited
    assert invitation_send(invitation_id=result.invitation.pk) is False
    assert len(mail.outbox) == 1


def test_the_invitations_page_lists_and_resends(school, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = invitation_create(
            invited_by=school["admin"],
            full_name="Zara Khan",
            email="zara@example.org",
            organisation=school["orgs"]["north"],
            kind="employee",
            starts_on=timezone.localdate(),
        )
    invitation = result.invitation
    assert invitation is not None  # someone new is invited
    client = client_for(school["admin"])
    page = client.get(reverse("acknowledgements:invitations")).content.decode()
    assert "Zara Khan" in page and "Sent" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("acknowledgements:invitation_resend", args=[invitation.pk]))
    assert Invitation.objects.filter(person=result.person).count() == 2 and len(mail.outbox) == 2
    outsider = owing(name="Elm Trust")
    officer = PersonFactory.create()
    RoleFactory.create(person=officer, organisation=outsider.orgs["trust"], kind="admin")
    assert "Zara Khan" not in client_for(officer).get(reverse("acknowledgements:invitations")).content.decode()
    assert (
        client_for(officer).post(reverse("acknowledgements:invitation_resend", args=[invitation.pk])).status_code == 404
    )


def test_signing_in_by_code_also_accepts_the_invitation(school, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            invited_by=school["admin"],
            full_name="Zara Khan",
            email="zara@example.org",
            organisation=school["orgs"]["north"],
            kind="employee",
            starts_on=timezone.localdate(),
        )
    client.post(reverse("account_request_login_code"), {"email": "zara@example.org"})
    code = email_part(mail.outbox[-1], r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", re.M)
    response = client.post(reverse("account_confirm_login_code"), {"code": code}, follow=True)
    person = Person.objects.get(email="zara@example.org")
    assert response.wsgi_request.user == person
    assert Invitation.objects.get(person=person).accepted_at is not None
    assert EmailAddress.objects.get(user=person).verified


def test_the_invitations_page_queries_do_not_grow_with_invitations(school, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(school["admin"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("acknowledgements:invitations")).status_code == 200
        return len(ctx.captured_queries)

    for n in range(2):
        invitation_create(
            invited_by=school["admin"],
            full_name=f"Person {n}",
            email=f"p{n}@example.org",
            organisation=school["orgs"]["north"],
            kind="employee",
            starts_on=timezone.localdate(),
        )
    small = count()
    for n in range(2, 12):
        invitation_create(
            invited_by=school["admin"],
            full_name=f"Person {n}",
            email=f"p{n}@example.org",
            organisation=school["orgs"]["south"],
            kind="volunteer",
            starts_on=timezone.localdate(),
        )
    assert count() == small


def test_an_invitation_lasts_a_week_and_a_password_reset_an_hour(school, client, django_capture_on_commit_callbacks):
    """Separate lifetimes: the reset link anyone can have emailed is not as long-lived as an invitation."""
    import time_machine
    from allauth.account.forms import default_token_generator

    from conduct.accounts import InvitationTokenGenerator, password_reset_path

    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            invited_by=school["admin"],
            full_name="Zara Khan",
            email="zara@example.org",
            organisation=school["orgs"]["north"],
            kind="employee",
            starts_on=timezone.localdate(),
        )
    person = Person.objects.get(email="zara@example.org")
    link = link_in(mail.outbox[0])
    reset_key = password_reset_path(person).rstrip("/").split("/")[-1].split("-", 1)[1]
    later = timezone.now() + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        assert not default_token_generator.check_token(person, reset_key)  # an hour-long reset link has expired
        response = client.get(link)  # the invitation still holds, and hands over to a fresh reset key
        assert response.status_code == 302 and "/accounts/password/reset/key/" in response["Location"]
        assert client.get(response["Location"], follow=True).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        expired = client.get(link)
        assert expired.status_code == 400 and "This invitation link no longer works" in expired.content.decode()
    assert settings.PASSWORD_RESET_TIMEOUT == 3600 and settings.INVITATION_LINK_TIMEOUT == 7 * 86400
    assert InvitationTokenGenerator.key_salt != type(default_token_generator).key_salt
