"""The bulk archive of one version's signed PDFs: a ZIP of the stored files, a manifest and a README.

Each PDF is copied byte for byte from storage and hashed on the way, so the
manifest can say whether the file in the archive still matches the SHA-256
recorded when it was issued.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
import zipfile
from datetime import UTC, datetime
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from acknowledgements.models import Acknowledgement
from conduct.models import role_label
from conduct.permissions import Action, scope_q
from reports.exports import local_iso, neutralise
from reports.jobs import COPY_CHUNK, filters_from_job, job_complete, job_progress
from reports.models import ReportJob
from reports.selectors import obligations_base, report_scopes, school_map

PROGRESS_EVERY = 25  # rows between progress writes: often enough for the bar, rare enough to cost nothing

MANIFEST_HEADER = [
    "File",
    "Person",
    "Email",
    "Role",
    "Organisation",
    "Signed at (Europe/London)",
    "Signed at (UTC)",
    "PDF SHA-256",
    "PDF check",
    "Evidence hash",
    "Verification code",
    "Corrects",
    "Recorded on behalf by",
]

ARCHIVE_README = """Signed acknowledgements: {version}
Organisation: {organisation}{school}
Built: {built} (Europe/London) by {requested_by}

pdfs/ holds every stored signed PDF, byte for byte as issued.
manifest.csv lists every acknowledgement of this version in {scope}, one row each:
  File                       the PDF's name in pdfs/ (blank if no PDF has been issued yet)
  Person, Email              who signed
  Role, Organisation         the role(s) it was owed for and where they are held
  Signed at                  server time of signing, in London time and in UTC
  PDF SHA-256                the SHA-256 recorded when the PDF was issued
  PDF check                  "matches" when the file in this archive hashes to that value
  Evidence hash              SHA-256 over the record's canonical evidence
  Verification code          check any PDF on the service's public verification page
  Corrects                   the verification code of the record this one corrects, if any
  Recorded on behalf by      the clerk or admin who recorded a paper signature, if any
"""


def roles_text(roles: list[Any] | None) -> str:
    """The roles an acknowledgement was owed for, as stored with it (dicts with a label, or bare kinds)."""
    labels = []
    for role in roles or []:
        if isinstance(role, dict):
            label = role.get("label") or role_label(role.get("kind", ""))
            labels.append(f"{label} ({role['title']})" if role.get("title") else label)
        else:
            labels.append(role_label(role))
    return "; ".join(labels)


def _safe_name(text: str) -> str:
    return slugify(text)[:60] or "person"


def _archive_acknowledgements(job: ReportJob) -> QuerySet[Acknowledgement]:
    """Acknowledgements of the version in the organisation that the requester may see (school/role filters honoured)."""
    filters = filters_from_job(job)
    user = job.requested_by
    queryset = Acknowledgement.objects.filter(
        scope_q(user, Action.VIEW_REPORTS, "organisation"),
        organisation__path__startswith=job.organisation.path,
        version=job.version,
    )
    if filters.school or filters.role:
        owing = obligations_base(user, filters, school_map(filters)).values("person_id")
        queryset = queryset.filter(person_id__in=owing)
    return queryset.select_related("person", "organisation", "pdf", "corrects", "recorded_by").order_by(
        "person__full_name", "signed_at", "pk"
    )


def _copy_into_zip(archive: zipfile.ZipFile, name: str, source: IO[bytes], when: datetime) -> str:
    """Copy a stored file into the archive in chunks, returning the SHA-256 of the bytes copied."""
    info = zipfile.ZipInfo(name, date_time=timezone.localtime(when).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED  # PDFs are already compressed; storing is I/O only
    digest = hashlib.sha256()
    with archive.open(info, "w") as target:
        for chunk in iter(lambda: source.read(COPY_CHUNK), b""):
            digest.update(chunk)
            target.write(chunk)
    return digest.hexdigest()


def archive_build(job: ReportJob) -> None:
    version = job.version
    if version is None:  # a check constraint makes every archive job name its version
        raise ValidationError("Choose a code version: an archive holds the signed PDFs of one version.")
    acknowledgements = _archive_acknowledgements(job)
    scope = report_scopes([job])[job.pk]
    total = acknowledgements.count()
    job_progress(job, done=0, total=total)
    manifest = io.StringIO()
    writer = csv.writer(manifest, lineterminator="\r\n")
    writer.writerow(MANIFEST_HEADER)
    stored = mismatched = 0
    with tempfile.TemporaryFile() as handle:
        with zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
            for done, ack in enumerate(acknowledgements.iterator(chunk_size=500), start=1):
                pdf = getattr(ack, "pdf", None)
                file_name = check = digest = ""
                if pdf is not None:
                    file_name = f"pdfs/{_safe_name(ack.person.full_name)}-{ack.verification_code}.pdf"
                    with pdf.file.open("rb") as source:
                        digest = _copy_into_zip(archive, file_name, source, ack.signed_at)
                    check = "matches" if digest == pdf.sha256 else "DOES NOT MATCH the recorded SHA-256"
                    stored += 1
                    mismatched += digest != pdf.sha256
                else:
                    check = "no PDF issued yet"
                writer.writerow(
                    neutralise(value)
                    for value in (
                        file_name,
                        ack.person.full_name,
                        ack.person.email,
                        roles_text(ack.roles),
                        ack.organisation.name,
                        local_iso(ack.signed_at),
                        ack.signed_at.astimezone(UTC).isoformat(timespec="seconds"),
                        pdf.sha256 if pdf is not None else "",
                        check,
                        ack.evidence_hash,
                        ack.verification_code,
                        ack.corrects.verification_code if ack.corrects else "",
                        ack.recorded_by.full_name if ack.recorded_by else "",
                    )
                )
                if done % PROGRESS_EVERY == 0:
                    job_progress(job, done=done, total=total)
            built = timezone.localtime()
            archive.writestr("manifest.csv", "\ufeff" + manifest.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
            archive.writestr(
                "README.txt",
                ARCHIVE_README.format(
                    version=str(version),
                    organisation=job.organisation.name,
                    school=f"\nSchool: {scope.school} only" if scope.school else "",
                    scope=scope.name if scope.school else "the organisation",
                    built=built.strftime("%-d %B %Y %H:%M"),
                    requested_by=job.requested_by.full_name,
                ),
                compress_type=zipfile.ZIP_DEFLATED,
            )
        job_progress(job, done=total, total=total)
        name = f"{scope.slug}-{version.code.slug}-{slugify(version.label)}-signed-pdfs-{built:%Y-%m-%d}.zip"
        job_complete(
            job,
            handle=handle,
            file_name=name,
            summary={"acknowledgements": total, "pdfs": stored, "mismatched": mismatched},
        )
