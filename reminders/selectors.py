"""Reads with rules for the reminder pages and the person's page: every email that did not go as it should.

One list for officers, whatever sent it: reminders and digests (``ReminderLog``), receipts and
invitations (``acknowledgements.OutgoingEmail``). A problem is an email refused by the mail server
(``failed``, with the server's answer), given up after its retries, or still waiting with the error of
its last attempt (an unreachable server). Scoped like the reminder log: only the organisations where
the viewer manages reminders (``conduct.permissions.reminders_q``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from acknowledgements.models import EMAIL_PROBLEM_STATUSES, EmailStatus, OutgoingEmail
from conduct.models import Person
from conduct.permissions import reminders_q
from reminders.models import PROBLEM_STATUSES, ReminderLog, ReminderStatus

PROBLEMS_SHOWN = 50


@dataclass(frozen=True)
class EmailProblem:
    what: str  # "Receipt with the signed PDF", "Signature owed" …
    to_address: str
    person_name: str
    person_id: int
    status: str
    status_label: str
    attempts: int
    last_error: str
    when: datetime

    @property
    def final(self) -> bool:
        """Refused or given up: nothing more will be tried (a pending one is retried)."""
        return self.status in (EmailStatus.FAILED, EmailStatus.GIVEN_UP)


def _reminder_problems() -> Q:
    return Q(status__in=PROBLEM_STATUSES) | (Q(status=ReminderStatus.PENDING) & ~Q(last_error=""))


def _email_problems() -> Q:
    return Q(status__in=EMAIL_PROBLEM_STATUSES) | (Q(status=EmailStatus.PENDING) & ~Q(last_error=""))


def email_problems(viewer: Person, *, person: Person | None = None, limit: int = PROBLEMS_SHOWN) -> list[EmailProblem]:
    """The latest delivery problems the viewer may see (of one person, if given), newest first. Two queries."""
    reminders = ReminderLog.objects.filter(_reminder_problems(), reminders_q(viewer, "organisation"))
    emails = OutgoingEmail.objects.filter(_email_problems(), reminders_q(viewer, "organisation"))
    if person is not None:
        reminders = reminders.filter(recipient=person)
        emails = emails.filter(person=person)
    problems = [
        EmailProblem(
            what=row.get_kind_display(),
            to_address=row.recipient.email,
            person_name=row.recipient.full_name,
            person_id=row.recipient_id,
            status=row.status,
            status_label=row.get_status_display(),
            attempts=row.attempts,
            last_error=row.last_error,
            when=row.claimed_at or row.created_at,
        )
        for row in reminders.select_related("recipient").order_by("-created_at", "-pk")[:limit]
    ] + [
        EmailProblem(
            what=row.get_kind_display(),
            to_address=row.to_address,
            person_name=row.person.full_name,
            person_id=row.person_id,
            status=row.status,
            status_label=row.get_status_display(),
            attempts=row.attempts,
            last_error=row.last_error,
            when=row.claimed_at or row.created_at,
        )
        for row in emails.select_related("person").order_by("-created_at", "-pk")[:limit]
    ]
    return sorted(problems, key=lambda problem: problem.when, reverse=True)[:limit]
