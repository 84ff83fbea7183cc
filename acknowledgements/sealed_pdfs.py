"""Issued PDFs, stored once: every download returns the stored bytes, never a re-render."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from acknowledgements.evidence_records import sealed_pdf_chain
from acknowledgements.models import SealedPdf
from core.canonical import sha256_hex


def sealed_pdf_store(*, content: bytes, acknowledgement=None, adoption=None):
    """Store an issued PDF once for its subject; a second call returns the stored one unchanged."""
    if (acknowledgement is None) == (adoption is None):
        raise ValueError("A sealed PDF belongs to exactly one acknowledgement or adoption.")
    subject = {"acknowledgement": acknowledgement} if acknowledgement is not None else {"adoption": adoption}
    existing = SealedPdf.objects.filter(**subject).first()
    if existing:
        return existing
    digest = sha256_hex(content)
    record = SealedPdf(sha256=digest, size=len(content), **subject)
    record.file.save(f"{digest}.pdf", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            record.save()
            scope = acknowledgement.organisation_id if acknowledgement is not None else adoption.board_id
            sealed_pdf_chain(record, organisation_id=scope)
    except IntegrityError:
        # Another worker stored it first (a retried task): keep theirs, drop our copy.
        if record.file.name:
            record.file.storage.delete(record.file.name)
        return SealedPdf.objects.get(**subject)
    return record


def sealed_pdf_bytes(record) -> bytes:
    """The stored bytes, exactly as issued."""
    with record.file.open("rb") as handle:
        return handle.read()
