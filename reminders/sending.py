"""Sending planned reminders: claim each row in the database, then send, then record.

How "exactly once" holds up:

- A row is claimed with one conditional UPDATE (pending → sending, WHERE the
  status still allows it) and the row count says whether this worker won. Two
  workers, a duplicated task or a retry can all hold the same ids; only one
  claim succeeds per row. Each claim commits on its own (no surrounding
  transaction), so other workers see it before the message leaves.
- The row is marked sent right after the SMTP server accepts the message. A
  batch interrupted anywhere leaves every row either sent (not sent again),
  pending (sent by the next attempt) or, for the one message in flight, sending.
- A "sending" row whose claim is older than ``REMINDERS_CLAIM_TIMEOUT_SECONDS``
  is presumed to belong to a dead worker and is claimed again. This is the
  at-least-once window: if the worker died after the SMTP server accepted that
  one message but before the row was marked sent, the message goes twice. It is
  at most one message per dead worker, and it carries the same Message-ID both
  times so mail clients can tell. Every other row is sent exactly once.
- Just before sending, the reminder is checked again (signed since it was
  planned, role ended, a later reminder about the same thing …) and recorded as
  "not needed" instead.

One SMTP connection is opened per batch and reused for every message in it.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from acknowledgements.models import Declaration
from conduct.models import GOVERNANCE_ROLE_KINDS, Adoption, Organisation, Role
from core.exceptions import TransientError
from core.mail import mail_error_is_permanent, mail_error_text
from reminders.emails import NotNeeded, reminder_message
from reminders.models import ReminderKind, ReminderLog, ReminderStatus
from reminders.planning import ESCALATION_OFFICERS, REVIEW_OFFICERS, declaration_subject_parts, last_planned

logger = logging.getLogger(__name__)

# Failures while sending a batch: a 5xx refusal of this message is permanent (``core.mail``) and fails the
# row at once; anything else (the server down, busy, 4xx, a dropped connection) is retried.
MAIL_ERRORS = (smtplib.SMTPException, OSError)
TRANSIENT_ERRORS = MAIL_ERRORS  # closing a connection: nothing to record


class ReminderDeliveryError(TransientError):
    """A transient delivery failure: the batch is retried with backoff."""


@dataclass
class SendResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0


def _claim_cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.REMINDERS_CLAIM_TIMEOUT_SECONDS)


def _claimable(now: datetime) -> Q:
    """Rows nobody is working on: pending, or claimed by a worker that has been silent too long."""
    return Q(status=ReminderStatus.PENDING) | Q(status=ReminderStatus.SENDING, claimed_at__lt=_claim_cutoff(now))


def reminders_ready(
    *, today: date | None = None, now: datetime | None = None, settled_for: timedelta | None = None
) -> list[int]:
    """Ids of reminders waiting to be sent (oldest first).

    ``settled_for`` leaves out pending rows created more recently than that, so
    a periodic sweep does not re-queue rows whose batch is still in the queue.
    A row given back after a failed attempt may be swept up before its task's
    own retry comes round; the claim makes the extra attempt harmless.
    """
    today = today or timezone.localdate()
    now = now or timezone.now()
    ready = ReminderLog.objects.filter(_claimable(now), planned_for__lte=today)
    if settled_for is not None:
        ready = ready.filter(Q(status=ReminderStatus.SENDING) | Q(created_at__lt=now - settled_for))
    return list(ready.order_by("pk").values_list("pk", flat=True))


def batches(ids: list[int], size: int | None = None) -> Iterator[list[int]]:
    size = size or settings.REMINDERS_BATCH_SIZE
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# ---------------------------------------------------------------------------
# Row transitions: each is one conditional UPDATE
# ---------------------------------------------------------------------------


def reminder_claim(*, reminder_id: int, now: datetime | None = None) -> bool:
    """Take a reminder for sending. False if another worker has it or it is done."""
    now = now or timezone.now()
    claimed = ReminderLog.objects.filter(_claimable(now), pk=reminder_id).update(
        status=ReminderStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    return claimed == 1


def _held(reminder_id: int, claimed_at: datetime) -> QuerySet[ReminderLog]:
    """The row while this worker's claim holds: a slow worker whose stale claim was taken over matches nothing."""
    return ReminderLog.objects.filter(pk=reminder_id, status=ReminderStatus.SENDING, claimed_at=claimed_at)


