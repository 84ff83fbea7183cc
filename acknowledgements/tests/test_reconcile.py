"""Nothing after the signature is lost with a broker message: the reconciliation sweep finds it in the database.

The broker here is a real Redis URL on a port where nothing listens (kombu's own connection error, as in
production); "the broker returns" puts the tasks back to running (eagerly, as the worker would run them).
Nobody opens the record in between: the sweep alone brings the PDF and the receipt.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from celery.schedules import schedule
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from acknowledgements.models import AuditEvent, EmailKind, EmailStatus, EventKind, OutgoingEmail, SealedPdf
from acknowledgements.tests.factories import owing, sign
from acknowledgements.tests.test_signing import form_data, sign_url
from conduct.models import Adoption
from core.claims import work_claim
from core.models import WorkClaim
from core.reconcile import reconcile_run, registered_sweeps
from core.tasks import reconcile
from core.tests.broker import broker_unreachable

pytestmark = pytest.mark.django_db


def receipts() -> list:
    """The receipts in the outbox (the sweep also runs the day's reminder planning, whose emails are not these)."""
    return [message for message in mail.outbox if message.attachments]


AFTER_GRACE = timedelta(minutes=settings.RECONCILE_GRACE_MINUTES + 1)


@pytest.fixture
def broker_down():
    """Tasks are sent to a Redis that cannot be reached (nothing listens on the port), as in an outage."""
    with broker_unreachable() as broker_returns:
        yield broker_returns


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """Run the reconciliation, and what it queues (after the commit, which the test's transaction never makes)."""

    def run() -> dict[str, int]:
        with django_capture_on_commit_callbacks(execute=True):
            return reconcile_run()

    return run


def test_signing_succeeds_with_the_broker_down_and_the_sweep_brings_pdf_and_receipt_after(
    sweep, staff, client_for, broker_down, django_capture_on_commit_callbacks
):
    client = client_for(staff.person)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(sign_url(staff), form_data(staff))

    assert response.status_code == 302  # the signature committed; the signer is not told it failed
    ack = staff.person.acknowledgements.get()
    receipt = OutgoingEmail.objects.get(acknowledgement=ack, kind=EmailKind.RECEIPT)
    assert receipt.status == EmailStatus.PENDING and receipt.to_address == staff.person.email
    assert not SealedPdf.objects.filter(acknowledgement=ack).exists() and mail.outbox == []

    broker_returns = broker_down
    broker_returns()
    assert sweep()["acknowledgement-pdfs"] == 0  # still within the grace period: its message may be queued
    with time_machine.travel(timezone.now() + AFTER_GRACE):
        with django_capture_on_commit_callbacks(execute=True):
            queued = reconcile.delay().get()
        assert queued["acknowledgement-pdfs"] == 1
        assert sweep() == dict.fromkeys(registered_sweeps(), 0)  # each queued again once only

    record = SealedPdf.objects.get(acknowledgement=ack)
    assert AuditEvent.objects.filter(acknowledgement=ack, kind=EventKind.PDF_ISSUED).count() == 1
    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts, receipt.last_error) == (EmailStatus.SENT, 1, "")
    assert len(receipts()) == 1 and receipts()[0].to == [staff.person.email]
    assert receipts()[0].attachments[0][1] == record.file.open("rb").read()


