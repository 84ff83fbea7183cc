"""Report jobs (bulk archives and detailed PDFs) and the register's publication switch.

A job's life: ``job_request`` inserts it (one active job per person and
request, by a partial unique constraint) and queues the task on commit; the
task calls ``job_run``, which claims the row with a conditional UPDATE, builds
the file while writing progress to the row, and attaches the file. A second
delivery of the same task finds nothing to claim and does nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from acknowledgements.models import Acknowledgement
from conduct.models import Organisation, Person, role_label
from conduct.permissions import Action, can, scope_q
from core.canonical import canonical_json, sha256_hex
from reports.documents import detailed_pdf
from reports.exports import Sheet, local_iso, neutralise, people_columns, xlsx_file
from reports.models import ACTIVE_STATUSES, JOB_RETENTION, JobKind, JobStatus, ReportJob
from reports.selectors import (
    ReportFilters,
    dashboard,
    obligations_base,
    owed_rows,
    people_rows,
    school_map,
)

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 25  # rows between progress writes: often enough for the bar, rare enough to cost nothing
COPY_CHUNK = 1024 * 1024
DETAILED_PDF_MAX_ROWS = 10_000  # beyond this a PDF stops being readable; CSV and XLSX have no limit


class JobLost(Exception):
    """The job was claimed by another attempt (or finished) while this one was working."""


# ---------------------------------------------------------------------------
# Filters stored on a job
# ---------------------------------------------------------------------------


def filters_to_parameters(filters: ReportFilters) -> dict[str, str]:
    params = filters.as_params()
    params.pop("organisation", None)
    params.pop("code", None)
    params.pop("version", None)
    return params


def filters_from_job(job: ReportJob) -> ReportFilters:
    params = job.parameters or {}
    return ReportFilters(
        organisation=job.organisation,
        as_at=date.fromisoformat(params["as_at"]) if params.get("as_at") else timezone.localdate(),
        code=job.code,
        version=job.version,
        school=params.get("school", ""),
        role=params.get("role", ""),
        status=params.get("status", ""),
    )


def _fingerprint(kind: str, filters: ReportFilters) -> str:
    return sha256_hex(canonical_json({"kind": kind, **filters.as_params()}))


# ---------------------------------------------------------------------------
# Requesting, claiming and finishing jobs
# ---------------------------------------------------------------------------


def job_request(*, user: Person, kind: str, filters: ReportFilters, enqueue: bool = True) -> tuple[ReportJob, bool]:
    """Start a job for these filters, or return the one already under way for the same request.

    Returns ``(job, created)``. The task is queued only once the row is committed
    (``enqueue=False`` leaves it for the caller to run, as the benchmark does).
    """
    if not can(user, Action.VIEW_REPORTS, filters.organisation):
        raise PermissionDenied("You cannot run reports for this organisation.")
    if kind == JobKind.ARCHIVE and filters.version is None:
        raise ValidationError("Choose a code version: an archive holds the signed PDFs of one version.")
    if kind == JobKind.DETAILED_PDF:
        _check_detailed_pdf_size(user, filters)
    fingerprint = _fingerprint(kind, filters)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                job = ReportJob.objects.create(
                    kind=kind,
                    requested_by=user,
                    organisation=filters.organisation,
                    code=filters.code,
                    version=filters.version,
                    parameters=filters_to_parameters(filters),
                    fingerprint=fingerprint,
                )
                if enqueue:
                    transaction.on_commit(lambda: _enqueue(job.pk))
            return job, True
        except IntegrityError:
            existing = ReportJob.objects.filter(
                requested_by=user, fingerprint=fingerprint, status__in=ACTIVE_STATUSES
            ).first()
            if existing is not None:
                return existing, False
            # It finished between our insert and this read: try once more to start a fresh one.
    raise ValidationError("This report could not be started; please try again.")


def _enqueue(job_id: int) -> None:
    from reports.tasks import build_report_job  # here, not at the top: the tasks module imports this one

    build_report_job.delay(job_id)


def _check_detailed_pdf_size(user: Person, filters: ReportFilters) -> None:
    _refuse_too_long(owed_rows(user, filters, school_map(filters)).count())


def _refuse_too_long(count: int) -> None:
    if count > DETAILED_PDF_MAX_ROWS:
        raise ValidationError(
            f"This report lists {count:,} people, more than a PDF can usefully hold ({DETAILED_PDF_MAX_ROWS:,}). "
            "Narrow it to a school or a role, or export CSV or XLSX, which have no limit."
        )


def job_claim(job_id: int) -> ReportJob | None:
    """Claim a pending job (or one whose worker vanished) for this attempt; None if there is nothing to do."""
    now = timezone.now()
    claimed = (
        ReportJob.objects.claimable(now)
        .filter(pk=job_id)
        .update(status=JobStatus.RUNNING, claimed_at=now, attempts=F("attempts") + 1, error="")
    )
    if not claimed:
        return None
    return ReportJob.objects.select_related("organisation", "code", "version__code", "requested_by").get(pk=job_id)


def _mine(job: ReportJob):
    """The job's row, as long as this attempt still holds the claim."""
    return ReportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, claimed_at=job.claimed_at)