def _mark_sent(reminder_id: int) -> bool:
    """Record the delivery, even if the claim was taken over meanwhile: the message did go.
    False if another worker had already recorded it."""
    rows = ReminderLog.objects.filter(pk=reminder_id).exclude(status=ReminderStatus.SENT)
    return rows.update(status=ReminderStatus.SENT, sent_at=timezone.now(), last_error="") == 1


def _mark_failed(
    reminder_id: int, claimed_at: datetime, error: BaseException | str, *, status: str = ReminderStatus.FAILED
) -> bool:
    text = error if isinstance(error, str) else mail_error_text(error)
    return _held(reminder_id, claimed_at).update(status=status, last_error=text[:2000]) == 1


def _release(reminder_id: int, claimed_at: datetime, error: BaseException) -> None:
    """Give a claimed row back, with the error, for the retry to pick up."""
    _held(reminder_id, claimed_at).update(
        status=ReminderStatus.PENDING, claimed_at=None, last_error=mail_error_text(error)
    )


def _record_unreachable(reminders: list[ReminderLog], error: BaseException) -> None:
    """The mail server could not be reached: every row this batch holds up says so (and counts the attempt)."""
    ReminderLog.objects.filter(pk__in=[r.pk for r in reminders], status=ReminderStatus.PENDING).update(
        last_error=mail_error_text(error), attempts=F("attempts") + 1
    )


def _skip(reminder_id: int, reason: str, now: datetime, *, claimed: bool) -> bool:
    """Record "not needed": a row nobody holds, or (``claimed``) the one this worker claimed at ``now``."""
    rows = _held(reminder_id, now) if claimed else ReminderLog.objects.filter(_claimable(now), pk=reminder_id)
    return rows.update(status=ReminderStatus.SKIPPED, note=reason[:200], claimed_at=now) == 1


# ---------------------------------------------------------------------------
# Is it still needed?
# ---------------------------------------------------------------------------


def _replaced_by_later(reminders: list[ReminderLog]) -> set[int]:
    """Reminders with a later one about the same thing for the same person (one query)."""
    latest = last_planned((r.recipient_id, r.subject) for r in reminders)
    return {r.pk for r in reminders if latest.get((r.recipient_id, r.subject), r.planned_for) > r.planned_for}


def not_needed_reason(reminder: ReminderLog, today: date) -> str:
    """Why this reminder should not go out after all, or "" if it should."""
    if not reminder.recipient.is_active:
        return "The recipient's account is deactivated."
    check = {
        ReminderKind.SIGNING: _signing_not_needed,
        ReminderKind.REVIEW: _review_not_needed,
        ReminderKind.DECLARATION: _declaration_not_needed,
        ReminderKind.ESCALATION: _escalation_not_needed,
    }[ReminderKind(reminder.kind)]
    return check(reminder, today)


def _signing_not_needed(reminder: ReminderLog, today: date) -> str:
    obligation = reminder.obligation
    if obligation is None:
        return "It is no longer owed."
    if obligation.acknowledged_at:
        return "Signed before the reminder went out."
    if obligation.superseded_at:
        return "Replaced by a newer version of the code."
    if obligation.role.ends_on and obligation.role.ends_on < today:
        return "The role it was owed for has ended."
    return ""


def _review_not_needed(reminder: ReminderLog, today: date) -> str:
    adoption = reminder.adoption
    if adoption is None:
        return "The adoption no longer exists."
    newer = Adoption.objects.filter(board_id=adoption.board_id, version__code_id=adoption.version.code_id).filter(
        Q(adopted_on__gt=adoption.adopted_on) | Q(adopted_on=adoption.adopted_on, recorded_at__gt=adoption.recorded_at)
    )
    if newer.exists():
        return "The board has adopted a newer version."
    officer = Role.objects.current(today).filter(
        person_id=reminder.recipient_id, organisation_id=adoption.board_id, kind__in=REVIEW_OFFICERS
    )
    if not officer.exists():
        return "No longer the chair or clerk of the board."
    return ""


