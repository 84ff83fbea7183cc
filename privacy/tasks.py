"""Celery tasks for privacy: thin, with the project's retry policy (``core.tasks.transient_task``)."""

from __future__ import annotations

from celery import Task

from core.tasks import transient_task
from privacy.retention import retention_apply


@transient_task()
def apply_retention(self: Task) -> dict[str, int]:
    """Nightly (beat ``apply-retention``): apply the retention schedule once for the day (``retention_apply``)."""
    result = retention_apply()
    return {
        "ran": int(result.ran),
        "email_rows_deleted": result.rows("email_rows"),
        "reminder_rows_deleted": result.rows("reminder_rows"),
        "flagged": len(result.people("flagged")),
        "erased": len(result.people("erased")),
        "on_legal_hold": len(result.people("held")),
        "refused": len(result.people("refused")),
    }
