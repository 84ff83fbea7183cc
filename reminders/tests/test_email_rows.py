"""Every email is a row: receipts and invitations (acknowledgements.OutgoingEmail), reminders and digests (ReminderLog).

Against a real SMTP server on a local socket (``reminder_smtp.FakeSMTP``): a 5xx refusal fails the row at
once with the server's answer; a server that cannot be reached leaves the row waiting with the error, and
the task's last attempt gives it up; officers see each problem above the reminder log, for their own
organisations only, and per person (``reminders.selectors.email_problems``).
"""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings
from django.urls import reverse

from acknowledgements.invitations import invitation_create, invitation_send
from acknowledgements.issuing import acknowledgement_pdf_issue, receipt_send
from acknowledgements.models import EmailKind, EmailStatus, OutgoingEmail
from acknowledgements.outgoing import EmailDeliveryError, receipt_email_record
from acknowledgements.tests.factories import owing, sign
from conduct.models import RoleKind
from reminders.models import ReminderKind, ReminderLog, ReminderStatus
from reminders.selectors import email_problems
from reminders.tests.reminder_helpers import officer
from reminders.tests.reminder_smtp import FakeSMTP

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed():
    """A signature whose PDF exists and whose receipt is owed but not yet sent."""
    who = owing(full_name="Ada Lovelace")
    ack = sign(who, issue_pdf=False).acknowledgement
    acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False)
    receipt_email_record(acknowledgement=ack)
    admin = officer(who.orgs["trust"], "admin", "Oak Admin")
    return who, ack, admin


def receipt(ack) -> OutgoingEmail:
    return OutgoingEmail.objects.get(acknowledgement=ack, kind=EmailKind.RECEIPT)


def test_a_receipt_is_sent_once_and_recorded(signed):
    who, ack, _admin = signed
    with FakeSMTP() as smtp, override_settings(**smtp.settings()):
        assert receipt_send(acknowledgement_id=ack.pk) is True
        assert receipt_send(acknowledgement_id=ack.pk) is False  # a duplicate delivery sends nothing
    assert len(smtp.messages) == 1 and smtp.recipients() == [who.person.email]
    row = receipt(ack)
    assert (row.status, row.attempts, row.last_error, row.to_address) == (EmailStatus.SENT, 1, "", who.person.email)
    assert row.sent_at is not None


def test_a_refused_receipt_fails_at_once_with_the_servers_answer_and_is_not_retried(signed):
    who, ack, _admin = signed
    with FakeSMTP() as smtp, override_settings(**smtp.settings()):
        smtp.behaviour.refuse = {who.person.email.lower()}
        assert receipt_send(acknowledgement_id=ack.pk) is False  # no exception: nothing for the task to retry
    row = receipt(ack)
    assert (row.status, row.attempts) == (EmailStatus.FAILED, 1)
    assert "550 No such user" in row.last_error and smtp.messages == []


def test_an_unreachable_server_is_recorded_on_the_row_and_the_last_attempt_gives_up(signed):
    _who, ack, _admin = signed
    with FakeSMTP() as smtp:
        closed = smtp.settings()
    with override_settings(**closed):  # the server has gone: connection refused
        with pytest.raises(EmailDeliveryError):
            receipt_send(acknowledgement_id=ack.pk)
        row = receipt(ack)
        assert (row.status, row.attempts) == (EmailStatus.PENDING, 1)
        assert "could not be reached" in row.last_error
        assert receipt_send(acknowledgement_id=ack.pk, final_attempt=True) is False
    row = receipt(ack)
    assert (row.status, row.attempts) == (EmailStatus.GIVEN_UP, 2) and "could not be reached" in row.last_error


def test_an_invitation_is_a_row_made_with_it_then_sent_through_smtp_once(signed, django_capture_on_commit_callbacks):
    who, _ack, admin = signed
    with FakeSMTP() as smtp, override_settings(**smtp.settings()):
        with django_capture_on_commit_callbacks(execute=True):  # the task runs (eagerly) once the invitation commits
            result = invitation_create(
                invited_by=admin,
                full_name="Grace Hopper",
                email="grace@example.org",
                organisation=who.orgs["north"],
                kind=RoleKind.EMPLOYEE,
                starts_on=date(2026, 9, 1),
            )
        assert result.invitation is not None
        assert invitation_send(invitation_id=result.invitation.pk) is False  # a duplicate delivery sends nothing
    row = OutgoingEmail.objects.get(invitation=result.invitation)
    assert (row.kind, row.status, row.attempts, row.to_address) == (
        EmailKind.INVITATION,
        EmailStatus.SENT,
        1,
        "grace@example.org",
    )
    result.invitation.refresh_from_db()
    assert result.invitation.sent_at is not None and smtp.recipients() == ["grace@example.org"]


def test_a_refused_invitation_is_recorded_and_not_marked_sent(signed, django_capture_on_commit_callbacks):
    who, _ack, admin = signed
    with FakeSMTP() as smtp, override_settings(**smtp.settings()):
        smtp.behaviour.refuse = {"typo@example.org"}
        with django_capture_on_commit_callbacks(execute=True):
            result = invitation_create(
                invited_by=admin,
                full_name="Grace Hopper",
                email="typo@example.org",
                organisation=who.orgs["north"],
                kind=RoleKind.EMPLOYEE,
                starts_on=date(2026, 9, 1),
            )
    assert result.invitation is not None
    row = OutgoingEmail.objects.get(invitation=result.invitation)
    assert (row.status, row.attempts) == (EmailStatus.FAILED, 1) and "550" in row.last_error
    result.invitation.refresh_from_db()
    assert result.invitation.sent_at is None


def test_officers_see_each_problem_on_the_reminder_log_for_their_organisations_only(signed, client_for):
    who, ack, admin = signed
    elm = owing(name="Elm Trust")
    elm_admin = officer(elm.orgs["trust"], "admin", "Elm Admin")
    with FakeSMTP() as smtp, override_settings(**smtp.settings()):
        smtp.behaviour.refuse = {who.person.email.lower()}
        receipt_send(acknowledgement_id=ack.pk)
    ReminderLog.objects.create(
        recipient=who.person,
        organisation=who.orgs["north"],
        kind=ReminderKind.SIGNING,
        subject="obligation:1",
        step="due",
        planned_for=ack.signed_at.date(),
        status=ReminderStatus.PENDING,
        attempts=1,
        last_error="The mail server could not be reached (connection refused): [Errno 111]",
    )

    problems = email_problems(admin)
    assert {(p.what, p.status, p.final) for p in problems} == {
        ("Signature owed", "pending", False),
        ("Receipt with the signed PDF", "failed", True),
    }
    assert email_problems(elm_admin) == [] and email_problems(admin, person=elm.person) == []
    assert len(email_problems(admin, person=who.person)) == 2

    page = client_for(admin).get(reverse("reminders:log")).content.decode()
    assert "Emails not delivered" in page and "550 No such user" in page and "Refused by the mail server" in page
    assert "Waiting to be retried" in page and "could not be reached" in page
    elm_page = client_for(elm_admin).get(reverse("reminders:log")).content.decode()
    assert "Emails not delivered" not in elm_page and who.person.email not in elm_page
