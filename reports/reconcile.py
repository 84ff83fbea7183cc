"""The reports app's reconciliation sweep (run by ``core.reconcile`` every few minutes).

A report job requested while the broker was down waited "Waiting to start" for ever, and the one-active-
job constraint sent the person back to it. A job still pending after the grace period, or running with
its lease expired (its worker vanished), is queued again, once per claim (``core.claims``); the job row's
own conditional claim (``reports.jobs.job_claim``) makes a duplicate delivery do nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from core.claims import work_claim
from core.reconcile import grace, register_sweep, requeue_after
from core.tasks import enqueue_on_commit
from reports.models import JobStatus, ReportJob

JOB_BATCH = 500


@register_sweep("report-jobs")
def sweep_report_jobs(now: datetime) -> int:
    from reports.tasks import build_report_job  # the tasks module imports the builders

    stranded = (
        ReportJob.objects.claimable(now)
        .filter(Q(status=JobStatus.RUNNING) | Q(created_at__lt=now - grace()))
        .order_by("created_at", "pk")
        .values_list("pk", "attempts")[:JOB_BATCH]
    )
    queued = 0
    for job_id, attempts in stranded:
        # Keyed by attempt too: a job that was taken and lost again later is queued again as soon as it is seen.
        if work_claim(f"report-job:{job_id}:{attempts}", stale_after=requeue_after(), now=now):
            enqueue_on_commit(build_report_job, job_id)
            queued += 1
    return queued
