"""One record and its PDF (and a board's adoption certificate): each download returns the stored bytes."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from acknowledgements.certificates import adoption_certificate_issue, certificate_filename
from acknowledgements.events import event_pdf_downloaded
from acknowledgements.evidence import acknowledgement_evidence_hash
from acknowledgements.issuing import pdf_filename
from acknowledgements.models import (
    Acknowledgement,
    AuditEvent,
    SealedPdf,
)
from acknowledgements.sealed_pdfs import sealed_pdf_bytes
from acknowledgements.tasks import issue_acknowledgement_pdf
from conduct.models import Adoption
from conduct.permissions import Action, can, can_view_adoption
from core.downloads import file_download, pdf_download
from core.request_meta import RequestMeta
from core.tasks import enqueue_on_commit

# A PDF still missing this long after signing is issued on first need (demo data, a task that gave up).
PDF_GRACE = timedelta(minutes=10)


def visible_acknowledgement(request: HttpRequest, pk: int) -> Acknowledgement:
    """The acknowledgement if it is the user's own or they may view records where it was made; else 404."""
    ack = get_object_or_404(
        Acknowledgement.objects.select_related(
            "person", "version__code__owner", "organisation", "recorded_by", "corrects"
        ),
        pk=pk,
    )
    if ack.person_id != request.user.pk and not can(request.user, Action.VIEW_RECORDS, ack.organisation):
        raise Http404("No such record.")
    return ack


def _issue_if_missing(ack: Acknowledgement, pdf: SealedPdf | None) -> None:
    """Records signed long ago without a PDF (demo data, a task that gave up) get one on first need."""
    if pdf is not None or timezone.now() - ack.signed_at < PDF_GRACE:
        return
    if cache.add(f"pdf-queued:{ack.pk}", True, timeout=300):
        enqueue_on_commit(issue_acknowledgement_pdf, ack.pk, send_receipt=False)


@login_required
@require_safe
def record(request: HttpRequest, pk: int) -> HttpResponse:
    ack = visible_acknowledgement(request, pk)
    pdf = SealedPdf.objects.filter(acknowledgement=ack).first()
    _issue_if_missing(ack, pdf)
    declaration = ack.declarations.prefetch_related("interests").first()
    context = {
        "ack": ack,
        "pdf": pdf,
        "declaration": declaration,
        "events": AuditEvent.objects.filter(
            Q(acknowledgement=ack)
            | Q(person_id=ack.person_id, version_id=ack.version_id, kind="first_viewed")
            | Q(person_id=ack.person_id, kind="invited", occurred_at__lte=ack.signed_at)
        ).select_related("actor"),
        "evidence_intact": acknowledgement_evidence_hash(ack) == ack.evidence_hash,
        "correction": ack.corrections.select_related("recorded_by").first(),
        "own": ack.person_id == request.user.pk,
        "may_correct": ack.on_behalf and can(request.user, Action.RECORD_ON_BEHALF, ack.organisation),
    }
    return render(request, "acknowledgements/record.html", context)


@login_required
@require_safe
def pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored bytes, exactly as issued; never a re-render."""
    ack = visible_acknowledgement(request, pk)
    stored = SealedPdf.objects.filter(acknowledgement=ack).first()
    if stored is None:
        raise Http404("The signed PDF is still being prepared.")
    event_pdf_downloaded(acknowledgement=ack, by=request.user, request_meta=RequestMeta.from_request(request))
    return pdf_download(sealed_pdf_bytes(stored), filename=pdf_filename(ack))


@login_required
@require_safe
def pdf_status(request: HttpRequest, pk: int) -> JsonResponse:
    ack = visible_acknowledgement(request, pk)
    stored = SealedPdf.objects.filter(acknowledgement=ack).first()
    return JsonResponse(
        {"ready": stored is not None, "url": reverse("acknowledgements:pdf", args=[ack.pk]) if stored else None},
        headers={"Cache-Control": "no-store"},
    )


@login_required
@require_safe
def scan(request: HttpRequest, pk: int) -> HttpResponse:
    ack = visible_acknowledgement(request, pk)
    if not ack.paper_scan:
        raise Http404("No scan was attached.")
    with ack.paper_scan.open("rb") as handle:
        content = handle.read()
    kind = {b"%PDF": "application/pdf", b"\x89PNG": "image/png"}.get(content[:4], "image/jpeg")
    return file_download(
        content, filename=f"paper-form-{ack.verification_code}{ack.paper_scan.name[-4:]}", content_type=kind
    )


@login_required
def adoption_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored, sealed certificate, byte for byte. Issued now if the worker has not got to it yet."""
    adoption = get_object_or_404(Adoption.objects.select_related("version__code__owner", "board"), pk=pk)
    if not can_view_adoption(request.user, adoption):
        raise Http404("No such adoption.")
    record = adoption_certificate_issue(adoption_id=adoption.pk)
    return pdf_download(sealed_pdf_bytes(record), filename=certificate_filename(adoption))
