"""Builders for report tests: signatures, stored signed PDFs and declarations, made directly.

The signing app builds these through its own services; reports only read them,
so tests insert them as rows (evidence tables accept inserts, never updates).
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.core.files.base import ContentFile
from django.utils import timezone

from acknowledgements.models import (
    Acknowledgement,
    Declaration,
    Interest,
    Obligation,
    SealedPdf,
)
from conduct.models import Attendance, Meeting, Organisation, Person, role_label
from core.canonical import sha256_hex
from core.pdf import render_pdf
from core.request_meta import AuthMethod


@lru_cache(maxsize=1)
def small_pdf() -> bytes:
    """One small real PDF (rendered once per test run)."""

    html = "<html lang='en-GB'><body><h1>Acknowledgement</h1><p>Signed.</p></body></html>"
    return render_pdf(html, title="Acknowledgement", author="Tests", subject="A signed acknowledgement")


def distinct_pdf(tag: str) -> bytes:
    """The small PDF plus a trailing comment: still a valid PDF, but its own bytes and SHA-256."""
    return small_pdf() + f"\n% {tag}\n".encode()


def sign(
    obligation: Obligation,
    *,
    at: datetime | None = None,
    pdf: bool = False,
    recorded_by: Person | None = None,
) -> Acknowledgement:
    """Record that the person signed what they owe, as the signing service would."""
    at = at or timezone.now()
    role = obligation.role
    ack = Acknowledgement.objects.create(
        person=obligation.person,
        version=obligation.version,
        obligation=obligation,
        organisation=obligation.organisation,
        roles=[
            {
                "role_id": role.pk,
                "kind": role.kind,
                "label": role_label(role.kind),
                "title": role.title,
                "organisation_id": role.organisation_id,
                "organisation": obligation.organisation.name,
            }
        ],
        content_hash=obligation.version.content_hash,
        statement="I have read and understood the code and agree to abide by it.",
        typed_name=obligation.person.full_name,
        signed_at=at,
        ip_address="192.0.2.10",
        user_agent="pytest",
        auth_method=AuthMethod.ON_BEHALF if recorded_by else AuthMethod.PASSWORD,
        recorded_by=recorded_by,
        on_behalf_reason="Signed on paper at the board meeting." if recorded_by else "",
        evidence_hash=sha256_hex(f"evidence {obligation.pk} {at.isoformat()}".encode()),
    )
    Obligation.objects.filter(pk=obligation.pk).update(acknowledged_at=at)
    obligation.acknowledged_at = at
    if pdf:
        store_pdf(ack)
    return ack


def store_pdf(ack: Acknowledgement, content: bytes | None = None) -> SealedPdf:
    content = content or distinct_pdf(f"acknowledgement {ack.pk} {ack.verification_code}")
    record = SealedPdf(acknowledgement=ack, sha256=sha256_hex(content), size=len(content))
    record.file.save(f"{record.sha256}.pdf", ContentFile(content), save=False)
    record.save()
    return record


def declare(
    person: Person,
    organisation: Organisation,
    *,
    interests: list[dict] | None = None,
    made_at: datetime | None = None,
) -> Declaration:
    """A declaration of interests, or of nothing to declare when ``interests`` is empty."""
    made_at = made_at or timezone.now()
    local = timezone.localtime(made_at).date()
    year = local.year if local.month >= 9 else local.year - 1
    declaration = Declaration.objects.create(
        person=person,
        organisation=organisation,
        nothing_to_declare=not interests,
        made_at=made_at,
        academic_year_start=date(year, 9, 1),
    )
    for item in interests or []:
        Interest.objects.create(declaration=declaration, **item)
    return declaration


def meeting_with_attendance(board: Organisation, held_on: date, *, present=(), apologies=()) -> Meeting:
    meeting = Meeting.objects.create(board=board, held_on=held_on, title="Board meeting")
    for person in present:
        Attendance.objects.create(meeting=meeting, person=person, status="present")
    for person in apologies:
        Attendance.objects.create(meeting=meeting, person=person, status="apologies")
    return meeting


def days_ago(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


def read_zip(data: bytes):
    import zipfile

    return zipfile.ZipFile(io.BytesIO(data))
