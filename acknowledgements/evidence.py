"""What an acknowledgement proves, serialised canonically and hashed.

The evidence hash is computed once, when the acknowledgement is made, over
everything the record says: who, which version (and its content hash), the
role(s) it was owed for, the exact statement shown, the typed name, the server
time, IP address, user agent, how the person had authenticated, what they
declared, who recorded it on their behalf and why, and the audit events that
led up to it (invited, first viewed). Verification recomputes the hash from the
stored rows; any change to any of them, however made, shows as a mismatch.

Only values stored with the evidence go in: never a person's current name or a
code's current title, which may legitimately change later. (The acceptance
statement carries the code's title and version as they were shown.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from acknowledgements.models import (
    Acknowledgement,
    AuditEvent,
    Declaration,
    EventKind,
    Interest,
)
from conduct.models import Person
from core.canonical import canonical_json, sha256_hex
from core.request_meta import normalise_ip

EVIDENCE_FORMAT = 1
# Events recorded before the signature that belong to its story. Later ones (PDF issued,
# PDF downloaded) are listed on the record page but cannot be inside a hash made earlier.
PRE_SIGNING_EVENTS = (EventKind.INVITED, EventKind.FIRST_VIEWED)


# ---------------------------------------------------------------------------
# The evidence
# ---------------------------------------------------------------------------


def _event(event: AuditEvent) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "at": event.occurred_at,
        "actor_id": event.actor_id,
        "ip_address": normalise_ip(event.ip_address),
        "user_agent": event.user_agent,
    }


def _interest(interest: Interest) -> dict[str, Any]:
    return {
        "kind": interest.kind,
        "counterparty": interest.counterparty,
        "nature": interest.nature,
        "starts_on": interest.starts_on,
        "ends_on": interest.ends_on,
    }


def _declaration(declaration: Declaration | None, interests: Iterable[Interest]) -> dict[str, Any] | None:
    if declaration is None:
        return None
    return {
        "organisation_id": declaration.organisation_id,
        "nothing_to_declare": declaration.nothing_to_declare,
        "made_at": declaration.made_at,
        "academic_year_start": declaration.academic_year_start,
        "recorded_by_id": declaration.recorded_by_id,
        "interests": [_interest(interest) for interest in interests],
    }


def hold_person_evidence(person_id: int) -> None:
    """Hold the person's row until the transaction ends; call it before stamping a signature or a pre-signing event.

    The hash covers the events stamped up to the moment of signing. Signers and writers
    of those events take the row in turn and stamp their time only once they hold it, so
    an event stamped before a signature is committed (and seen) before its hash is made,
    and one stamped after it is later than the signature and left out for good.
    NO KEY UPDATE: rows that merely refer to the person can still be inserted meanwhile.
    """
    Person.objects.select_for_update(no_key=True).filter(pk=person_id).exists()


def pre_signing_events(ack: Acknowledgement) -> list[AuditEvent]:
    """The person's invitation(s) and their first view of this version, up to the moment of signing."""
    return list(
        AuditEvent.objects.filter(person_id=ack.person_id, occurred_at__lte=ack.signed_at)
        .filter(Q(kind=EventKind.INVITED) | Q(kind=EventKind.FIRST_VIEWED, version_id=ack.version_id))
        .order_by("occurred_at", "pk")
    )


def build_evidence(
    ack: Acknowledgement, *, declaration: Declaration | None, interests: Iterable[Interest]
) -> dict[str, Any]:
    """The canonical record: at signing from the rows about to be saved, at verification from the stored ones."""
    version, corrected = ack.version, ack.corrects
    on_behalf = None
    if ack.recorded_by_id:
        on_behalf = {
            "recorded_by_id": ack.recorded_by_id,
            "reason": ack.on_behalf_reason,
            "paper_signed_on": ack.paper_signed_on,
            "paper_scan_sha256": ack.paper_scan_sha256,
        }
    return {
        "format": EVIDENCE_FORMAT,
        "type": "acknowledgement",
        "verification_code": ack.verification_code,
        "person_id": ack.person_id,
        "version": {
            "id": ack.version_id,
            "code_id": version.code_id,
            "label": version.label,
            "content_hash": ack.content_hash,
        },
        "organisation_id": ack.organisation_id,
        "obligation_id": ack.obligation_id,
        "roles": ack.roles,
        "statement": ack.statement,
        "typed_name": ack.typed_name,
        "signed_at": ack.signed_at,
        "ip_address": normalise_ip(ack.ip_address),
        "user_agent": ack.user_agent,
        "authentication": {"method": ack.auth_method, "provider": ack.auth_provider, "mfa_used": ack.mfa_used},
        "on_behalf": on_behalf,
        "corrects": {"verification_code": corrected.verification_code, "reason": ack.correction_reason}
        if corrected is not None
        else None,
        "declaration": _declaration(declaration, interests),
        "events": [_event(event) for event in pre_signing_events(ack)],
    }


def acknowledgement_evidence(ack: Acknowledgement) -> dict[str, Any]:
    """The canonical record recomputed from what is stored now (used by verification and the PDF)."""
    declaration = ack.declarations.order_by("pk").first()
    interests = list(declaration.interests.order_by("pk")) if declaration else []
    return build_evidence(ack, declaration=declaration, interests=interests)


def evidence_hash(evidence: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(evidence))


def acknowledgement_evidence_hash(ack: Acknowledgement) -> str:
    return evidence_hash(acknowledgement_evidence(ack))
