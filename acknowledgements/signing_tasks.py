"""Celery tasks for signing, receipts and invitations. Thin: take ids, call one service, retry with backoff.

Each is queued with ``transaction.on_commit`` by the service that makes the
work, and each service is idempotent, so a retry or a duplicate delivery does
no harm.
"""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.db import DatabaseError

from acknowledgements.invitations import invitation_send
from acknowledgements.issuing import acknowledgement_pdf_issue, receipt_send

RETRY = {
    "bind": True,
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


@shared_task(autoretry_for=(OSError, DatabaseError), **RETRY)
def issue_acknowledgement_pdf(self, acknowledgement_id: int, send_receipt: bool = True) -> int:
    """Render, seal and store an acknowledgement's PDF; the first issue queues the receipt."""
    return acknowledgement_pdf_issue(acknowledgement_id=acknowledgement_id, send_receipt=send_receipt).pk


@shared_task(autoretry_for=(OSError, SMTPException, DatabaseError), **RETRY)
def send_acknowledgement_receipt(self, acknowledgement_id: int) -> bool:
    """Email the signer their signed PDF."""
    return receipt_send(acknowledgement_id=acknowledgement_id)


@shared_task(autoretry_for=(OSError, SMTPException, DatabaseError), **RETRY)
def send_invitation(self, invitation_id: int) -> bool:
    """Email an invitation with its set-password link (claimed first, so it goes once)."""
    return invitation_send(invitation_id=invitation_id)
