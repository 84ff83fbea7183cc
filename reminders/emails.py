"""What each reminder says: a subject line, plain text and HTML, from ``templates/reminders/email/``.

Every email names the organisation, what is owed and by when, and carries one
absolute link (``settings.SITE_URL``) to the page where the person acts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.utils import formataddr
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from acknowledgements.models import Obligation, ObligationStatus
from conduct.models import Organisation
from core.academic_year import academic_year_label
from core.site import absolute_url
from reminders.models import ReminderKind, ReminderLog
from reminders.planning import declaration_subject_parts

DIGEST_LIMIT = 200  # names listed in one digest; the rest are counted, the dashboard has them all


class NotNeeded(Exception):
    """Raised while writing a reminder that turns out to have nothing to say (an empty digest)."""


@dataclass(frozen=True)
class OutstandingLine:
    name: str
    email: str
    organisation: str
    code: str
    due_on: date
    days_overdue: int


def digest_outstanding(organisation: Organisation, today: date) -> list[OutstandingLine]:
    """Everyone under ``organisation`` more than their code's escalation threshold overdue, in one query."""
    obligations = (
        Obligation.objects.open()
        .for_current_roles(today)
        .filter(person__is_active=True, organisation__path__startswith=organisation.path, due_on__lt=today)
        .select_related("person", "code", "version", "organisation")
        .order_by("organisation__path", "due_on", "person__full_name", "pk")
    )
    return [
        OutstandingLine(
            name=o.person.full_name,
            email=o.person.email,
            organisation=o.organisation.name,
            code=f"{o.code.title} {o.version.label}",
            due_on=o.due_on,
            days_overdue=(today - o.due_on).days,
        )
        for o in obligations
        if (today - o.due_on).days > o.code.escalate_after_days
    ]


def _signing_context(reminder: ReminderLog, today: date) -> dict[str, Any]:
    obligation = reminder.obligation
    if obligation is None:  # deleted since it was planned (the link is SET_NULL)
        raise NotNeeded("It is no longer owed.")
    return {
        "organisation": obligation.organisation,
        "code": obligation.code,
        "version": obligation.version,
        "due_on": obligation.due_on,
        "action_url": absolute_url(obligation.version.get_absolute_url()),
        "action_label": "Read and sign",
    }


def _review_context(reminder: ReminderLog, today: date) -> dict[str, Any]:
    adoption = reminder.adoption
    if adoption is None:  # deleted since it was planned (the link is SET_NULL)
        raise NotNeeded("The adoption no longer exists.")
    code = adoption.version.code
    return {
        "organisation": adoption.board,
        "code": code,
        "version": adoption.version,
        "due_on": adoption.review_due_on,
        "adopted_on": adoption.adopted_on,
        "action_url": absolute_url(reverse("conduct:code_history", args=[code.slug])),
        "action_label": "Start the review",
    }


def _declaration_context(reminder: ReminderLog, today: date) -> dict[str, Any]:
    _root, year_start = declaration_subject_parts(reminder.subject)
    return {
        "organisation": reminder.organisation,
        "due_on": reminder.due_on,
        "academic_year": academic_year_label(year_start),
        "action_url": absolute_url(reverse("acknowledgements:declare")),
        "action_label": "Declare your interests",
    }


def _escalation_context(reminder: ReminderLog, today: date) -> dict[str, Any]:
    organisation = reminder.organisation
    if organisation is None:  # a digest is always planned for an organisation
        raise NotNeeded("The digest has no organisation.")
    lines = digest_outstanding(organisation, today)
    if not lines:
        raise NotNeeded("Nobody is outstanding any more.")
    # The reports' list of people, narrowed to this organisation's overdue ones.
    overdue_here = urlencode({"organisation": organisation.pk, "status": ObligationStatus.OVERDUE.value})
    return {
        "organisation": organisation,
        "lines": lines[:DIGEST_LIMIT],
        "total": len(lines),
        "more": max(0, len(lines) - DIGEST_LIMIT),
        "action_url": absolute_url(f"{reverse('reports:people')}?{overdue_here}"),
        "action_label": "See who is outstanding",
    }


CONTEXTS: dict[str, Callable[[ReminderLog, date], dict[str, Any]]] = {
    ReminderKind.SIGNING: _signing_context,
    ReminderKind.REVIEW: _review_context,
    ReminderKind.DECLARATION: _declaration_context,
    ReminderKind.ESCALATION: _escalation_context,
}


def reminder_context(reminder: ReminderLog, today: date) -> dict[str, Any]:
    context = CONTEXTS[reminder.kind](reminder, today)
    due_on = context.get("due_on")
    return {
        **context,
        "reminder": reminder,
        "person": reminder.recipient,
        "today": today,
        "days_left": (due_on - today).days if due_on else None,
        "overdue": bool(due_on and due_on < today),
        "opening": reminder.step == "owed",
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
    }


def message_id(reminder: ReminderLog) -> str:
    """Stable per reminder: if a crash ever makes one go twice, mail clients see the same message."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<reminder-{reminder.pk}-{reminder.step}@{host}>"


def reminder_message(reminder: ReminderLog, *, today: date, connection=None) -> EmailMultiAlternatives:
    context = reminder_context(reminder, today)
    base = f"reminders/email/{reminder.kind}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{base}.txt", context),
        from_email=settings.REMINDERS_FROM_EMAIL,
        to=[formataddr((reminder.recipient.full_name, reminder.recipient.email))],
        connection=connection,
        headers={
            "Message-ID": message_id(reminder),
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    message.attach_alternative(render_to_string(f"{base}.html", {**context, "subject": subject}), "text/html")
    return message
