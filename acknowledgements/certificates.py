"""The adoption certificate: a sealed PDF/A stating what a board adopted, when, and how to verify it.

Rendered once per adoption by a worker (``conduct.tasks``) after the adoption
commits, stored as a ``SealedPdf`` and returned byte for byte by every
download. It uses the shared issuing module (``acknowledgements.documents``):
the same PDF/A-3b rendering, embedded evidence JSON and PAdES seal as signed
acknowledgements, and the same public verification page.
"""

from __future__ import annotations

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from acknowledgements.issuing import EVIDENCE_FILE, verification_url
from acknowledgements.models import SealedPdf
from acknowledgements.sealed_pdfs import sealed_pdf_store
from conduct.attachments import attachments_for_pdf, attachments_listed
from conduct.diff import VersionDiff, diff_versions
from conduct.models import Adoption
from conduct.rendering import render_sections
from conduct.services import adoption_evidence
from core.canonical import canonical_json
from core.display import long_date
from core.pdf import Attachment, qr_svg, render_pdf, seal_pdf


def certificate_filename(adoption: Adoption) -> str:
    slug = adoption.version.code.slug
    label = "".join(ch if ch.isalnum() else "-" for ch in adoption.version.label).strip("-")
    return f"adoption-certificate-{slug}-{label}-{adoption.board.slug}.pdf"


def certificate_html(adoption: Adoption) -> str:
    version = adoption.version
    sections = version.ordered_sections()
    previous = version.previous()
    diff: VersionDiff | None = diff_versions(previous, version) if previous else None
    url = verification_url(adoption.verification_code)
    return render_to_string(
        "pdf/adoption_certificate.html",
        {
            "pdf_title": f"Adoption certificate: {version.code.title} {version.label}",
            "adoption": adoption,
            "organisation": adoption.board,  # whose trust's branding heads the certificate (pdf/base.html)
            "code": version.code,
            "version": version,
            "previous": previous,
            "diff": diff,
            "changes": diff.changed_only if diff else [],
            "body": render_sections(sections, role_kinds=None, show_role_tags=True, heading_level=3),
            "attached_files": attachments_listed(version),  # listed in the text as well as embedded
            "verification_url": url,
            "qr": qr_svg(url),
            "issued_at": timezone.now(),
            "evidence_file": EVIDENCE_FILE,
        },
    )


def adoption_certificate_issue(*, adoption_id: int) -> SealedPdf:
    """Render, seal and store the certificate for an adoption; a second call returns the stored one."""
    existing = SealedPdf.objects.filter(adoption_id=adoption_id).first()
    if existing:
        return existing
    adoption = Adoption.objects.select_related(
        "version__code__owner", "version__based_on", "board", "organisation", "meeting", "chair", "recorded_by"
    ).get(pk=adoption_id)
    version = adoption.version
    # What the evidence hash is computed over, plus the hash and the code that look the record up.
    evidence = {
        **adoption_evidence(adoption),
        "evidence_hash": adoption.evidence_hash,
        "verification_code": adoption.verification_code,
    }
    pdf = render_pdf(
        certificate_html(adoption),
        title=f"Adoption certificate: {version.code.title} {version.label}",
        author=adoption.board.name,
        subject=f"{adoption.board.name} adopted {version.code.title} {version.label}"
        f" on {long_date(adoption.adopted_on)}",
        attachments=[
            Attachment(
                EVIDENCE_FILE,
                canonical_json(evidence),
                "The adoption evidence (canonical JSON) its evidence hash is computed over",
            ),
            *attachments_for_pdf(version),  # the version's files, part of what was adopted
        ],
    )
    sealed = seal_pdf(pdf, reason=f"Adoption of {version.code.title} {version.label} by {adoption.board.name}")
    with transaction.atomic():
        return sealed_pdf_store(content=sealed, adoption=adoption)
