"""One record and its PDF (and a board's adoption certificate): each download returns the stored bytes.

A PDF that is missing (its task gave up, a lost message, demo data) is issued by the reconciliation
sweep (``acknowledgements.reconcile``), never by viewing a page. A download is recorded ("PDF
downloaded") only once its bytes were read, checked against their SHA-256 and sent; a file missing
from storage gets a clear page and records nothing (``core.downloads``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from acknowledgements.certificates import adoption_certificate_issue, certificate_filename
from acknowledgements.events import event_pdf_downloaded
from acknowledgements.issuing import pdf_filename
from acknowledgements.models import Acknowledgement, SealedPdf
from acknowledgements.selectors import acknowledgement_visible_to, record_page
from conduct.http import AuthenticatedHttpRequest
from conduct.models import Adoption
from conduct.permissions import can_view_adoption
from core.downloads import (
    StoredFileUnavailable,
    erased_file_response,
    file_download,
    stored_file_download,
    stored_file_read,
    stored_file_unavailable_response,
)
from core.models import tombstone_of
from core.request_meta import RequestMeta


def visible_acknowledgement(request: AuthenticatedHttpRequest, pk: int) -> Acknowledgement:
    """The acknowledgement if the user may see it (``can_view_record``); else 404, as if it did not exist."""
    ack = acknowledgement_visible_to(request.user, pk)
    if ack is None:
        raise Http404("No such record.")
    return ack


@login_required
@require_safe
def record(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    page = record_page(request.user, pk)
    if page is None:
        raise Http404("No such record.")
    return render(request, "acknowledgements/record.html", {"record": page})


@login_required
@require_safe
def pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    """The stored bytes, exactly as issued (never a re-render); the event once they have been sent."""
    ack = visible_acknowledgement(request, pk)
    stored = SealedPdf.objects.filter(acknowledgement=ack).first()
    if stored is None:
        raise Http404("The signed PDF is still being prepared.")
    if (erased := tombstone_of("acknowledgements.sealedpdf", stored.pk)) is not None:
        return erased_file_response(request, erased, what="the signed PDF")
    meta = RequestMeta.from_request(request)

    def downloaded() -> None:
        with transaction.atomic():
            event_pdf_downloaded(acknowledgement=ack, by=request.user, request_meta=meta)

    try:
        return stored_file_download(
            stored.file, filename=pdf_filename(ack), expected_sha256=stored.sha256, on_sent=downloaded
        )
    except StoredFileUnavailable as problem:
        return stored_file_unavailable_response(request, problem, what="the signed PDF")


@login_required
@require_safe
def pdf_status(request: AuthenticatedHttpRequest, pk: int) -> JsonResponse:
    ack = visible_acknowledgement(request, pk)
    stored = SealedPdf.objects.filter(acknowledgement=ack).first()
    return JsonResponse(
        {"ready": stored is not None, "url": reverse("acknowledgements:pdf", args=[ack.pk]) if stored else None},
        headers={"Cache-Control": "no-store"},
    )


@login_required
@require_safe
def scan(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ack = visible_acknowledgement(request, pk)
    if (erased := tombstone_of("acknowledgements.paperscan", ack.pk)) is not None:
        return erased_file_response(request, erased, what="the paper form's scan")
    if not ack.paper_scan:
        raise Http404("No scan was attached.")
    try:
        content = stored_file_read(ack.paper_scan, expected_sha256=ack.paper_scan_sha256)
    except StoredFileUnavailable as problem:
        return stored_file_unavailable_response(request, problem, what="the paper form's scan")
    kind = {b"%PDF": "application/pdf", b"\x89PNG": "image/png"}.get(content[:4], "image/jpeg")
    suffix = (ack.paper_scan.name or "")[-4:]  # a stored file always has a name; the stubs allow None
    return file_download(content, filename=f"paper-form-{ack.verification_code}{suffix}", content_type=kind)


@login_required
def adoption_certificate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The stored, sealed certificate, byte for byte. Issued now if the worker has not got to it yet."""
    adoption = get_object_or_404(Adoption.objects.select_related("version__code__owner", "board"), pk=pk)
    if not can_view_adoption(request.user, adoption):
        raise Http404("No such adoption.")
    record = adoption_certificate_issue(adoption_id=adoption.pk)
    try:
        content = stored_file_read(record.file, expected_sha256=record.sha256)
    except StoredFileUnavailable as problem:
        return stored_file_unavailable_response(request, problem, what="the adoption certificate")
    return file_download(content, filename=certificate_filename(adoption))


@login_required
@require_safe
def adoption_certificate_status(request: AuthenticatedHttpRequest, pk: int) -> JsonResponse:
    """Whether the adoption's certificate has been issued yet (the adoption page asks every few seconds)."""
    adoption = get_object_or_404(Adoption, pk=pk)
    if not can_view_adoption(request.user, adoption):
        raise Http404("No such adoption.")
    stored = SealedPdf.objects.filter(adoption=adoption).only("sha256").first()
    return JsonResponse(
        {
            "ready": stored is not None,
            "sha256": stored.sha256 if stored else None,
            "url": reverse("acknowledgements:adoption_certificate", args=[adoption.pk]),
        },
        headers={"Cache-Control": "no-store"},
    )