def test_a_receipt_whose_message_was_lost_is_sent_by_the_sweep_once(sweep, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ack = sign(staff).acknowledgement  # PDF and receipt issued as usual
    assert len(receipts()) == 1
    # A receipt row left pending (its message lost after the PDF was issued):
    lost = sign(owing(name="Elm Trust"), issue_pdf=False).acknowledgement
    from acknowledgements.issuing import acknowledgement_pdf_issue
    from acknowledgements.outgoing import receipt_email_record

    receipt_email_record(acknowledgement=lost)
    with time_machine.travel(timezone.now() + AFTER_GRACE):
        assert sweep()["acknowledgement-pdfs"] == 1  # the PDF first, which queues the receipt
    assert len(receipts()) == 2 and receipts()[1].to == [lost.person.email]
    with django_capture_on_commit_callbacks(execute=True):
        acknowledgement_pdf_issue(acknowledgement_id=lost.pk, send_receipt=True)  # a late duplicate delivery
    with time_machine.travel(timezone.now() + AFTER_GRACE * 3):
        assert sweep()["receipts-and-invitations"] == 0
    assert len(receipts()) == 2
    assert set(OutgoingEmail.objects.values_list("acknowledgement", "status")) == {
        (ack.pk, EmailStatus.SENT),
        (lost.pk, EmailStatus.SENT),
    }


def test_an_adoption_made_with_the_broker_down_gets_its_certificate_from_the_sweep(
    sweep, db, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        board = owing(name="Elm Trust")  # the adoption commits; its certificate's message is lost
    adoption = Adoption.objects.get(version=board.version)
    assert not SealedPdf.objects.filter(adoption=adoption).exists()

    broker_returns = broker_down
    broker_returns()
    with time_machine.travel(timezone.now() + AFTER_GRACE):
        assert sweep()["adoption-certificates"] == 1
        assert sweep()["adoption-certificates"] == 0
    assert SealedPdf.objects.filter(adoption=adoption).count() == 1


def test_two_sweeps_at_once_queue_each_piece_once_and_again_only_after_the_claim_period(staff):
    now = timezone.now()
    assert work_claim("pdf:acknowledgement:1", stale_after=timedelta(minutes=15), now=now)
    assert not work_claim("pdf:acknowledgement:1", stale_after=timedelta(minutes=15), now=now)
    assert not work_claim("pdf:acknowledgement:1", stale_after=timedelta(minutes=15), now=now + timedelta(minutes=14))
    assert work_claim("pdf:acknowledgement:1", stale_after=timedelta(minutes=15), now=now + timedelta(minutes=16))
    assert WorkClaim.objects.get(key="pdf:acknowledgement:1").attempts == 2


def test_one_failing_sweep_does_not_stop_the_others(sweep, staff, monkeypatch):
    sign(staff, issue_pdf=False)

    def broken(now):
        raise RuntimeError("a bug in one sweep")

    monkeypatch.setitem(__import__("core.reconcile").reconcile._SWEEPS, "adoption-certificates", broken)
    with time_machine.travel(timezone.now() + AFTER_GRACE):
        result = sweep()
    assert result["adoption-certificates"] == -1 and result["acknowledgement-pdfs"] == 1
    assert SealedPdf.objects.filter(acknowledgement__person=staff.person).count() == 1


def test_beat_runs_the_sweep_every_few_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["reconcile"]
    assert entry["task"] == reconcile.name == "core.tasks.reconcile"
    assert (
        schedule(entry["schedule"]).run_every  # type: ignore[attr-defined,arg-type]
        == timedelta(minutes=settings.RECONCILE_EVERY_MINUTES)
        <= timedelta(minutes=10)
    )
    assert "issue-missing-pdfs" not in settings.CELERY_BEAT_SCHEDULE  # folded into the sweep


def test_redis_redelivers_a_killed_workers_messages_after_the_longest_task_not_an_hour():
    import os
    from importlib import reload

    import config.settings as live

    os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/8"
    try:
        reloaded = reload(live)
        visibility = reloaded.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        assert reloaded.CELERY_TASK_TIME_LIMIT < visibility < 3600
    finally:
        del os.environ["CELERY_BROKER_URL"]
        reload(live)


def test_the_record_page_never_queues_work(staff, client_for):
    ack = sign(staff, issue_pdf=False).acknowledgement
    with time_machine.travel(timezone.now() + AFTER_GRACE):
        client_for(staff.person).get(reverse("acknowledgements:record", args=[ack.pk]))
    assert not SealedPdf.objects.filter(acknowledgement=ack).exists()
