"""Reconciliation: the periodic sweep that finds work a lost broker message left undone, and queues it again.

Everything after a user's action (a signed PDF, a receipt, a report job, the day's reminder planning) is
done by a Celery task queued once the action commits. The message can be lost: the broker was down
(``core.tasks.enqueue_on_commit`` logs that and lets the action succeed), a non-persistent Redis restarted,
a worker was killed with messages it had taken, or ``make run``'s filesystem broker lost a file. The
database, not the broker, says what is still to do, so each app registers a *sweep* here that reads it
and queues each piece again, claiming it first (``core.claims.work_claim``) so that two sweeps at once, or
a sweep every few minutes, queue it exactly once per claim period.

The beat entry ``reconcile`` (CELERY_BEAT_SCHEDULE, every ``RECONCILE_EVERY_MINUTES``) runs
``core.tasks.reconcile``, which runs every registered sweep; one sweep's failure is logged and never
stops the others. Apps register theirs in ``AppConfig.ready`` (lower layers never import higher ones:
the registry is how core runs them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

Sweep = Callable[[datetime], int]
_SWEEPS: dict[str, Sweep] = {}


def register_sweep(name: str) -> Callable[[Sweep], Sweep]:
    """``@register_sweep("pdfs")``: a function of ``now`` that queues what is missing (returns how many)."""

    def register(function: Sweep) -> Sweep:
        _SWEEPS[name] = function
        return function

    return register


def registered_sweeps() -> dict[str, Sweep]:
    return dict(_SWEEPS)


def grace() -> timedelta:
    """How long work may be missing before the sweep queues it again (its first message may still be queued)."""
    return timedelta(minutes=settings.RECONCILE_GRACE_MINUTES)


def requeue_after() -> timedelta:
    """How long a piece of work queued again by a sweep is left before a later sweep queues it once more."""
    return timedelta(minutes=settings.RECONCILE_REQUEUE_MINUTES)


def reconcile_run(*, now: datetime | None = None) -> dict[str, int]:
    """Run every registered sweep; returns how many pieces of work each queued (-1 for a sweep that failed)."""
    now = now or timezone.now()
    queued: dict[str, int] = {}
    for name, sweep in _SWEEPS.items():
        try:
            queued[name] = sweep(now)
        except Exception:  # one broken sweep must not stop the others; the next run tries again
            logger.exception("Reconciliation sweep %s failed", name)
            queued[name] = -1
    if any(queued.values()):
        logger.info("Reconciliation queued again: %s", queued)
    return queued
