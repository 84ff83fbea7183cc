"""Celery tasks for provisioning: thin (ids in, one service call), as ``core.tasks`` says."""

from __future__ import annotations

from celery import Task

from core.tasks import transient_task
from provisioning.roster import roster_apply_run


@transient_task()
def apply_roster_upload(self: Task, upload_id: int, actor_id: int) -> None:
    """Apply a roster upload (all or nothing). Safe to deliver twice: the upload is claimed before anything changes."""
    roster_apply_run(upload_id=upload_id, actor_id=actor_id)
