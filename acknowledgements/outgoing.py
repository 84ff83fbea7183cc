"""Receipts and invitations as rows (``OutgoingEmail``): recorded with what they are about, sent once, outcome kept.

- ``receipt_email_record`` / ``invitation_email_record`` write the row in the caller's transaction (the
  signature's, the invitation's), so it exists as soon as the action commits, whatever the broker does.
- ``outgoing_deliver`` claims the row with a conditional UPDATE (pending, or a claim older than
  ``CLAIM_TIMEOUT`` whose worker is presumed dead → sending), sends, and records the outcome: sent; failed
  at once with the server's answer on a 5xx refusal; given up on the task's last attempt; otherwise given
  back as pending with the error kept on the row, and ``TransientError`` raised for the task to retry.
- ``outgoing_pending`` is what the reconciliation sweep queues again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.core.mail import EmailMessage
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from acknowledgements.models import Acknowledgement, EmailKind, EmailStatus, Invitation, OutgoingEmail
from core.exceptions import TransientError
from core.mail import mail_error_is_permanent, mail_error_text

log = logging.getLogger(__name__)

# A "sending" row this old belongs to a worker presumed dead and may be claimed again (at most one
# message per dead worker can then go twice: the one in flight when it died).
CLAIM_TIMEOUT = timedelta(minutes=15)


class EmailDeliveryError(TransientError):
    """The mail server could not take the message now: the task retries with backoff."""


def receipt_email_record(*, acknowledgement: Acknowledgement) -> None:
    """The receipt row for a signature, made once: a second call leaves the first row as it is.

    One ``INSERT … ON CONFLICT DO NOTHING`` (the partial unique constraint ``outgoing_email_one_receipt`` is the
    conflict), not a read then an insert in a savepoint: this runs inside every signature's transaction.
    """
    OutgoingEmail.objects.bulk_create(
        [
            OutgoingEmail(
                kind=EmailKind.RECEIPT,
                acknowledgement=acknowledgement,
                person_id=acknowledgement.person_id,
                organisation_id=acknowledgement.organisation_id,
                to_address=acknowledgement.person.email,
            )
        ],
        ignore_conflicts=True,
    )


def _invitation_email_fields(invitation: Invitation) -> dict[str, object]:
    return {
        "person_id": invitation.person_id,
        "organisation_id": invitation.role.organisation_id if invitation.role is not None else None,
        "to_address": invitation.person.email,
    }


def invitation_email_record(*, invitation: Invitation) -> OutgoingEmail:
    """The email row of an invitation (made once; a second call returns it)."""
    row, _created = OutgoingEmail.objects.get_or_create(
        kind=EmailKind.INVITATION, invitation=invitation, defaults=_invitation_email_fields(invitation)
    )
    return row


def invitation_emails_record_batch(*, invitations: Sequence[Invitation]) -> list[OutgoingEmail]:
    """The email rows of invitations just made (none has one yet), in one insert."""
    return OutgoingEmail.objects.bulk_create(
        [
            OutgoingEmail(kind=EmailKind.INVITATION, invitation=invitation, **_invitation_email_fields(invitation))
            for invitation in invitations
        ]
    )


def _claimable(now: datetime) -> Q:
    return Q(status=EmailStatus.PENDING) | Q(status=EmailStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)


def outgoing_pending(*, created_before: datetime, now: datetime | None = None) -> QuerySet[OutgoingEmail]:
    """Rows still waiting (or held by a dead worker) that were made before ``created_before``."""
    now = now or timezone.now()
    return OutgoingEmail.objects.filter(_claimable(now), created_at__lt=created_before).order_by("created_at", "pk")


def _held(row_id: int, claimed_at: datetime) -> QuerySet[OutgoingEmail]:
    return OutgoingEmail.objects.filter(pk=row_id, status=EmailStatus.SENDING, claimed_at=claimed_at)


def outgoing_deliver(
    *, email_id: int, build: Callable[[OutgoingEmail], EmailMessage], final_attempt: bool = False
) -> bool:
    """Send the row's email once. True if it went now; False if it was not ours to send or it failed for good."""
    now = timezone.now()
    claimed = OutgoingEmail.objects.filter(_claimable(now), pk=email_id).update(
        status=EmailStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    row = OutgoingEmail.objects.select_related("person").get(pk=email_id)
    try:
        message = build(row)
    except Exception as error:  # not the mail server's doing: given back with the error, and raised as it is
        _held(row.pk, now).update(status=EmailStatus.PENDING, claimed_at=None, last_error=mail_error_text(error))
        raise
    message.to = [row.to_address]
    try:
        message.send()
    except Exception as error:
        text = mail_error_text(error)
        if mail_error_is_permanent(error):
            _held(row.pk, now).update(status=EmailStatus.FAILED, last_error=text)
            log.warning("%s email %s refused by the mail server: %s", row.kind, row.pk, text)
            return False
        if final_attempt:
            _held(row.pk, now).update(status=EmailStatus.GIVEN_UP, last_error=text)
            log.error("Giving up on %s email %s: %s", row.kind, row.pk, text)
            return False
        _held(row.pk, now).update(status=EmailStatus.PENDING, claimed_at=None, last_error=text)
        raise EmailDeliveryError(f"{row.kind} email {row.pk}: {text}") from error
    OutgoingEmail.objects.filter(pk=row.pk).exclude(status=EmailStatus.SENT).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True
