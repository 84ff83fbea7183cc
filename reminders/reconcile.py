"""The reminders app's reconciliation sweep (run by ``core.reconcile`` every few minutes).

The daily planning run is one beat message at ``REMINDERS_DAILY_AT``; if it was lost (a Redis blip at
that minute: beat logs "Couldn't apply scheduled task" and moves on), the day's reminders would not go.
Once the grace period after the daily time has passed, a day not yet marked planned is planned: the task
is queued again, once per claim (``core.claims``). Planning and sending are idempotent besides (one row per
recipient, subject and step; each row claimed before it is sent), so the reminders still go that day, once.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from core.claims import work_claim, work_is_done
from core.reconcile import grace, register_sweep, requeue_after
from core.tasks import enqueue_on_commit
from reminders.planning import planned_key, planning_key


@register_sweep("reminder-planning")
def sweep_reminder_planning(now: datetime) -> int:
    from reminders.tasks import plan_reminders  # the tasks module imports the planner and the sender

    local = timezone.localtime(now)
    daily_at = local.replace(
        hour=settings.REMINDERS_DAILY_AT.hour, minute=settings.REMINDERS_DAILY_AT.minute, second=0, microsecond=0
    )
    today = local.date()
    if local < daily_at + grace() or work_is_done(planned_key(today)):
        return 0
    if not work_claim(planning_key(today), stale_after=requeue_after(), now=now):
        return 0
    enqueue_on_commit(plan_reminders)
    return 1
