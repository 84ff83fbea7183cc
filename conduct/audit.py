"""The officers' audit log: what admins, chairs and clerks changed in the set-up, by whom and when.

Every officer action (organisations, network memberships, people, roles, invitations) is
recorded here by the service that makes the change, inside its transaction, so the entry and
the change are saved together or not at all. Entries are append-only (``AppendOnly`` and a
database trigger). What signatories do (reading, signing, declaring) is evidence of another
kind and lives in acknowledgements' events.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import QuerySet

from conduct.evidence_records import AUDIT_LOG_ENTRY, OPERATOR_CHAIN
from conduct.models import AuditAction, AuditLogEntry, Organisation, Person
from core.canonical import canonical_json
from core.evidence_chain import chain_append
from core.request_meta import current_client_ip


def _json_ready(details: dict[str, Any]) -> dict[str, Any]:
    """Dates and times as the ISO strings evidence uses (UTC), so the stored details read the same everywhere."""
    return json.loads(canonical_json(details))


@dataclass(frozen=True)
class AuditEntry:
    """One officer action to record (``audit_log_record``'s arguments), for recording many at once."""

    actor: Person | None
    action: AuditAction
    organisation: Organisation | None
    summary: str
    details: dict[str, Any] | None = None
    target: models.Model | None = None
    subject: Person | None = None
    ip_address: str | None = None


_SUMMARY_MAX = AuditLogEntry._meta.get_field("summary").max_length


def _unsaved(entry: AuditEntry, client_ip: str | None) -> AuditLogEntry:
    return AuditLogEntry(
        subject=entry.subject,
        ip_address=entry.ip_address if entry.ip_address is not None else client_ip,
        actor=entry.actor,
        action=entry.action,
        organisation=entry.organisation,
        target_type=entry.target._meta.label_lower if entry.target is not None else "",
        target_id=str(entry.target.pk) if entry.target is not None else "",
        summary=entry.summary[:_SUMMARY_MAX],
        details=_json_ready(entry.details or {}),
    )


@transaction.atomic
def audit_entries_record_batch(entries: Sequence[AuditEntry]) -> list[AuditLogEntry]:
    """Record officer actions in order: one insert, then one chain append per organisation's chain.

    The same rows and evidence links as ``audit_log_record`` called once for each, in that order (each
    chain takes its entries in the order given), for a constant number of queries whatever the number.
    """
    if not entries:
        return []
    client_ip = current_client_ip()
    saved = AuditLogEntry.objects.bulk_create([_unsaved(entry, client_ip) for entry in entries])
    by_chain: dict[int, list[AuditLogEntry]] = defaultdict(list)
    for entry in saved:
        by_chain[entry.organisation_id or OPERATOR_CHAIN].append(entry)
    for scope, chained in by_chain.items():
        chain_append(scope, [(AUDIT_LOG_ENTRY, entry) for entry in chained])
    return saved


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
    entry = AuditEntry(actor, action, organisation, summary, details, target, subject, ip_address)
    return audit_entries_record_batch([entry])[0]


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
