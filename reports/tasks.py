"""Celery tasks for reports: thin wrappers that take ids and call one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError

from reports.services import job_fail_permanently, job_run, jobs_purge_expired

logger = logging.getLogger(__name__)

MAX_RETRIES = 4


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def build_report_job(self, job_id: int) -> None:
    """Build an archive or a detailed PDF. Safe to deliver twice: the job row is claimed first."""
    try:
        job_run(job_id)
    except (DatabaseError, OSError) as error:
        if self.request.retries >= MAX_RETRIES:
            logger.exception("Report job %s failed after %s attempts", job_id, MAX_RETRIES + 1)
            job_fail_permanently(
                job_id, "The report could not be built (a storage or database error). Please start it again."
            )
            return
        raise self.retry(exc=error, countdown=min(2**self.request.retries * 10, 300))
    except Exception:
        logger.exception("Report job %s failed", job_id)
        job_fail_permanently(
            job_id, "The report could not be built because of an unexpected error. The administrators have been told."
        )


@shared_task
def purge_expired_report_files() -> int:
    """Daily: delete finished report files past their retention period."""
    return jobs_purge_expired()
