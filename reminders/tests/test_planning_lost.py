"""The planner's message lost at the daily time (a Redis blip at 07:00): the day's reminders still go, once.

Beat's 07:00 message never arrives here (nothing runs ``plan_reminders``). The reconciliation sweep, run as
beat runs it every few minutes, finds the day not yet planned once the grace period has passed, queues the
planner once (claimed in the database), and the reminders go; later sweeps, a second sweep at the same
moment and beat's message arriving late after all send nothing more.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core import mail

from conduct.tests.factories import trust_tree
from core.claims import work_is_done
from core.models import WorkClaim
from core.reconcile import reconcile_run
from reminders.models import ReminderLog, ReminderStatus
from reminders.planning import planned_key
from reminders.tasks import plan_reminders
from reminders.tests.reminder_helpers import adopted_code, declare, frozen, member, officer

pytestmark = pytest.mark.django_db

D0 = date(2026, 1, 5)  # a Monday
GRACE = settings.RECONCILE_GRACE_MINUTES


@pytest.fixture
def owed(db):
    """Ten employees who owe the staff code adopted the working day before D0 (their invitations are due on D0)."""
    orgs = trust_tree("Oak Trust")
    chair = officer(orgs["board"], "chair", "Chair")
    declare(chair, orgs["board"], D0 - timedelta(days=2))
    with frozen(D0 - timedelta(days=1), hour=5):
        people = [member(orgs["north"], "employee", f"Employee {n:02d}") for n in range(10)]
    adopted_code(orgs, D0, chair=chair)
    return people


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):  # the worker runs what the sweep queues
            return reconcile_run()["reminder-planning"]

    return run


def test_reminders_still_go_that_day_once_when_the_planners_message_is_lost(
    owed, sweep, django_capture_on_commit_callbacks
):
    with frozen(D0, hour=7, minute=GRACE - 1):
        assert sweep() == 0  # within the grace period: beat's own run may still be under way
    assert ReminderLog.objects.count() == 0 and mail.outbox == []

    with frozen(D0, hour=7, minute=GRACE + 1):
        assert sweep() == 1  # the day was not planned: the planner is queued, and runs
        assert sweep() == 0  # a second sweep at the same moment queues nothing
    sent = ReminderLog.objects.filter(status=ReminderStatus.SENT, planned_for=D0)
    assert sent.count() == 10 and len(mail.outbox) == 10
    assert sorted(message.to[0] for message in mail.outbox) == sorted(f"{p.full_name} <{p.email}>" for p in owed)
    assert work_is_done(planned_key(D0))

    for hour in (8, 12, 23):
        with frozen(D0, hour=hour):
            assert sweep() == 0  # planned: nothing more that day
    with frozen(D0, hour=9), django_capture_on_commit_callbacks(execute=True):
        plan_reminders.delay()  # beat's message turns up after all
    assert len(mail.outbox) == 10 and ReminderLog.objects.count() == 10
    assert WorkClaim.objects.filter(key__startswith="reminders:plan:").count() == 1


def test_when_beat_did_run_the_sweep_does_nothing(owed, sweep, django_capture_on_commit_callbacks):
    with frozen(D0, hour=7), django_capture_on_commit_callbacks(execute=True):
        plan_reminders.delay()  # beat's run
    assert len(mail.outbox) == 10
    with frozen(D0, hour=7, minute=GRACE + 1):
        assert sweep() == 0
    assert len(mail.outbox) == 10
