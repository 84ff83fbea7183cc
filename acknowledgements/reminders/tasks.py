"""Celery tasks for reminders: thin wrappers that take ids and call one service.

Registered under ``acknowledgements.tasks.*`` (``acknowledgements/tasks.py``
imports this module so Celery's autodiscovery finds them). ``acks_late`` is on
for each task (and project-wide): a worker that dies mid-task leaves its message
to be delivered again, and the database claims make the second run harmless.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from acknowledgements.reminders.planning import reminders_plan
from acknowledgements.reminders.sending import ReminderDeliveryError, batches, reminders_ready, reminders_send

SEND_MAX_RETRIES = 5  # backoff 1, 2, 4, 8, 16 minutes (with jitter) before a failure is final


def reminders_queue(*, settled_for: timedelta | None = None) -> int:
    """Queue a send task per batch of reminders waiting to go; returns how many reminders were queued."""
    ids = reminders_ready(settled_for=settled_for)
    for batch in batches(ids):
        transaction.on_commit(partial(send_reminders.delay, batch))
    return len(ids)


@shared_task(
    name="acknowledgements.tasks.plan_reminders",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=30,
    max_retries=3,
)
def plan_reminders() -> dict[str, int]:
    """The daily run (beat, at REMINDERS_DAILY_AT): plan today's reminders, then queue every one waiting."""
    planned = reminders_plan(today=timezone.localdate())
    return {**asdict(planned), "queued": reminders_queue()}


@shared_task(
    bind=True,
    name="acknowledgements.tasks.send_reminders",
    acks_late=True,
    autoretry_for=(ReminderDeliveryError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=SEND_MAX_RETRIES,
)
def send_reminders(self, reminder_ids: list[int]) -> dict[str, int]:
    final_attempt = self.request.retries >= self.max_retries
    return asdict(reminders_send(reminder_ids=reminder_ids, final_attempt=final_attempt))


@shared_task(name="acknowledgements.tasks.resume_reminders", acks_late=True)
def resume_reminders() -> int:
    """Every 15 minutes: re-queue what a dead worker left (stale claims, pending rows nobody took)."""
    return reminders_queue(settled_for=timedelta(seconds=settings.REMINDERS_CLAIM_TIMEOUT_SECONDS))
