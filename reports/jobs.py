"""Report jobs' rows: starting one, claiming it, progress, attaching the file, failing and purging.

A job's life: ``job_request`` inserts it (one active job per person and
request, by a partial unique constraint) and queues the task on commit; the
task calls ``reports.builders.job_run``, which claims the row here with a
conditional UPDATE, builds the file while writing progress to the row, and
attaches the file. A second delivery of the same task finds nothing to claim
and does nothing. Every write after the claim goes through ``_mine``, so an
attempt that lost its claim can no longer touch the row.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from conduct.audit import audit_log_record
from conduct.models import AuditAction, Person
from conduct.permissions import Action, can
from core.canonical import canonical_json, sha256_hex
from core.tasks import enqueue_on_commit
from reports.models import ACTIVE_STATUSES, JOB_RETENTION, JobKind, JobStatus, ReportJob
from reports.selectors import ReportFilters, owed_count, school_map

logger = logging.getLogger(__name__)

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
# Starting a job
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
        detailed_pdf_length_check(owed_count(user, filters, school_map(filters)))
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
                audit_log_record(
                    actor=user,
                    action=AuditAction.REPORT_REQUESTED,
                    organisation=filters.organisation,
                    target=job,
                    summary=f"Asked for {job.get_kind_display().lower()} of {filters.organisation.name}.",
                    details={"before": None, "after": {"kind": kind, "parameters": job.parameters}},
                )
                if enqueue:
                    _enqueue(job)
            return job, True
        except IntegrityError:
            existing = ReportJob.objects.filter(
                requested_by=user, fingerprint=fingerprint, status__in=ACTIVE_STATUSES
            ).first()
            if existing is not None:
                return existing, False
            # It finished between our insert and this read: try once more to start a fresh one.
    raise ValidationError("This report could not be started; please try again.")


def _enqueue(job: ReportJob) -> None:
    """Queue the build once the row is committed; a broker that cannot be reached is logged, never raised.

    A job whose message was lost that way waits as pending until the reconciliation sweep
    (``reports.reconcile``) queues it again.
    """
    from reports.tasks import build_report_job  # here, not at the top: the tasks module imports this one

    enqueue_on_commit(build_report_job, job.pk)


def detailed_pdf_length_check(count: int) -> None:
    """Refuse a detailed PDF of more people than one can usefully read, with what to do instead."""
    if count > DETAILED_PDF_MAX_ROWS:
        raise ValidationError(
            f"This report lists {count:,} people, more than a PDF can usefully hold ({DETAILED_PDF_MAX_ROWS:,}). "
            "Narrow it to a school or a role, or export CSV or XLSX, which have no limit."
        )


# ---------------------------------------------------------------------------
# One attempt at a job: claim, progress, file, failure
# ---------------------------------------------------------------------------


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


def _mine(job: ReportJob) -> QuerySet[ReportJob]:
    """The job's row, as long as this attempt still holds the claim."""
    return ReportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, claimed_at=job.claimed_at)


def job_progress(job: ReportJob, *, done: int, total: int) -> None:
    if not _mine(job).update(progress_done=min(done, total), progress_total=total):
        raise JobLost(f"Report job {job.pk} is no longer held by this attempt.")


def job_complete(job: ReportJob, *, handle: IO[bytes], file_name: str, summary: dict[str, Any]) -> None:
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


def job_fail_permanently(job_id: int, message: str) -> None:
    """After the last retry, or an error no retry would mend: mark the job failed so the page stops waiting."""
    ReportJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.FAILED, error=message[:2000], finished_at=timezone.now()
    )


# ---------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------


def jobs_purge_expired(*, now: datetime | None = None) -> int:
    """Delete finished files older than the retention period (they hold personal data); returns how many."""
    now = now or timezone.now()
    expired = ReportJob.objects.filter(finished_at__lt=now - JOB_RETENTION).exclude(status__in=ACTIVE_STATUSES)
    count = 0
    for job in expired.iterator():
        if job.file.name:
            job.file.storage.delete(job.file.name)
        job.delete()
        count += 1
    return count
