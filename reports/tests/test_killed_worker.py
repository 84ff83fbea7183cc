"""A worker killed in the middle of a batch of PDFs: with a restarted worker, every PDF is issued exactly once.

Real components: a Celery worker in a process of its own on the local Redis (database 8, a queue of this
test's own) and the PostgreSQL test database (the test commits its data). The worker is killed with SIGKILL
while it works through the batch; the message it held is not acknowledged (Redis would hand it out again
only after ``visibility_timeout``), so a restarted worker does the rest and the reconciliation sweep queues
what was lost: within minutes, not an hour, and no PDF twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from acknowledgements.models import Acknowledgement, AuditEvent, EventKind, Obligation, SealedPdf
from acknowledgements.reconcile import sweep_acknowledgement_pdfs
from acknowledgements.tasks import issue_acknowledgement_pdf
from config.celery import app
from core.tests.broker import fresh_connections
from reports.tests.conftest import build_trust
from reports.tests.factories import sign

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/8"
BATCH = 8


@pytest.fixture
def broker(settings):
    import redis

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the worker is another process and must see the committed test data")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as error:
        pytest.skip(f"needs a reachable Redis at {REDIS_URL} ({error}); CI has one")
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    queue = f"killed-worker-{time.time_ns()}"
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False, task_default_queue=queue)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    fresh_connections()
    try:
        yield queue
    finally:
        redis.Redis.from_url(REDIS_URL).delete(queue)
        app.conf.update(saved)
        fresh_connections()


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    server = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{db.get('USER') or 'postgres'}{password}@{server}/{db['NAME']}"


def _worker(queue: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "VAR_DIR": str(settings.VAR_DIR),  # the seal key and the stored files the test reads back
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue, "-l", "WARNING"]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    return subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return condition()


@pytest.fixture
def signed_without_pdfs(db) -> list[Acknowledgement]:
    """A batch of signatures made an hour ago whose PDFs were never issued (made before the broker is switched)."""
    scenario = build_trust("Pine Trust", staff={"north": BATCH}, signed={})
    owed = Obligation.objects.filter(version=scenario.version, role__kind="employee", role__ends_on__isnull=True)
    return [sign(obligation, at=timezone.now() - timedelta(hours=1)) for obligation in owed.order_by("pk")[:BATCH]]


def test_a_worker_killed_mid_batch_leaves_every_pdf_issued_exactly_once(signed_without_pdfs, broker):
    acks = signed_without_pdfs
    assert len(acks) == BATCH and not SealedPdf.objects.filter(acknowledgement__in=acks).exists()
    for ack in acks:
        issue_acknowledgement_pdf.apply_async(args=(ack.pk,), kwargs={"send_receipt": False})

    first = _worker(broker)
    try:
        assert _wait_until(lambda: SealedPdf.objects.filter(acknowledgement__in=acks).count() >= 3, 240)
    finally:
        first.kill()  # SIGKILL, mid-batch: no chance to finish or acknowledge what it holds
        first.wait(timeout=30)
    done_when_killed = SealedPdf.objects.filter(acknowledgement__in=acks).count()
    assert done_when_killed < BATCH, "the worker finished the batch before it could be killed"

    second = _worker(broker)
    try:
        # The restarted worker takes what was still queued; the sweep queues what the killed one held.
        _wait_until(lambda: SealedPdf.objects.filter(acknowledgement__in=acks).count() >= BATCH - 1, 240)
        sweep_acknowledgement_pdfs(timezone.now())
        assert _wait_until(lambda: SealedPdf.objects.filter(acknowledgement__in=acks).count() == BATCH, 240)
        time.sleep(2)  # anything queued twice would have had time to run twice
    finally:
        second.terminate()
        second.wait(timeout=60)

    for ack in acks:
        assert SealedPdf.objects.filter(acknowledgement=ack).count() == 1
        assert AuditEvent.objects.filter(acknowledgement=ack, kind=EventKind.PDF_ISSUED).count() == 1
