"""The signed PDF of an acknowledgement, and the receipt email that carries it.

The PDF is rendered once, sealed, and stored with its SHA-256 (``SealedPdf``);
every download returns those stored bytes. Issuing is idempotent: a retried
task, or a second worker, finds the stored PDF and stops, and the "PDF issued"
audit event (unique per acknowledgement) is the claim that sends the receipt
exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from acknowledgements.events import event_pdf_issued
from acknowledgements.evidence import (
    acknowledgement_evidence,
    evidence_hash,
    pre_signing_events,
)
from acknowledgements.evidence_records import ACKNOWLEDGEMENT
from acknowledgements.models import Acknowledgement, EmailKind, EventKind, OutgoingEmail, SealedPdf
from acknowledgements.outgoing import outgoing_deliver, receipt_email_record
from acknowledgements.sealed_pdfs import sealed_pdf_bytes, sealed_pdf_store
from acknowledgements.signing import role_kinds_of
from conduct.attachments import attachments_for_pdf, attachments_listed
from conduct.models import CodeVersion, VersionStatus
from conduct.rendering import render_sections
from core.canonical import canonical_json
from core.models import Tombstone, tombstone_of
from core.pdf import Attachment, qr_svg, render_pdf, seal_pdf
from core.site import absolute_url
from core.tasks import TRANSIENT_ERRORS, enqueue_on_commit

log = logging.getLogger(__name__)

EVIDENCE_FILE = "evidence.json"
BODY_CACHE_SECONDS = 24 * 60 * 60


# ---------------------------------------------------------------------------
# The version's text, rendered once per version and set of roles
# ---------------------------------------------------------------------------


def version_body_html(
    version: CodeVersion, role_kinds: set[str] | None, *, show_role_tags: bool = False, sections=None
) -> SafeString:
    """The version's text as a reader with these roles sees it.

    Adopted text never changes, so the HTML is cached by version and content hash:
    the reading page and a signing round of hundreds of PDFs render the body once
    per role mix. Drafts are never cached. ``sections`` saves a query when the
    caller has them already.
    """

    def render() -> SafeString:
        return render_sections(
            sections if sections is not None else version.ordered_sections(),
            role_kinds=role_kinds,
            show_role_tags=show_role_tags,
        )

    if version.status == VersionStatus.DRAFT or not version.content_hash:
        return render()
    roles = ",".join(sorted(role_kinds)) if role_kinds is not None else "*"
    # created_at as well as pk: a database rebuilt from scratch (tests, a restored dev copy) reuses ids.
    identity = f"{version.pk}:{version.created_at.timestamp()}:{version.content_hash}"
    key = f"version-body:{identity}:{roles}:{int(show_role_tags)}"
    html = cache.get(key)
    if html is None:
        html = str(render())
        cache.set(key, html, BODY_CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - produced by render_sections, which escapes every clause


# ---------------------------------------------------------------------------
# The PDF
# ---------------------------------------------------------------------------


def verification_url(verification_code: str) -> str:
    return absolute_url(f"{reverse('acknowledgements:verify')}?code={verification_code}")


def record_url(ack: Acknowledgement) -> str:
    return absolute_url(ack.get_absolute_url())


@dataclass(frozen=True)
class PdfDocument:
    html: str
    evidence: bytes
    title: str
    author: str
    subject: str


def acknowledgement_document(ack: Acknowledgement) -> PdfDocument:
    """The HTML and evidence JSON of the acknowledgement's PDF (nothing rendered to PDF yet)."""
    ack = Acknowledgement.objects.select_related(
        "person", "version__code__owner", "organisation", "recorded_by", "corrects"
    ).get(pk=ack.pk)
    version = ack.version
    evidence = acknowledgement_evidence(ack)
    evidence_bytes = canonical_json(evidence)
    declaration = ack.declarations.order_by("pk").first()
    events = pre_signing_events(ack) + list(
        ack.events.filter(kind__in=[EventKind.SIGNED, EventKind.RECORDED_ON_BEHALF, EventKind.CORRECTED])
    )
    title = f"{version.code.title} {version.label}: acknowledgement by {ack.person.full_name}"
    context = {
        "ack": ack,
        "person": ack.person,
        "version": version,
        "code": version.code,
        "organisation": ack.organisation,
        "declaration": declaration,
        "interests": list(declaration.interests.order_by("pk")) if declaration else [],
        "events": sorted(events, key=lambda event: (event.occurred_at, event.pk)),
        "body": version_body_html(version, role_kinds_of(ack)),
        "attached_files": attachments_listed(version),  # listed in the text as well as embedded
        "evidence_hash": evidence_hash(evidence),
        "verify_url": verification_url(ack.verification_code),
        "qr": mark_safe(qr_svg(verification_url(ack.verification_code))),  # noqa: S308 - SVG generated by segno
        "site_name": settings.SITE_NAME,
        "pdf_title": title,
        "pdf_lang": "en-GB",
    }
    return PdfDocument(
        html=render_to_string("pdf/acknowledgement.html", context),
        evidence=evidence_bytes,
        title=title,
        author=f"{settings.SITE_NAME} for {version.code.owner.name}",
        subject=f"Signed acknowledgement of {version.code.title} (version {version.label}), with its evidence",
    )