def _declaration_not_needed(reminder: ReminderLog, today: date) -> str:
    root, year_start = declaration_subject_parts(reminder.subject)
    root_path = Organisation.objects.filter(pk=root).values_list("path", flat=True).first() or "/missing/"
    declared = Declaration.objects.filter(
        academic_year_start__gte=year_start,
        person_id=reminder.recipient_id,
        organisation__path__startswith=root_path,
    )
    if declared.exists():
        return "Declared before the reminder went out."
    governor = Role.objects.current(today).filter(
        person_id=reminder.recipient_id, kind__in=GOVERNANCE_ROLE_KINDS, organisation__path__startswith=root_path
    )
    if not governor.exists():
        return "No longer a governor there."
    return ""


def _escalation_not_needed(reminder: ReminderLog, today: date) -> str:
    officer = Role.objects.current(today).filter(
        person_id=reminder.recipient_id, organisation_id=reminder.organisation_id, kind__in=ESCALATION_OFFICERS
    )
    if not officer.exists():
        return "No longer a clerk or admin there."
    return ""  # an empty digest is caught when it is written (NotNeeded)


# ---------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------


def _load(reminder_ids: list[int], today: date, now: datetime) -> list[ReminderLog]:
    return list(
        ReminderLog.objects.filter(_claimable(now), pk__in=reminder_ids, planned_for__lte=today)
        .select_related(
            "recipient",
            "organisation",
            "code",
            "obligation__role",
            "obligation__code",
            "obligation__version__code",
            "obligation__organisation",
            "adoption__board",
            "adoption__version__code",
        )
        .order_by("pk")
    )


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except TRANSIENT_ERRORS:
        logger.warning("Could not close the mail connection cleanly", exc_info=True)


def reminders_send(*, reminder_ids: list[int], final_attempt: bool = False, today: date | None = None) -> SendResult:
    """Send the given reminders that still need sending, over one mail connection.

    A transient failure gives the row back and raises ``ReminderDeliveryError``
    so the task retries the batch (rows already sent are not sent again). On the
    final attempt failures are recorded as failed and the batch carries on.
    """
    today = today or timezone.localdate()
    reminders = _load(reminder_ids, today, timezone.now())
    result = SendResult()
    if not reminders:
        return result
    replaced = _replaced_by_later(reminders)
    connection = get_connection()
    try:
        connection.open()
    except MAIL_ERRORS as error:
        if not final_attempt:
            _record_unreachable(reminders, error)
            raise ReminderDeliveryError(f"Could not connect to the mail server: {error}") from error
        # Each send below reconnects and records its own failure.
    try:
        for reminder in reminders:
            _send_one(reminder, connection, today, replaced, final_attempt, result)
    finally:
        _close_quietly(connection)
    return result


def _send_one(
    reminder: ReminderLog, connection, today: date, replaced: set[int], final_attempt: bool, result: SendResult
) -> None:
    now = timezone.now()
    reason = "A later reminder about the same thing replaced it." if reminder.pk in replaced else ""
    reason = reason or not_needed_reason(reminder, today)
    if reason:
        result.skipped += _skip(reminder.pk, reason, now, claimed=False)
        return
    if not reminder_claim(reminder_id=reminder.pk, now=now):
        return  # another worker has it, or has sent it
    try:
        message = reminder_message(reminder, today=today, connection=connection)
    except NotNeeded as not_needed:
        result.skipped += _skip(reminder.pk, str(not_needed), now, claimed=True)
        return
    except Exception as error:  # a broken template or page must not hold up everyone else's reminders
        logger.exception("Could not write reminder %s", reminder.pk)
        result.failed += _mark_failed(reminder.pk, now, error)
        return
    try:
        connection.send_messages([message])
    except MAIL_ERRORS as error:
        if mail_error_is_permanent(error):  # a 5xx refusal: no retry will change it
            result.failed += _mark_failed(reminder.pk, now, error)
            return
        if not final_attempt:
            _release(reminder.pk, now, error)
            raise ReminderDeliveryError(f"Sending reminder {reminder.pk} failed: {error}") from error
        logger.error("Giving up on reminder %s: %s", reminder.pk, error)
        result.failed += _mark_failed(reminder.pk, now, error, status=ReminderStatus.GIVEN_UP)
        _close_quietly(connection)  # the next message reconnects
    else:
        result.sent += _mark_sent(reminder.pk)