def job_progress(job: ReportJob, *, done: int, total: int) -> None:
    if not _mine(job).update(progress_done=min(done, total), progress_total=total):
        raise JobLost(f"Report job {job.pk} is no longer held by this attempt.")


def job_complete(job: ReportJob, *, handle, file_name: str, summary: dict) -> None:
    """Attach the finished file (stored first, then the row flips to done in one conditional UPDATE)."""
    handle.seek(0)
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: handle.read(COPY_CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    storage_name = job.file.field.generate_filename(job, f"{job.public_id}-{file_name}")
    stored = job.file.storage.save(storage_name, File(handle))
    updated = _mine(job).update(
        status=JobStatus.DONE,
        file=stored,
        file_name=file_name,
        sha256=digest.hexdigest(),
        size=size,
        summary=summary,
        finished_at=timezone.now(),
        progress_done=F("progress_total"),
    )
    if not updated:
        job.file.storage.delete(stored)
        raise JobLost(f"Report job {job.pk} is no longer held by this attempt.")


def job_fail(job: ReportJob, *, message: str) -> None:
    _mine(job).update(status=JobStatus.FAILED, error=message[:2000], finished_at=timezone.now())


def job_release(job: ReportJob) -> None:
    """Hand the job back (a transient error): the task's retry claims it again."""
    _mine(job).update(status=JobStatus.PENDING, claimed_at=None)


def job_run(job_id: int) -> ReportJob | None:
    """Build the job's file. Does nothing if another attempt holds it or it is already finished.

    Errors caused by the request itself (permissions gone, too big) fail the job
    with a message for the user; anything else is re-raised after the claim is
    released, so the Celery task can retry it.
    """
    job = job_claim(job_id)
    if job is None:
        return None
    builder = BUILDERS[job.kind]
    try:
        if not can(job.requested_by, Action.VIEW_REPORTS, job.organisation):
            raise PermissionDenied("You can no longer run reports for this organisation.")
        builder(job)
    except JobLost:
        logger.info("Report job %s was taken over by another attempt", job_id)
        return None
    except (PermissionDenied, ValidationError) as error:
        job_fail(job, message=" ".join(getattr(error, "messages", [str(error)])))
    except Exception:
        job_release(job)
        raise
    return ReportJob.objects.get(pk=job_id)


def job_fail_permanently(job_id: int, message: str) -> None:
    """After the last retry: mark the job failed so the page stops waiting."""
    ReportJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.FAILED, error=message[:2000], finished_at=timezone.now()
    )


def jobs_purge_expired(*, now=None) -> int:
    """Delete finished files older than the retention period (they hold personal data); returns how many."""
    now = now or timezone.now()
    expired = ReportJob.objects.filter(finished_at__lt=now - JOB_RETENTION).exclude(status__in=ACTIVE_STATUSES)
    count = 0
    for job in expired.iterator():
        if job.file:
            job.file.storage.delete(job.file.name)
        job.delete()
        count += 1
    return count


