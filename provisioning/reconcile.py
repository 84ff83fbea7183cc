"""The provisioning app's reconciliation sweep (run by ``core.reconcile`` every few minutes).

A roster whose application was asked for but whose message was lost (the broker down, a worker killed)
would otherwise say "being applied" for ever: after the grace period it is queued again, once per claim
(``core.claims.work_claim``). Applying is idempotent besides: the upload is claimed by a conditional
update before anything changes, so a message that was only slow applies nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from core.claims import work_claim
from core.reconcile import grace, register_sweep, requeue_after
from core.tasks import enqueue_on_commit
from provisioning.roster import roster_uploads_waiting

BATCH = 100


@register_sweep("roster-applications")
def sweep_roster_applications(now: datetime) -> int:
    from provisioning.tasks import apply_roster_upload  # the tasks module imports the roster services

    queued = 0
    waiting = roster_uploads_waiting(requested_before=now - grace()).values_list("pk", "apply_requested_by_id")
    for upload_id, actor_id in waiting[:BATCH]:
        if work_claim(f"roster-apply:{upload_id}", stale_after=requeue_after(), now=now):
            enqueue_on_commit(apply_roster_upload, upload_id, actor_id)
            queued += 1
    return queued
