"""Celery tasks for reminders: thin wrappers that take ids and call one service.

Celery's autodiscovery finds them here, named by their module path
(``reminders.tasks.*``). ``acks_late`` is on
for each task (and project-wide): a worker that dies mid-task leaves its message
to be delivered again, and the database claims make the second run harmless.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.claims import work_done, work_touch
from core.tasks import enqueue_on_commit, transient_task
from reminders.planning import planned_key, planning_key, reminders_plan
from reminders.sending import batches, reminders_ready, reminders_send

SEND_MAX_RETRIES = 5  # backoff 1, 2, 4, 8, 16 minutes (with jitter) before a failure is final


def reminders_queue(*, settled_for: timedelta | None = None) -> int:
    """Queue a send task per batch of reminders waiting to go; returns how many reminders were queued."""
    ids = reminders_ready(settled_for=settled_for)
    for batch in batches(ids):
        enqueue_on_commit(send_reminders, batch)
    return len(ids)


@transient_task(retry_backoff=30, max_retries=3)
def plan_reminders(self) -> dict[str, int]:
    """The daily run (beat, at REMINDERS_DAILY_AT): plan today's reminders, then queue every one waiting.

    Marks the day planned once done; until then the reconciliation sweep (``reminders.reconcile``) queues
    this task again if beat's message was lost (the claim it touches keeps the sweep off while it runs).
    """
    today = timezone.localdate()
    work_touch(planning_key(today))
    planned = reminders_plan(today=today)
    queued = reminders_queue()
    work_done(planned_key(today))
    return {**asdict(planned), "queued": queued}


@transient_task(retry_backoff=60, retry_backoff_max=3600, max_retries=SEND_MAX_RETRIES)
def send_reminders(self, reminder_ids: list[int]) -> dict[str, int]:
    final_attempt = self.request.retries >= self.max_retries
    return asdict(reminders_send(reminder_ids=reminder_ids, final_attempt=final_attempt))


@transient_task()
def resume_reminders(self) -> int:
    """Every 15 minutes: re-queue what a dead worker left (stale claims, pending rows nobody took)."""
    return reminders_queue(settled_for=timedelta(seconds=settings.REMINDERS_CLAIM_TIMEOUT_SECONDS))
