"""When reminders are due: the steps of a reminder series, and the per-code settings.

A series runs towards a due date: optionally an opening reminder on the day
something is first owed (the invitation), then one N days before the due date
for each configured N (0 meaning on the day itself), then one every
``repeat_days`` while overdue. Each step has a stable key ("owed", "before-7",
"due", "overdue-3") that goes into the reminder's unique key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from conduct.audit import audit_log_record
from conduct.models import AuditAction, Code, Person

OPENING = "owed"
ON_THE_DAY = "due"


@dataclass(frozen=True)
class Step:
    key: str
    on: date


def latest_step(
    *,
    starts_on: date,
    due_on: date,
    before_days: Iterable[int],
    repeat_days: int,
    today: date,
    opening: bool,
) -> Step | None:
    """The most recent step of a series on or before ``today`` (None before the series starts).

    Steps dated before ``starts_on`` never happen (someone who joins five days
    before the due date gets no "7 days before"); with an opening step, a step
    falling on ``starts_on`` itself gives way to the opening one, so nobody gets
    two emails about the same thing on one day.
    """
    if today < starts_on:
        return None
    days_overdue = (today - due_on).days
    if days_overdue >= repeat_days:
        count = days_overdue // repeat_days
        return Step(f"overdue-{count}", due_on + timedelta(days=count * repeat_days))
    candidates = [Step(OPENING, starts_on)] if opening else []
    for days in sorted(set(before_days), reverse=True):
        on = due_on - timedelta(days=days)
        if on > starts_on or (on == starts_on and not opening):
            candidates.append(Step(ON_THE_DAY if days == 0 else f"before-{days}", on))
    arrived = [step for step in candidates if step.on <= today]
    return max(arrived, key=lambda step: step.on) if arrived else None


MAX_STEPS = 10
MAX_DAYS = 365
STEP_FIELDS = ("review_reminder_days", "signing_reminder_days", "overdue_repeat_days", "escalate_after_days")


def _days_error(days: object) -> str:
    if not isinstance(days, list) or not all(isinstance(n, int) and 0 <= n <= MAX_DAYS for n in days):
        return f"Give whole numbers of days between 0 and {MAX_DAYS}."
    if len(days) > MAX_STEPS:
        return f"Give at most {MAX_STEPS} reminders."
    return ""


@transaction.atomic
def code_reminder_steps_update(
    *,
    code: Code,
    review_reminder_days: list[int],
    signing_reminder_days: list[int],
    overdue_repeat_days: int,
    escalate_after_days: int,
    by: Person | None = None,
) -> Code:
    """Change when a code's reminders go out. Lists are stored largest first, without repeats.

    Only these four fields are validated and saved, so a problem elsewhere in
    the code's record never blocks a change to its reminders.
    """
    errors = {
        field: message
        for field, message in (
            ("review_reminder_days", _days_error(review_reminder_days)),
            ("signing_reminder_days", _days_error(signing_reminder_days)),
        )
        if message
    }
    if errors:
        raise ValidationError(errors)
    code = Code.objects.select_for_update().select_related("owner").get(pk=code.pk)
    before = {field: getattr(code, field) for field in STEP_FIELDS}
    code.review_reminder_days = sorted(set(review_reminder_days), reverse=True)
    code.signing_reminder_days = sorted(set(signing_reminder_days), reverse=True)
    code.overdue_repeat_days = overdue_repeat_days
    code.escalate_after_days = escalate_after_days
    code.clean_fields(exclude=[f.name for f in Code._meta.concrete_fields if f.name not in STEP_FIELDS])
    code.validate_constraints()
    code.save(update_fields=list(STEP_FIELDS))
    after = {field: getattr(code, field) for field in STEP_FIELDS}
    if after != before:
        audit_log_record(
            actor=by,
            action=AuditAction.REMINDER_STEPS_CHANGED,
            organisation=code.owner,
            target=code,
            summary=f"Changed when the reminders of {code.title} go out.",
            details={"before": before, "after": after},
        )
    return code
