"""Celery tasks for reports: thin wrappers that take ids and call one service.

Both follow the project's convention (``core.tasks.transient_task``): named by
their module path, retried with backoff on transient errors only
(``core.tasks.TRANSIENT_ERRORS``). A report job is queued with
``core.tasks.enqueue_on_commit`` by ``reports.jobs.job_request``.
"""

from __future__ import annotations

import logging

from celery import Task

from core.tasks import TRANSIENT_ERRORS, transient_task
from reports.builders import job_run
from reports.jobs import job_fail_permanently, jobs_purge_expired

logger = logging.getLogger(__name__)

# Someone is watching the job's page: a few quick retries (about two and a half minutes at most), not the default eight.
BUILD_MAX_RETRIES = 4
STILL_FAILING = "The report could not be built (a storage or database error). Please start it again."
UNEXPECTED_ERROR = "The report could not be built because of an unexpected error. The administrators have been told."


@transient_task(max_retries=BUILD_MAX_RETRIES)
def build_report_job(self: Task, job_id: int) -> None:
    """Build an archive, a detailed PDF or a spreadsheet. Safe to deliver twice: the job row is claimed first.

    A transient error is re-raised for the retry policy, until the last retry, which
    fails the job instead; any other error fails it at once (a retry would repeat it).
    Either way the job's page stops waiting and shows the message.
    """
    try:
        job_run(job_id)
    except TRANSIENT_ERRORS:
        if self.request.retries < BUILD_MAX_RETRIES:
            raise
        logger.exception("Report job %s failed after %s attempts", job_id, BUILD_MAX_RETRIES + 1)
        job_fail_permanently(job_id, STILL_FAILING)
    except Exception:
        logger.exception("Report job %s failed", job_id)
        job_fail_permanently(job_id, UNEXPECTED_ERROR)


@transient_task()
def purge_expired_report_files(self: Task) -> int:
    """Daily: delete finished report files past their retention period."""
    return jobs_purge_expired()
