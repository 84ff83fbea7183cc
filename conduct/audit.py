"""The officers' audit log: what admins, chairs and clerks changed in the set-up, by whom and when.

Every officer action (organisations, network memberships, people, roles, invitations) is
recorded here by the service that makes the change, inside its transaction, so the entry and
the change are saved together or not at all. Entries are append-only (``AppendOnly`` and a
database trigger). What signatories do (reading, signing, declaring) is evidence of another
kind and lives in acknowledgements' events.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models, transaction
from django.db.models import QuerySet

from conduct.evidence_records import audit_log_entry_chain
from conduct.models import AuditAction, AuditLogEntry, Organisation, Person
from core.canonical import canonical_json
from core.request_meta import current_client_ip


def _json_ready(details: dict[str, Any]) -> dict[str, Any]:
    """Dates and times as the ISO strings evidence uses (UTC), so the stored details read the same everywhere."""
    return json.loads(canonical_json(details))


@transaction.atomic
def audit_log_record(
    *,
    actor: Person | None,
    action: AuditAction,
    organisation: Organisation | None,
    target: models.Model | None = None,
    summary: str,
    details: dict[str, Any] | None = None,
    subject: Person | None = None,
    ip_address: str | None = None,
) -> AuditLogEntry:
    """Record one officer action. ``actor`` is None only for what the operator does from the command line.

    ``subject`` is the person the change is about (shown on their page); ``details`` carries what
    changed, by convention ``{"before": {...}, "after": {...}}``. The address defaults to that of
    the request being served (``core.request_meta.ClientAddressMiddleware``).
    """
    entry = AuditLogEntry.objects.create(
        subject=subject,
        ip_address=ip_address if ip_address is not None else current_client_ip(),
        actor=actor,
        action=action,
        organisation=organisation,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        summary=summary[: AuditLogEntry._meta.get_field("summary").max_length],
        details=_json_ready(details or {}),
    )
    audit_log_entry_chain(entry)
    return entry


def audit_log_entries(
    organisation: Organisation, *, include_sub_organisations: bool = False
) -> QuerySet[AuditLogEntry]:
    """An organisation's entries, newest first (the caller paginates), optionally with those of everything below.

    Who may read them is ``conduct.permissions.can_view_audit_log``; the caller asks first.
    """
    entries = AuditLogEntry.objects.select_related("actor", "organisation")
    if include_sub_organisations:
        entries = entries.filter(organisation__path__startswith=organisation.path)
    else:
        entries = entries.filter(organisation=organisation)
    return entries.order_by("-at", "-pk")
