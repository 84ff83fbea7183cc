"""The acknowledgements app's reconciliation sweeps (run by ``core.reconcile`` every few minutes).

Each finds, in the database, work whose message may have been lost, and queues it again once per claim
(``core.claims.work_claim``): signed PDFs and adoption certificates still missing after the grace period,
receipts and invitations still waiting to be sent. The tasks are idempotent besides (a stored PDF is
never issued twice, an email row is claimed before it is sent), so even a message that was only slow
does no harm.
"""

from __future__ import annotations

from datetime import datetime

from acknowledgements.issuing import MISSING_PDF_BATCH, acknowledgements_missing_pdf, queue_pdf_issue, queue_receipt
from acknowledgements.models import EmailKind
from acknowledgements.outgoing import outgoing_pending
from conduct.models import Adoption
from core.claims import work_claim
from core.evidence_chain import chain_drain_all
from core.reconcile import grace, register_sweep, requeue_after
from core.tasks import enqueue_on_commit

EMAIL_BATCH = 1000


@register_sweep("acknowledgement-pdfs")
def sweep_acknowledgement_pdfs(now: datetime) -> int:
    queued = 0
    for acknowledgement_id in acknowledgements_missing_pdf(signed_before=now - grace()):
        if work_claim(f"pdf:acknowledgement:{acknowledgement_id}", stale_after=requeue_after(), now=now):
            queue_pdf_issue(acknowledgement_id)
            queued += 1
    return queued


@register_sweep("adoption-certificates")
def sweep_adoption_certificates(now: datetime) -> int:
    from acknowledgements.tasks import issue_adoption_certificate  # the tasks module imports this app's services

    missing = (
        Adoption.objects.filter(recorded_at__lt=now - grace(), certificate__isnull=True)
        .order_by("recorded_at", "pk")
        .values_list("pk", flat=True)[:MISSING_PDF_BATCH]
    )
    queued = 0
    for adoption_id in missing:
        if work_claim(f"pdf:adoption:{adoption_id}", stale_after=requeue_after(), now=now):
            enqueue_on_commit(issue_adoption_certificate, adoption_id)
            queued += 1
    return queued


@register_sweep("receipts-and-invitations")
def sweep_emails(now: datetime) -> int:
    from acknowledgements.tasks import send_invitation

    queued = 0
    waiting = outgoing_pending(created_before=now - grace(), now=now).filter(
        # A receipt waits for its PDF (the PDF sweep issues it, and the issue queues the receipt).
        kind=EmailKind.INVITATION
    ) | outgoing_pending(created_before=now - grace(), now=now).filter(
        kind=EmailKind.RECEIPT, acknowledgement__pdf__isnull=False
    )
    for row in waiting.values("pk", "kind", "acknowledgement_id", "invitation_id")[:EMAIL_BATCH]:
        if not work_claim(f"email:{row['pk']}", stale_after=requeue_after(), now=now):
            continue
        if row["kind"] == EmailKind.RECEIPT:
            queue_receipt(row["acknowledgement_id"])
        else:
            enqueue_on_commit(send_invitation, row["invitation_id"])
        queued += 1
    return queued


@register_sweep("evidence-chain")
def sweep_evidence_chain(now: datetime) -> int:
    """Signed entries left waiting for their chain (a sequencer step lost with its worker): appended now.

    No claim is needed: the sequencer takes the chain's head, so two sweeps at once append each entry once."""
    return chain_drain_all()
