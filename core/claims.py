"""Claims on background work, held in the database (``core.models.WorkClaim``).

A periodic sweep (``core.reconcile``) may run twice at once (two beats, an overlapping run) and runs
every few minutes; a claim makes it queue each piece of work again exactly once per ``stale_after``:
the first caller inserts the row (or moves a stale claim forward with a conditional UPDATE whose row
count says who won), every other caller gets False.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.models import WorkClaim


def work_claim(key: str, *, stale_after: timedelta, now: datetime | None = None) -> bool:
    """Take the claim on ``key`` unless someone took it less than ``stale_after`` ago or it is done."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            WorkClaim.objects.create(key=key, claimed_at=now)
        return True
    except IntegrityError:
        pass
    taken = WorkClaim.objects.filter(key=key, done_at__isnull=True, claimed_at__lt=now - stale_after).update(
        claimed_at=now, attempts=F("attempts") + 1
    )
    return taken == 1


def work_touch(key: str, *, now: datetime | None = None) -> None:
    """Hold the claim on ``key`` from now, whoever held it (the work is starting here and now)."""
    now = now or timezone.now()
    if WorkClaim.objects.filter(key=key).update(claimed_at=now):
        return
    try:
        with transaction.atomic():
            WorkClaim.objects.create(key=key, claimed_at=now)
    except IntegrityError:  # made meanwhile by whoever else is starting it
        WorkClaim.objects.filter(key=key).update(claimed_at=now)


def work_done(key: str, *, now: datetime | None = None) -> None:
    """Record that the work named ``key`` has happened (it is never claimed again)."""
    now = now or timezone.now()
    updated = WorkClaim.objects.filter(key=key, done_at__isnull=True).update(done_at=now)
    if not updated:
        try:
            with transaction.atomic():
                WorkClaim.objects.create(key=key, claimed_at=now, done_at=now)
        except IntegrityError:  # done already, or marked done meanwhile
            pass


def work_is_done(key: str) -> bool:
    return WorkClaim.objects.filter(key=key, done_at__isnull=False).exists()
