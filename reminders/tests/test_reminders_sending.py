"""Sending: claims, one SMTP connection per batch, retries with backoff, final failures, crashes, and content."""

from __future__ import annotations

import smtplib
from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import TestCase, override_settings

from acknowledgements.models import Obligation
from conduct.tests.factories import trust_tree
from reminders.models import ReminderLog, ReminderStatus
from reminders.planning import reminders_plan
from reminders.sending import ReminderDeliveryError, reminder_claim, reminders_ready, reminders_send
from reminders.tasks import plan_reminders, resume_reminders, send_reminders
from reminders.tests.reminder_helpers import (
    DyingBackend,
    SimulatedKill,
    adopted_code,
    at,
    declare,
    frozen,
    member,
    officer,
    sign,
)
from reminders.tests.reminder_smtp import FakeSMTP

D0 = date(2026, 1, 5)
TIMEOUT = 900  # REMINDERS_CLAIM_TIMEOUT_SECONDS in the tests


@pytest.fixture
def ten_owed(db):
    """Ten employees who owe the staff code adopted on D0, and their ten planned invitations."""
    orgs = trust_tree("Oak Trust")
    chair = officer(orgs["board"], "chair", "Chair")
    declare(chair, orgs["board"], D0 - timedelta(days=1))  # so the chair owes no declaration
    with frozen(D0, hour=5):
        people = [member(orgs["north"], "employee", f"Employee {n:02d}") for n in range(10)]
    code, version = adopted_code(orgs, D0, chair=chair)
    with frozen(D0):
        reminders_plan()
    assert ReminderLog.objects.filter(status="pending").count() == 10
    return orgs, people, code, version


@pytest.fixture
def eager_retries(monkeypatch):
    """Let Celery run retries inline, as a worker would run them later (the test settings propagate errors)."""
    monkeypatch.setitem(send_reminders.app.conf, "task_eager_propagates", False)


def pending_ids() -> list[int]:
    return list(ReminderLog.objects.order_by("pk").values_list("pk", flat=True))


def delivered_to() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def run_task(task, *args):
    with frozen(D0), TestCase.captureOnCommitCallbacks(execute=True):
        return task.delay(*args)


# ---------------------------------------------------------------------------
# Claims
# ---------------------------------------------------------------------------


def test_a_reminder_is_claimed_once(ten_owed):
    reminder_id = pending_ids()[0]
    with frozen(D0):
        assert reminder_claim(reminder_id=reminder_id) is True
        assert reminder_claim(reminder_id=reminder_id) is False  # a second worker, a retry, a duplicate task
    row = ReminderLog.objects.get(pk=reminder_id)
    assert (row.status, row.attempts, row.claimed_at) == (ReminderStatus.SENDING, 1, at(D0))


def test_a_claim_abandoned_longer_than_the_timeout_is_taken_again(ten_owed):
    reminder_id = pending_ids()[0]
    with frozen(D0):
        reminder_claim(reminder_id=reminder_id)
    with frozen(D0, minute=14):
        assert reminder_claim(reminder_id=reminder_id) is False
    with frozen(D0, minute=16):  # 15 minutes is the claim timeout
        assert reminder_claim(reminder_id=reminder_id) is True
    assert ReminderLog.objects.get(pk=reminder_id).attempts == 2


# ---------------------------------------------------------------------------
# SMTP: one connection per batch, retries with backoff, final failures
# ---------------------------------------------------------------------------


def test_each_batch_uses_one_smtp_connection_and_each_reminder_goes_once(ten_owed):
    with FakeSMTP() as smtp, override_settings(**smtp.settings(), REMINDERS_BATCH_SIZE=4):
        run_task(plan_reminders)
        run_task(plan_reminders)  # a duplicated beat: nothing more goes
    assert smtp.connections == 3  # batches of 4, 4 and 2
    assert len(smtp.messages) == 10
    assert smtp.recipients() == sorted(f"Employee {n:02d} <employee.{n:02d}@example.org>" for n in range(10))
    rows = ReminderLog.objects.all()
    assert {(r.status, r.attempts, r.last_error) for r in rows} == {(ReminderStatus.SENT, 1, "")}
    assert all(r.sent_at == at(D0) for r in rows)