def acknowledgement_pdf_render(ack: Acknowledgement) -> bytes:
    """Render and seal the PDF: PDF/A-3b with the evidence JSON embedded, sealed with the instance key."""
    document = acknowledgement_document(ack)
    pdf = render_pdf(
        document.html,
        title=document.title,
        author=document.author,
        subject=document.subject,
        attachments=[
            Attachment(EVIDENCE_FILE, document.evidence, "The evidence record; its SHA-256 is the evidence hash."),
            *attachments_for_pdf(ack.version),  # the version's files, part of what was signed
        ],
    )
    return seal_pdf(pdf, reason=f"Acknowledgement {ack.verification_code}: issued by {settings.SITE_NAME}")


class RecordErased(Exception):
    """The record's personal data was erased before its PDF was issued (a task queued before the erasure)."""


def acknowledgement_pdf_issue(*, acknowledgement_id: int, send_receipt: bool) -> SealedPdf:
    """Issue the acknowledgement's PDF once; the first issue queues the receipt email if one is owed.

    A receipt is owed when signing recorded its row (``OutgoingEmail``, written with the signature), or when
    ``send_receipt`` asks for one now. The PDF issued by the reconciliation sweep after a lost message
    therefore still brings the signer their receipt.
    """
    ack = Acknowledgement.objects.select_related("person").get(pk=acknowledgement_id)
    existing = SealedPdf.objects.filter(acknowledgement=ack).first()
    if existing:
        return existing
    if tombstone_of(ACKNOWLEDGEMENT.label, ack.pk) is not None:
        raise RecordErased(f"Acknowledgement {ack.pk} was erased before its PDF was issued: none is issued now.")
    content = acknowledgement_pdf_render(ack)  # outside any transaction: it takes a second or so
    with transaction.atomic():
        record = sealed_pdf_store(content=content, acknowledgement=ack)
        if event_pdf_issued(acknowledgement=ack, record=record):
            if send_receipt:
                receipt_email_record(acknowledgement=ack)
            if OutgoingEmail.objects.filter(acknowledgement=ack, kind=EmailKind.RECEIPT).exists():
                queue_receipt(ack.pk)
    return record


def queue_receipt(acknowledgement_id: int) -> None:
    from acknowledgements.tasks import (
        send_acknowledgement_receipt,  # here, not at the top: the tasks module imports this one
    )

    enqueue_on_commit(send_acknowledgement_receipt, acknowledgement_id)


def queue_pdf_issue(acknowledgement_id: int) -> None:
    from acknowledgements.tasks import (
        issue_acknowledgement_pdf,  # here, not at the top: the tasks module imports this one
    )

    enqueue_on_commit(issue_acknowledgement_pdf, acknowledgement_id, send_receipt=False)


# One sweep queues at most this many PDFs (about a second each to render); the next sweep carries on.
MISSING_PDF_BATCH = 500


