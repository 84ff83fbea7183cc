"""A real Celery worker, through the local Redis, builds an archive queued by the page.

The worker runs in a thread of the test process (celery.contrib.testing), with
its own database connection, so the test commits its data (transactional test)
and the job is queued on commit exactly as in production.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.urls import reverse

from config.celery import app
from core.tests.broker import fresh_connections
from reports.models import JobStatus, ReportJob
from reports.tests.factories import read_zip

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_worker(settings):
    import redis
    from celery.contrib.testing.worker import start_worker

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as error:
        pytest.skip(f"needs a reachable Redis at {REDIS_URL} ({error}); CI has one")
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    queue = f"reports-test-{time.time_ns()}"  # a queue of its own: parallel runs never mix
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False, task_default_queue=queue)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    fresh_connections()
    try:
        with start_worker(
            app, pool="solo", concurrency=1, perform_ping_check=False, queues=[queue], shutdown_timeout=30
        ):
            yield
    finally:
        app.conf.update(saved)
        fresh_connections()


def test_the_archive_is_built_by_a_worker_and_downloadable(oak, client_for, redis_worker):
    from celery.signals import task_prerun

    ran_in = []

    def record(sender=None, task_id=None, task=None, args=None, **kwargs):
        ran_in.append(
            (task.name, args, threading.current_thread() is not threading.main_thread(), task.request.is_eager)
        )

    task_prerun.connect(record, weak=False)
    client = client_for(oak.admin)
    response = client.post(
        reverse("reports:job_start", args=["archive"]),
        {"organisation": oak.orgs["trust"].pk, "code": oak.code.pk, "version": oak.version.pk},
    )
    job = ReportJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    deadline = time.monotonic() + 60
    while job.status not in (JobStatus.DONE, JobStatus.FAILED) and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.attempts == 1 and job.progress_done == job.progress_total == 8
    download = client.get(reverse("reports:job_download", args=[job.public_id]))
    archive = read_zip(b"".join(download.streaming_content))
    assert len([name for name in archive.namelist() if name.endswith(".pdf")]) == 8
    task_prerun.disconnect(record)
    assert ran_in == [("reports.tasks.build_report_job", [job.pk], True, False)]  # the worker thread, not eagerly
