"""Remind now: an officer picks outstanding people on the dashboard's drill-down and reminds them at once.

Each reminder is a ``ReminderLog`` row like the daily planner's (kind "signing", subject
``obligation:<id>``) with the step ``now-<date>``: the log's unique key (recipient, subject, step) lets
the database refuse a second one on the same day to the same person for the same obligation, whatever
the race (a double click, a second tab). A person the planner already reminded today about it is left
out as well. The emails are sent by the worker (``send_reminders``), queued after the commit, and the
sender checks once more that each is still needed. One audit entry per person reminded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from acknowledgements.models import Obligation
from conduct.audit import audit_log_record
from conduct.models import AuditAction, Person
from conduct.permissions import remind_now_q
from core.tasks import enqueue_on_commit
from reminders.models import ReminderKind, ReminderLog, ReminderStatus
from reminders.sending import batches
from reminders.tasks import send_reminders

REMIND_NOW_MAX = 200  # people in one request: four pages of the drill-down


def remind_now_step(day: date) -> str:
    return f"now-{day.isoformat()}"


@dataclass(frozen=True)
class RemindNowResult:
    sent: int  # reminders queued now
    already: int  # reminded today already (by this or by the daily planner)
    not_outstanding: int  # signed, replaced, the role ended, or not yours to chase

    @property
    def message(self) -> str:
        parts = [f"Reminder sent to {self.sent} {'person' if self.sent == 1 else 'people'}."]
        if self.already:
            parts.append(
                f"{self.already} {'was' if self.already == 1 else 'were'} already reminded today and "
                "will not be reminded twice."
            )
        if self.not_outstanding:
            parts.append(
                f"{self.not_outstanding} no longer {'owes' if self.not_outstanding == 1 else 'owe'} a signature "
                "you can chase (signed, replaced or role ended)."
            )
        return " ".join(parts)


@transaction.atomic
def reminders_send_now(*, actor: Person, obligation_ids: list[int], today: date | None = None) -> RemindNowResult:
    """Remind the owers of the chosen obligations at once; see the module's docstring."""
    ids = sorted(set(obligation_ids))
    if not ids:
        raise ValidationError("Choose at least one person to remind.")
    if len(ids) > REMIND_NOW_MAX:
        raise ValidationError(f"Remind at most {REMIND_NOW_MAX} people at a time.")
    today = today or timezone.localdate()
    now = timezone.now()
    obligations = list(
        Obligation.objects.open()
        .for_current_roles(today)
        .filter(remind_now_q(actor), pk__in=ids, owed_from__lte=today, person__is_active=True)
        .select_related("person", "organisation", "code", "version")
        .order_by("pk")
    )
    subjects = {f"obligation:{o.pk}" for o in obligations}
    reminded_today = set(
        ReminderLog.objects.filter(subject__in=subjects, planned_for=today)
        .exclude(status=ReminderStatus.SKIPPED)
        .values_list("recipient_id", "subject")
    )
    step = remind_now_step(today)
    fresh = [o for o in obligations if (o.person_id, f"obligation:{o.pk}") not in reminded_today]
    ReminderLog.objects.bulk_create(
        [
            ReminderLog(
                recipient_id=o.person_id,
                kind=ReminderKind.SIGNING,
                subject=f"obligation:{o.pk}",
                step=step,
                organisation_id=o.organisation_id,
                code_id=o.code_id,
                obligation=o,
                due_on=o.due_on,
                planned_for=today,
                created_at=now,
            )
            for o in fresh
        ],
        ignore_conflicts=True,  # a concurrent request that got there first wins; its rows are not ours
    )
    ours = {
        row.obligation_id: row
        for row in ReminderLog.objects.filter(
            subject__in={f"obligation:{o.pk}" for o in fresh}, step=step, created_at=now
        )
    }
    for obligation in obligations:
        row = ours.get(obligation.pk)
        if row is None:
            continue
        audit_log_record(
            actor=actor,
            action=AuditAction.REMINDERS_SENT_NOW,
            organisation=obligation.organisation,
            target=row,
            subject=obligation.person,
            summary=f"Reminded {obligation.person.full_name} now to sign {obligation.code.title} "
            f"{obligation.version.label}",
            details={
                "before": {"reminded_today": False},
                "after": {"reminder": row.pk, "obligation": obligation.pk, "due_on": obligation.due_on},
            },
        )
    for batch in batches(sorted(row.pk for row in ours.values())):
        enqueue_on_commit(send_reminders, batch)
    return RemindNowResult(
        sent=len(ours),
        already=len(obligations) - len(ours),
        not_outstanding=len(ids) - len(obligations),
    )
