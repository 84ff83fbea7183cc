"""Building a claimed report job's file: the builder for each kind, and ``job_run``, which a worker calls.

The archive's builder lives in ``reports.archive``; the detailed PDF and the
spreadsheet are drawn by ``reports.documents`` and ``reports.exports``, and the
two small builders here only feed them the job's filters and report progress.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError

from conduct.permissions import Action, can
from reports.archive import archive_build
from reports.documents import detailed_pdf, register_pdf, summary_pdf
from reports.exports import people_sheet, xlsx_file, xlsx_helpers
from reports.jobs import (
    JobLost,
    detailed_pdf_length_check,
    filters_from_job,
    job_claim,
    job_complete,
    job_fail,
    job_progress,
    job_release,
)
from reports.models import JobKind, ReportJob
from reports.register import register_for
from reports.selectors import dashboard, owed_count, school_map

logger = logging.getLogger(__name__)

SPREADSHEET_PROGRESS_EVERY = 1000  # rows between progress writes while the workbook is written


def detailed_pdf_build(job: ReportJob) -> None:
    board = dashboard(job.requested_by, filters_from_job(job))
    # Checked again here because people may have joined since the request; the totals hold the count already.
    detailed_pdf_length_check(board.listed)

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
    total = owed_count(job.requested_by, filters, schools)
    job_progress(job, done=0, total=total)

    def progress(done: int) -> None:
        job_progress(job, done=done, total=total)

    sheet = people_sheet(
        job.requested_by, filters, schools, progress, every=SPREADSHEET_PROGRESS_EVERY, helpers=xlsx_helpers(total)
    )
    with xlsx_file([sheet]) as handle:
        job_complete(job, handle=handle, file_name=f"{filters.basename('people')}.xlsx", summary={"rows": total})


def _pdf_complete(job: ReportJob, content: bytes, name: str) -> None:
    with tempfile.TemporaryFile() as handle:
        handle.write(content)
        job_complete(job, handle=handle, file_name=name, summary={})


def summary_pdf_build(job: ReportJob) -> None:
    """The dashboard's summary PDF (charts and a page per school), for the job's filters."""
    job_progress(job, done=0, total=1)
    content, name = summary_pdf(job.requested_by, filters_from_job(job))
    _pdf_complete(job, content, name)


def register_pdf_build(job: ReportJob) -> None:
    """The register of interests of the job's organisation, as on the day it was asked for."""
    job_progress(job, done=0, total=1)
    content, name = register_pdf(register_for(job.organisation, filters_from_job(job).as_at))
    _pdf_complete(job, content, name)


BUILDERS: dict[str, Callable[[ReportJob], None]] = {
    JobKind.ARCHIVE: archive_build,
    JobKind.DETAILED_PDF: detailed_pdf_build,
    JobKind.SPREADSHEET: spreadsheet_build,
    JobKind.SUMMARY_PDF: summary_pdf_build,
    JobKind.REGISTER_PDF: register_pdf_build,
}


def job_run(job_id: int) -> ReportJob | None:
    """Build the job's file. Does nothing if another attempt holds it or it is already finished.

    Errors caused by the request itself (permissions gone, too big) fail the job
    with a message for the user; anything else is re-raised after the claim is
    released, so the Celery task can retry it or fail it.
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
