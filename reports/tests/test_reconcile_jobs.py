"""A report job whose message was lost (the broker down when it was asked for, a worker killed) still completes.

The broker outage is real (``core.tests.broker``: kombu's own error from a Redis that is not there);
the reconciliation sweep then queues the stranded job again, once, and it is built and downloadable.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.reconcile import reconcile_run
from core.tests.broker import broker_unreachable
from reports.jobs import job_claim, job_request
from reports.models import CLAIM_LEASE, JobKind, JobStatus, ReportJob
from reports.tests.test_jobs import download, oak_filters, start

pytestmark = pytest.mark.django_db

AFTER_GRACE = timedelta(minutes=settings.RECONCILE_GRACE_MINUTES + 1)


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return reconcile_run()["report-jobs"]

    return run


def test_a_job_requested_with_the_broker_down_completes_after_it_returns(
    oak, client_for, sweep, django_capture_on_commit_callbacks
):
    client = client_for(oak.admin)
    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True):
        response = start(client, "archive", oak)
    job = ReportJob.objects.get()
    assert response.status_code == 302 and job.status == JobStatus.PENDING
    assert client.get(response["Location"]).status_code == 200  # the page waits; it is not an error

    assert sweep() == 0  # within the grace period its message may still be on its way
    with time_machine.travel(timezone.now() + AFTER_GRACE):
        assert sweep() == 1
        assert sweep() == 0  # queued again once
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 1
    assert download(client, job)[:2] == b"PK"  # the archive


def test_a_running_job_whose_worker_was_killed_is_queued_again_after_its_lease(oak, sweep):
    job, _created = job_request(user=oak.admin, kind=JobKind.SPREADSHEET, filters=oak_filters(oak), enqueue=False)
    assert job_claim(job.pk) is not None  # a worker took it, then was killed
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert sweep() == 0  # its lease still holds
    with time_machine.travel(timezone.now() + CLAIM_LEASE + timedelta(minutes=1)):
        assert sweep() == 1
        assert sweep() == 0
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 2


def test_a_report_file_missing_from_storage_gets_a_clear_page(oak, client_for, django_capture_on_commit_callbacks):
    client = client_for(oak.admin)
    with django_capture_on_commit_callbacks(execute=True):
        start(client, "archive", oak)
    job = ReportJob.objects.get(status=JobStatus.DONE)
    os.remove(job.file.path)
    response = client.get(reverse("reports:job_download", args=[job.public_id]))
    assert response.status_code == 503 and "report file is not available" in response.content.decode()