def test_a_temporary_smtp_failure_is_retried_with_backoff_and_then_sent(ten_owed, eager_retries):
    assert send_reminders.acks_late and send_reminders.max_retries == 5
    assert send_reminders.retry_backoff == 60 and send_reminders.retry_jitter
    with FakeSMTP() as smtp, override_settings(**smtp.settings()):
        smtp.behaviour.temporary_failures = 2  # the server says "451 try again later" twice
        run_task(send_reminders, pending_ids())
    assert len(smtp.messages) == 10 and len(set(smtp.recipients())) == 10
    first = ReminderLog.objects.order_by("pk").first()
    assert first is not None
    assert (first.status, first.attempts, first.last_error) == (ReminderStatus.SENT, 3, "")
    assert set(ReminderLog.objects.exclude(pk=first.pk).values_list("status", "attempts")) == {("sent", 1)}


def test_the_final_failure_is_recorded_and_nothing_is_lost(ten_owed, eager_retries):
    with FakeSMTP() as smtp, override_settings(**smtp.settings()):
        smtp.behaviour.temporary_failures = 10_000  # the server never recovers
        run_task(send_reminders, pending_ids())
    assert smtp.messages == []
    rows = list(ReminderLog.objects.order_by("pk"))
    assert {r.status for r in rows} == {ReminderStatus.GIVEN_UP}  # not refused: given up after every retry
    assert rows[0].attempts == 6  # the first try and five retries
    assert all("451" in r.last_error and "Try again later" in r.last_error for r in rows)


def test_a_refused_address_fails_at_once_and_the_rest_of_the_batch_goes(ten_owed):
    orgs, people, code, version = ten_owed
    with FakeSMTP() as smtp, override_settings(**smtp.settings()):
        smtp.behaviour.refuse = {people[3].email}
        run_task(send_reminders, pending_ids())
    assert len(smtp.messages) == 9 and smtp.connections == 1
    refused = ReminderLog.objects.get(recipient=people[3])
    assert (refused.status, refused.attempts) == (ReminderStatus.FAILED, 1)
    assert "550" in refused.last_error
    assert ReminderLog.objects.filter(status="sent").count() == 9


def test_an_unreachable_mail_server_leaves_the_reminders_pending_with_the_error_on_each_row(ten_owed):
    with FakeSMTP() as smtp:
        closed_port = smtp.port
    with (
        override_settings(**{**smtp.settings(), "EMAIL_PORT": closed_port}),
        frozen(D0),
        pytest.raises(Exception, match="Could not connect to the mail server"),
    ):
        reminders_send(reminder_ids=pending_ids())
    # Every row the outage holds up says so on the reminder log, and counts the attempt; the retry sends them.
    assert set(ReminderLog.objects.values_list("status", "attempts")) == {("pending", 1)}
    errors = set(ReminderLog.objects.values_list("last_error", flat=True))
    assert len(errors) == 1 and "could not be reached" in errors.pop()


# ---------------------------------------------------------------------------
# Crashes: a worker killed in the middle of a batch
# ---------------------------------------------------------------------------

DYING = "reminders.tests.reminder_helpers.DyingBackend"


