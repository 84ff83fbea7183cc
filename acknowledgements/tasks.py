"""Celery tasks for signed PDFs, receipts, invitations and adoption certificates. Thin: take ids, call one service.

Each is queued with ``transaction.on_commit`` by the service that makes the
work (``core.tasks.enqueue_on_commit``), retried on transient errors only
(``core.tasks.transient_task``), and each service is idempotent, so a retry or a
duplicate delivery does no harm. What a lost message leaves undone is queued again by the
reconciliation sweeps (``acknowledgements.reconcile``, run by ``core.tasks.reconcile``). The email tasks
pass ``final_attempt`` so the last retry records the row as given up instead of raising.
"""

from __future__ import annotations

from acknowledgements.certificates import adoption_certificate_issue
from acknowledgements.invitations import invitation_send
from acknowledgements.issuing import RecordErased, acknowledgement_pdf_issue, receipt_send
from core.tasks import transient_task


def _final(task) -> bool:
    return bool(task.request.retries >= task.max_retries)


@transient_task()
def issue_acknowledgement_pdf(self, acknowledgement_id: int, send_receipt: bool = True) -> int:
    """Render, seal and store an acknowledgement's PDF; the first issue queues the receipt."""
    try:
        return acknowledgement_pdf_issue(acknowledgement_id=acknowledgement_id, send_receipt=send_receipt).pk
    except RecordErased:  # queued before the signer's data was erased: nothing to issue, nothing to retry
        return 0


@transient_task()
def send_acknowledgement_receipt(self, acknowledgement_id: int) -> bool:
    """Email the signer their signed PDF (its row claimed first, so it goes once)."""
    return receipt_send(acknowledgement_id=acknowledgement_id, final_attempt=_final(self))


@transient_task()
def send_invitation(self, invitation_id: int) -> bool:
    """Email an invitation with its set-password link (claimed first, so it goes once)."""
    return invitation_send(invitation_id=invitation_id, final_attempt=_final(self))


@transient_task()
def issue_adoption_certificate(self, adoption_id: int) -> int:
    """Render, seal and store an adoption's certificate (idempotent: a retry stores nothing new)."""
    return adoption_certificate_issue(adoption_id=adoption_id).pk


@transient_task()
def verify_evidence_daily(self) -> int:
    """Check every chain, signature, record, stored PDF and adopted text; email the operators on failure."""
    from acknowledgements.integrity import integrity_check_daily

    return integrity_check_daily().pk


@transient_task()
def anchor_evidence_chains(self) -> int:
    """Timestamp every chain's head with the RFC 3161 authority (kept with the error if the authority is down)."""
    from core.anchoring import chain_anchor_make

    return chain_anchor_make().pk


@transient_task()
def check_obligation_tally(self) -> int:
    """Recompute the tally the dashboard reads and repair what differs (logged as an error: a change the
    triggers missed); returns how many keys differed."""
    from acknowledgements.tally import tally_check

    return len(tally_check(repair=True))
