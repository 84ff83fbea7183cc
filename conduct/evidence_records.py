"""What conduct's evidence records sign (docs/evidence.md): adoptions and the officers' audit log.

Each ``EvidenceType`` splits a record into the fields signed in clear and the personal fields,
which are signed only as salted commitments so that erasing them later breaks nothing.
"""

from __future__ import annotations

from typing import Any

from conduct.models import Adoption, AuditLogEntry
from core.evidence_chain import EvidenceType, chain_append
from core.request_meta import normalise_ip

OPERATOR_CHAIN = 0  # the operator's own actions (no organisation): a chain of their own


def _adoption_public(adoption: Adoption) -> dict[str, Any]:
    return {
        "verification_code": adoption.verification_code,
        "version_id": adoption.version_id,
        "board_id": adoption.board_id,
        "organisation_id": adoption.organisation_id,
        "includes_sub_organisations": adoption.includes_sub_organisations,
        "meeting_id": adoption.meeting_id,
        "minute_reference": adoption.minute_reference,
        "chair_id": adoption.chair_id,
        "adopted_on": adoption.adopted_on,
        "effective_on": adoption.effective_on,
        "review_due_on": adoption.review_due_on,
        "signing_due_on": adoption.signing_due_on,
        "recorded_by_id": adoption.recorded_by_id,
        "recorded_on_behalf": adoption.recorded_on_behalf,
        "recorded_at": adoption.recorded_at,
        "content_hash": adoption.content_hash,
        "evidence_hash": adoption.evidence_hash,
    }


def _adoption_personal(adoption: Adoption) -> dict[str, Any]:
    return {
        "chair_signature": adoption.chair_signature,
        "ip_address": normalise_ip(adoption.ip_address),
        "user_agent": adoption.user_agent,
    }


ADOPTION = EvidenceType("conduct.adoption", _adoption_public, _adoption_personal)


def _entry_public(entry: AuditLogEntry) -> dict[str, Any]:
    return {
        "actor_id": entry.actor_id,
        "action": entry.action,
        "organisation_id": entry.organisation_id,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "subject_id": entry.subject_id,
        "at": entry.at,
    }


def _entry_personal(entry: AuditLogEntry) -> dict[str, Any]:
    return {"summary": entry.summary, "details": entry.details, "ip_address": normalise_ip(entry.ip_address)}


AUDIT_LOG_ENTRY = EvidenceType("conduct.auditlogentry", _entry_public, _entry_personal)


def adoption_chain(adoption: Adoption) -> None:
    """Sign and chain a saved adoption in its board's chain (the last step of ``adoption_record``)."""
    chain_append(adoption.board_id, [(ADOPTION, adoption)])
