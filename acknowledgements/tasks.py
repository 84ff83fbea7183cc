"""Celery tasks for signed PDFs, receipts, invitations and adoption certificates. Thin: take ids, call one service.

Each is queued with ``transaction.on_commit`` by the service that makes the
work (``core.tasks.enqueue_on_commit``), retried on transient errors only
(``core.tasks.transient_task``), and each service is idempotent, so a retry or a
duplicate delivery does no harm. ``issue_missing_pdfs`` is the periodic sweep
(CELERY_BEAT_SCHEDULE) that issues the PDFs a lost message or a task that gave up left undone.
"""

from __future__ import annotations

from acknowledgements.certificates import adoption_certificate_issue
from acknowledgements.invitations import invitation_send
from acknowledgements.issuing import (
    MISSING_PDF_GRACE,
    acknowledgement_pdf_issue,
    acknowledgement_pdfs_issue_missing,
    receipt_send,
)
from core.tasks import transient_task


@transient_task()
def issue_acknowledgement_pdf(self, acknowledgement_id: int, send_receipt: bool = True) -> int:
    """Render, seal and store an acknowledgement's PDF; the first issue queues the receipt."""
    return acknowledgement_pdf_issue(acknowledgement_id=acknowledgement_id, send_receipt=send_receipt).pk


@transient_task()
def send_acknowledgement_receipt(self, acknowledgement_id: int) -> bool:
    """Email the signer their signed PDF."""
    return receipt_send(acknowledgement_id=acknowledgement_id)


@transient_task()
def send_invitation(self, invitation_id: int) -> bool:
    """Email an invitation with its set-password link (claimed first, so it goes once)."""
    return invitation_send(invitation_id=invitation_id)


@transient_task()
def issue_adoption_certificate(self, adoption_id: int) -> int:
    """Render, seal and store an adoption's certificate (idempotent: a retry stores nothing new)."""
    return adoption_certificate_issue(adoption_id=adoption_id).pk


@transient_task()
def issue_missing_pdfs(self) -> int:
    """Every 15 minutes: issue the PDFs still missing 10 minutes after signing; returns how many were issued."""
    return len(acknowledgement_pdfs_issue_missing(older_than=MISSING_PDF_GRACE))


@transient_task()
def verify_evidence_daily(self) -> int:
    """Check every chain, signature, record, stored PDF and adopted text; email the operators on failure."""
    from acknowledgements.integrity import integrity_check_daily

    return integrity_check_daily().pk