def test_a_batch_killed_half_way_then_resumed_sends_every_reminder_exactly_once(ten_owed):
    ids = pending_ids()
    DyingBackend.reset(die_at=5)  # killed while handing over the fifth message
    with override_settings(EMAIL_BACKEND=DYING), frozen(D0), pytest.raises(SimulatedKill):
        reminders_send(reminder_ids=ids)
    statuses = list(ReminderLog.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["sent"] * 4 + ["sending"] + ["pending"] * 5
    assert len(mail.outbox) == 4

    # acks_late: the broker hands the same task to another worker, which sends the rest at once
    # and leaves the claimed one alone (its worker might still be alive).
    DyingBackend.reset(die_at=None)
    with override_settings(EMAIL_BACKEND=DYING), frozen(D0, minute=1):
        send_reminders.apply(args=[ids])
    assert len(mail.outbox) == 9
    assert ReminderLog.objects.get(pk=ids[4]).status == ReminderStatus.SENDING

    # Once its claim is older than the timeout, the periodic sweep takes it again.
    with override_settings(EMAIL_BACKEND=DYING), frozen(D0, minute=10), TestCase.captureOnCommitCallbacks(execute=True):
        resume_reminders.delay()
    assert len(mail.outbox) == 9
    with override_settings(EMAIL_BACKEND=DYING), frozen(D0, minute=16), TestCase.captureOnCommitCallbacks(execute=True):
        resume_reminders.delay()
    assert len(mail.outbox) == 10
    assert delivered_to() == sorted(f"Employee {n:02d} <employee.{n:02d}@example.org>" for n in range(10))
    assert set(ReminderLog.objects.values_list("status", flat=True)) == {"sent"}
    assert ReminderLog.objects.get(pk=ids[4]).attempts == 2


def test_the_at_least_once_window_is_the_one_message_in_flight(ten_owed):
    """Killed after the server accepted a message but before it was recorded: that one message (and only
    that one) goes again after the timeout, with the same Message-ID so mail clients can tell."""
    ids = pending_ids()
    DyingBackend.reset(die_at=5, after_delivery=True)
    with override_settings(EMAIL_BACKEND=DYING), frozen(D0), pytest.raises(SimulatedKill):
        reminders_send(reminder_ids=ids)
    DyingBackend.reset(die_at=None)
    with override_settings(EMAIL_BACKEND=DYING), frozen(D0, minute=16), TestCase.captureOnCommitCallbacks(execute=True):
        resume_reminders.delay()
    assert len(mail.outbox) == 11
    fifth = [m for m in mail.outbox if m.to == mail.outbox[4].to]
    assert len(fifth) == 2 and fifth[0].extra_headers["Message-ID"] == fifth[1].extra_headers["Message-ID"]
    assert len({tuple(m.to) for m in mail.outbox}) == 10


def test_the_sweep_does_not_requeue_rows_whose_batch_is_still_waiting(ten_owed):
    with frozen(D0, minute=5):
        assert reminders_ready(settled_for=timedelta(seconds=TIMEOUT)) == []
        assert len(reminders_ready()) == 10
    with frozen(D0, minute=16):
        assert len(reminders_ready(settled_for=timedelta(seconds=TIMEOUT))) == 10


# ---------------------------------------------------------------------------
# A slow worker whose claim went stale and was taken over by another
# ---------------------------------------------------------------------------


class OvertakenBackend:
    """Hands a message over so slowly that the claim goes stale: another worker claims the row 16 minutes
    later (and, with ``other_sends``, sends and records it); then this hand-over ends with ``outcome``."""

    outcome: BaseException | None = None
    other_sends = False

    def __init__(self, fail_silently: bool = False, **kwargs) -> None:
        pass

    def open(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def send_messages(self, messages) -> int:
        reminder_id = int(messages[0].extra_headers["Message-ID"].split("-")[1])
        with frozen(D0, minute=16):
            assert reminder_claim(reminder_id=reminder_id)
            if self.other_sends:
                ReminderLog.objects.filter(pk=reminder_id).update(status=ReminderStatus.SENT, sent_at=at(D0, 7, 16))
        if self.outcome is not None:
            raise self.outcome
        return len(messages)


def send_overtaken(monkeypatch, outcome: BaseException | None = None, other_sends: bool = False):
    monkeypatch.setattr(OvertakenBackend, "outcome", outcome)
    monkeypatch.setattr(OvertakenBackend, "other_sends", other_sends)
    reminder_id = pending_ids()[0]
    with override_settings(EMAIL_BACKEND=f"{__name__}.OvertakenBackend"), frozen(D0):
        try:
            result = reminders_send(reminder_ids=[reminder_id])
        except ReminderDeliveryError:
            result = None
    return result, ReminderLog.objects.get(pk=reminder_id)


def test_a_slow_worker_does_not_give_back_the_row_another_worker_took_over(ten_owed, monkeypatch):
    result, row = send_overtaken(monkeypatch, outcome=smtplib.SMTPServerDisconnected("Connection lost"))
    assert result is None  # this worker's batch is retried
    assert (row.status, row.claimed_at, row.attempts) == (ReminderStatus.SENDING, at(D0, 7, 16), 2)


def test_a_slow_worker_does_not_fail_the_row_another_worker_took_over(ten_owed, monkeypatch):
    refused = smtplib.SMTPRecipientsRefused({"employee.00@example.org": (550, b"No such user")})
    result, row = send_overtaken(monkeypatch, outcome=refused)
    assert (result.sent, result.failed) == (0, 0)
    assert (row.status, row.claimed_at, row.last_error) == (ReminderStatus.SENDING, at(D0, 7, 16), "")


def test_a_slow_worker_does_not_count_a_reminder_another_worker_recorded_as_sent(ten_owed, monkeypatch):
    result, row = send_overtaken(monkeypatch, other_sends=True)
    assert (result.sent, result.failed) == (0, 0)
    assert (row.status, row.sent_at) == (ReminderStatus.SENT, at(D0, 7, 16))


# ---------------------------------------------------------------------------
# Checked again just before sending
# ---------------------------------------------------------------------------


def test_a_reminder_for_something_signed_since_planning_is_not_sent(ten_owed):
    orgs, people, code, version = ten_owed
    sign(people[0], version, at(D0, 6, 30))
    people[1].roles.update(ends_on=D0 - timedelta(days=1))  # left; recorded late
    with frozen(D0):
        result = reminders_send(reminder_ids=pending_ids())
    assert (result.sent, result.skipped, result.failed) == (8, 2, 0)
    skipped = dict(ReminderLog.objects.filter(status="skipped").values_list("recipient__full_name", "note"))
    assert skipped == {
        "Employee 00": "Signed before the reminder went out.",
        "Employee 01": "The role it was owed for has ended.",
    }
    assert len(mail.outbox) == 8


def test_a_pending_reminder_replaced_by_a_later_one_is_not_sent(ten_owed):
    """The workers were down for days: only the newest reminder about each thing goes."""
    with frozen(D0 + timedelta(days=23)):
        reminders_plan()  # "7 days before" for everyone, while the invitations are still pending
        result = reminders_send(reminder_ids=pending_ids())
    assert (result.sent, result.skipped) == (10, 10)
    assert {m.subject.split(":")[0] for m in mail.outbox} == {"Reminder"}
    assert set(ReminderLog.objects.filter(step="owed").values_list("status", "note")) == {
        ("skipped", "A later reminder about the same thing replaced it.")
    }


def test_an_empty_digest_is_not_sent(db):
    orgs = trust_tree("Oak Trust")
    officer(orgs["trust"], "admin", "Admin")
    with frozen(D0, hour=5):
        late = member(orgs["north"], "employee", "Late")
    code, version = adopted_code(orgs, D0)
    day = D0 + timedelta(days=45)
    with frozen(day):
        reminders_plan()
    sign(late, version, at(day, 7, 1))
    digest = ReminderLog.objects.get(kind="escalation")
    with frozen(day, minute=2):
        reminders_send(reminder_ids=[digest.pk])
    digest.refresh_from_db()
    assert (digest.status, digest.note) == ("skipped", "Nobody is outstanding any more.")
    assert Obligation.objects.get(person=late).acknowledged_at is not None