def acknowledgements_missing_pdf(*, signed_before: datetime) -> list[int]:
    """Ids of acknowledgements signed before then that still have no sealed PDF (oldest first, a batch)."""
    return list(
        Acknowledgement.objects.filter(signed_at__lt=signed_before, pdf__isnull=True)
        .exclude(Exists(Tombstone.objects.filter(record_type=ACKNOWLEDGEMENT.label, record_id=OuterRef("pk"))))
        .order_by("signed_at", "pk")
        .values_list("pk", flat=True)[:MISSING_PDF_BATCH]
    )


def acknowledgement_pdfs_issue_missing(*, older_than: timedelta) -> list[int]:
    """Issue here and now the PDF of each acknowledgement signed more than ``older_than`` ago that has none.

    For an operator (and the tests): the reconciliation sweep (``acknowledgements.reconcile``) queues
    them to the workers instead. A receipt owed is queued as each PDF is issued. A transient error
    (storage, database) stops; one record that cannot be rendered is logged and skipped, so it never
    holds up the others. Returns the ids issued.
    """
    issued = []
    for acknowledgement_id in acknowledgements_missing_pdf(signed_before=timezone.now() - older_than):
        try:
            acknowledgement_pdf_issue(acknowledgement_id=acknowledgement_id, send_receipt=False)
        except TRANSIENT_ERRORS:
            raise
        except Exception:  # this record's failure is logged; the sweep goes on and tries it again next time
            log.exception("Could not issue the missing PDF of acknowledgement %s", acknowledgement_id)
        else:
            issued.append(acknowledgement_id)
    return issued


def pdf_filename(ack: Acknowledgement) -> str:
    return f"acknowledgement-{ack.version.code.slug}-{ack.version.label}-{ack.verification_code}.pdf".replace(" ", "-")


# ---------------------------------------------------------------------------
# The receipt
# ---------------------------------------------------------------------------


def receipt_send(*, acknowledgement_id: int, final_attempt: bool = False) -> bool:
    """Email the signer their signed PDF, once (its ``OutgoingEmail`` row is claimed first).

    False, and nothing sent, when the PDF does not exist yet, no receipt is owed, it went already or
    another worker has it, or the server refused it (recorded on the row). A transient failure is
    recorded on the row and raised for the task to retry (``acknowledgements.outgoing``).
    """
    record = SealedPdf.objects.filter(acknowledgement_id=acknowledgement_id).first()
    row = OutgoingEmail.objects.filter(acknowledgement_id=acknowledgement_id, kind=EmailKind.RECEIPT).first()
    if record is None or row is None:
        return False

    def build(row: OutgoingEmail) -> EmailMessage:
        ack = Acknowledgement.objects.select_related("person", "version__code__owner", "recorded_by").get(
            pk=acknowledgement_id
        )
        context = {
            "ack": ack,
            "person": ack.person,
            "version": ack.version,
            "code": ack.version.code,
            "signed_at": timezone.localtime(ack.signed_at),
            "record_url": record_url(ack),
            "verify_url": verification_url(ack.verification_code),
            "site_name": settings.SITE_NAME,
        }
        subject = render_to_string("acknowledgements/email/receipt_subject.txt", context).strip()
        message = EmailMultiAlternatives(
            subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
            body=render_to_string("acknowledgements/email/receipt_message.txt", context),
        )
        # The same words in the trust's branding (its name, logo and colour), for mail clients that show HTML.
        html_context = {
            **context,
            "subject": subject,
            "organisation": ack.version.code.owner,
            "site_url": settings.SITE_URL,
            "action_url": context["record_url"],
            "action_label": "See your record",
        }
        message.attach_alternative(
            render_to_string("acknowledgements/email/receipt_message.html", html_context), "text/html"
        )
        message.attach(pdf_filename(ack), sealed_pdf_bytes(record), "application/pdf")
        return message

    sent = outgoing_deliver(email_id=row.pk, build=build, final_attempt=final_attempt)
    if sent:
        log.info("Receipt for acknowledgement %s sent (email %s)", acknowledgement_id, row.pk)
    return sent