# ---------------------------------------------------------------------------
# The bulk archive of signed PDFs
# ---------------------------------------------------------------------------

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
Organisation: {organisation}
Built: {built} (Europe/London) by {requested_by}

pdfs/ holds every stored signed PDF, byte for byte as issued.
manifest.csv lists every acknowledgement of this version in the organisation, one row each:
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


def roles_text(roles) -> str:
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


def _archive_acknowledgements(job: ReportJob):
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


def _copy_into_zip(archive: zipfile.ZipFile, name: str, source, when) -> str:
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
    acknowledgements = _archive_acknowledgements(job)
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
                        ack.corrects.verification_code if ack.corrects_id else "",
                        ack.recorded_by.full_name if ack.recorded_by_id else "",
                    )
                )
                if done % PROGRESS_EVERY == 0:
                    job_progress(job, done=done, total=total)
            built = timezone.localtime()
            archive.writestr("manifest.csv", "\ufeff" + manifest.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
            archive.writestr(
                "README.txt",
                ARCHIVE_README.format(
                    version=str(job.version),
                    organisation=job.organisation.name,
                    built=built.strftime("%-d %B %Y %H:%M"),
                    requested_by=job.requested_by.full_name,
                ),
                compress_type=zipfile.ZIP_DEFLATED,
            )
        job_progress(job, done=total, total=total)
        name = f"{job.organisation.slug}-{job.version.code.slug}-{slugify(job.version.label)}-signed-pdfs-{built:%Y-%m-%d}.zip"
        job_complete(
            job,
            handle=handle,
            file_name=name,
            summary={"acknowledgements": total, "pdfs": stored, "mismatched": mismatched},
        )


def detailed_pdf_build(job: ReportJob) -> None:

    board = dashboard(job.requested_by, filters_from_job(job))
    # Checked again here because people may have joined since the request; the totals hold the count already.
    _refuse_too_long(board.listed)

    def progress(done: int, total: int) -> None:
        job_progress(job, done=done, total=total)

    content, name, summary = detailed_pdf(job.requested_by, board, progress=progress)
    with tempfile.TemporaryFile() as handle:
        handle.write(content)
        job_complete(job, handle=handle, file_name=name, summary=summary)


def spreadsheet_build(job: ReportJob) -> None:
    """The people list as XLSX, for lists too long to write while the user waits."""

    filters = filters_from_job(job)
    schools = school_map(filters)
    total = owed_rows(job.requested_by, filters, schools).count()
    job_progress(job, done=0, total=total)

    def counted():
        for done, row in enumerate(people_rows(job.requested_by, filters, schools), start=1):
            if done % 1000 == 0:
                job_progress(job, done=done, total=total)
            yield row

    with xlsx_file([Sheet("People", people_columns(), counted())]) as handle:
        job_complete(job, handle=handle, file_name=f"{filters.basename('people')}.xlsx", summary={"rows": total})


BUILDERS: dict[str, Callable[[ReportJob], None]] = {
    JobKind.ARCHIVE: archive_build,
    JobKind.DETAILED_PDF: detailed_pdf_build,
    JobKind.SPREADSHEET: spreadsheet_build,
}


# ---------------------------------------------------------------------------
# The register's publication switch
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicationChange:
    organisation: Organisation
    published: bool
    changed: bool


@transaction.atomic
def register_publication_set(*, organisation: Organisation, publish: bool, by: Person) -> PublicationChange:
    """Switch the public register on or off (only admins with PUBLISH_REGISTER may)."""
    if not can(by, Action.PUBLISH_REGISTER, organisation):
        raise PermissionDenied("Only an admin of this organisation can publish its register.")
    changed = (
        Organisation.objects.filter(pk=organisation.pk)
        .exclude(publish_register=publish)
        .update(publish_register=publish)
    )
    organisation.publish_register = publish
    logger.info("Register of %s %s by %s", organisation.slug, "published" if publish else "unpublished", by.email)
    return PublicationChange(organisation, publish, bool(changed))
