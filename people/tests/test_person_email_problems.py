"""The person's page shows the emails to them that were not delivered (reminders.selectors.email_problems)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from acknowledgements.models import EmailKind, EmailStatus, OutgoingEmail
from acknowledgements.tests.factories import sign
from reminders.models import ReminderKind, ReminderLog, ReminderStatus

pytestmark = pytest.mark.django_db


def test_a_refused_receipt_and_a_given_up_reminder_show_on_the_persons_page(world, client_for):
    ada = world.oak.person
    ack = sign(world.oak, issue_pdf=False).acknowledgement
    OutgoingEmail.objects.create(
        kind=EmailKind.RECEIPT,
        person=ada,
        organisation=ack.organisation,
        acknowledgement=ack,
        to_address=ada.email,
        status=EmailStatus.FAILED,
        attempts=1,
        last_error="550 5.1.1 <ada@oak.example.org>: Recipient address rejected",
    )
    ReminderLog.objects.create(
        recipient=ada,
        organisation=world.orgs["north"],
        kind=ReminderKind.SIGNING,
        subject="obligation:1",
        step="due",
        planned_for=ack.signed_at.date(),
        status=ReminderStatus.GIVEN_UP,
        attempts=6,
        last_error="451 Try again later",
    )
    page = client_for(world.trust_admin).get(reverse("people:person", args=[ada.pk])).content.decode()
    assert (
        "Emails not delivered" in page and "Recipient address rejected" in page and "Refused by the mail server" in page
    )
    assert "Given up after repeated errors" in page and "after 6 attempts" in page

    other = client_for(world.trust_admin).get(reverse("people:person", args=[world.south_staff.pk])).content.decode()
    assert "Emails not delivered" not in other
