"""Two workers at once on PostgreSQL: each reminder is planned once and sent once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings

from conduct.tests.factories import trust_tree
from reminders.models import ReminderLog
from reminders.planning import reminders_plan
from reminders.sending import reminders_send
from reminders.tasks import plan_reminders
from reminders.tests.reminder_helpers import adopted_code, frozen, member, officer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D0 = date(2026, 1, 5)
PEOPLE = 40


@pytest.fixture
def owed(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent writers on separate connections; CI runs the suite on PostgreSQL")
    orgs = trust_tree("Oak Trust")
    officer(orgs["trust"], "admin", "Admin")
    with frozen(D0, hour=5):
        for n in range(PEOPLE):
            member(orgs["north"], "employee", f"Employee {n:02d}")
            member(orgs["board"], "trustee", f"Trustee {n:02d}")
    adopted_code(orgs, D0, audience=("employee", "trustee"))
    return orgs


def at_once(work, workers: int = 2) -> None:
    """Run ``work`` in several threads (each with its own database connection), started together."""
    barrier, errors = threading.Barrier(workers), []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []


@override_settings(EMAIL_BACKEND="reminders.tests.reminder_helpers.SlowOutbox", REMINDERS_BATCH_SIZE=7)
def test_two_workers_running_the_daily_task_at_once_send_each_reminder_once(owed):
    with frozen(D0, hour=7):
        at_once(plan_reminders.apply)
    recipients = Counter(address for message in mail.outbox for address in message.to)
    # 40 employees and 40 trustees owe the code; the trustees and the board's chair owe a declaration too.
    assert sorted(Counter(recipients.values()).items()) == [(1, PEOPLE + 1), (2, PEOPLE)]
    assert len(mail.outbox) == ReminderLog.objects.count() == 2 * PEOPLE + PEOPLE + 1
    assert set(ReminderLog.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert sorted(Counter(ReminderLog.objects.values_list("recipient_id", "subject", "step")).values()) == [1] * len(
        mail.outbox
    )


@override_settings(EMAIL_BACKEND="reminders.tests.reminder_helpers.SlowOutbox")
def test_the_same_batch_handed_to_three_workers_goes_once(owed):
    with frozen(D0, hour=7):
        at_once(lambda: reminders_plan(today=D0), workers=3)
        ids = list(ReminderLog.objects.order_by("pk").values_list("pk", flat=True))
        at_once(lambda: reminders_send(reminder_ids=ids, today=D0), workers=3)
    assert len(ids) == 2 * PEOPLE + PEOPLE + 1
    assert len(mail.outbox) == len(ids)
    assert len({message.extra_headers["Message-ID"] for message in mail.outbox}) == len(ids)
    assert set(ReminderLog.objects.values_list("status", "attempts")) == {("sent", 1)}
