"""What acknowledgements' evidence records sign (docs/evidence.md): acknowledgements, declarations
(with their interests) and audit events.

Each ``EvidenceType`` splits a record into the fields signed in clear and the personal fields, which
are signed only as salted commitments so that erasing them later breaks nothing. ``chain_signature``
is the last step of a signature's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from acknowledgements.models import Acknowledgement, AuditEvent, Declaration, Interest, SealedPdf
from core.evidence_chain import EvidenceType, chain_append
from core.request_meta import normalise_ip


def _acknowledgement_public(ack: Acknowledgement) -> dict[str, Any]:
    return {
        "verification_code": ack.verification_code,
        "person_id": ack.person_id,
        "version_id": ack.version_id,
        "organisation_id": ack.organisation_id,
        "obligation_id": ack.obligation_id,
        "roles": ack.roles,
        "content_hash": ack.content_hash,
        "statement": ack.statement,
        "signed_at": ack.signed_at,
        "authentication": {"method": ack.auth_method, "provider": ack.auth_provider, "mfa_used": ack.mfa_used},
        "recorded_by_id": ack.recorded_by_id,
        "paper_signed_on": ack.paper_signed_on,
        "paper_scan_sha256": ack.paper_scan_sha256,
        "corrects_id": ack.corrects_id,
        "evidence_hash": ack.evidence_hash,
    }


def _acknowledgement_personal(ack: Acknowledgement) -> dict[str, Any]:
    return {
        "typed_name": ack.typed_name,
        "ip_address": normalise_ip(ack.ip_address),
        "user_agent": ack.user_agent,
        "on_behalf_reason": ack.on_behalf_reason,
        "correction_reason": ack.correction_reason,
    }


ACKNOWLEDGEMENT = EvidenceType("acknowledgements.acknowledgement", _acknowledgement_public, _acknowledgement_personal)


def _declaration_public(declaration: Declaration) -> dict[str, Any]:
    return {
        "person_id": declaration.person_id,
        "organisation_id": declaration.organisation_id,
        "acknowledgement_id": declaration.acknowledgement_id,
        "version_id": declaration.version_id,
        "nothing_to_declare": declaration.nothing_to_declare,
        "made_at": declaration.made_at,
        "academic_year_start": declaration.academic_year_start,
        "recorded_by_id": declaration.recorded_by_id,
    }


def _interests_of(declaration: Declaration) -> list[Interest]:
    known = getattr(declaration, "_evidence_interests", None)  # set when chained with the rows just saved
    return list(known) if known is not None else list(declaration.interests.order_by("pk"))


def _declaration_personal(declaration: Declaration) -> dict[str, Any]:
    return {
        "interests": [
            {
                "id": interest.pk,
                "kind": interest.kind,
                "counterparty": interest.counterparty,
                "nature": interest.nature,
                "starts_on": interest.starts_on,
                "ends_on": interest.ends_on,
            }
            for interest in _interests_of(declaration)
        ]
    }


DECLARATION = EvidenceType("acknowledgements.declaration", _declaration_public, _declaration_personal)


def _event_public(event: AuditEvent) -> dict[str, Any]:
    return {
        "person_id": event.person_id,
        "version_id": event.version_id,
        "acknowledgement_id": event.acknowledgement_id,
        "kind": event.kind,
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
    }


def _event_personal(event: AuditEvent) -> dict[str, Any]:
    return {"ip_address": normalise_ip(event.ip_address), "user_agent": event.user_agent, "details": event.details}


AUDIT_EVENT = EvidenceType("acknowledgements.auditevent", _event_public, _event_personal)


def chain_signature(
    ack: Acknowledgement, declaration: Declaration | None, interests: Iterable[Interest], event: AuditEvent
) -> None:
    """Sign and chain a signature's saved rows in its organisation's chain: the last step of its transaction."""
    items: list[tuple[EvidenceType, Any]] = [(ACKNOWLEDGEMENT, ack)]
    if declaration is not None:
        declaration._evidence_interests = list(interests)  # type: ignore[attr-defined]
        items.append((DECLARATION, declaration))
    items.append((AUDIT_EVENT, event))
    chain_append(ack.organisation_id, items)


def declaration_chain(declaration: Declaration, interests: Iterable[Interest]) -> None:
    declaration._evidence_interests = list(interests)  # type: ignore[attr-defined]
    chain_append(declaration.organisation_id, [(DECLARATION, declaration)])


def event_chain(event: AuditEvent, *, organisation_id: int) -> None:
    """Sign and chain a saved audit event in the chain of the organisation it happened in."""
    chain_append(organisation_id, [(AUDIT_EVENT, event)])


def _sealed_pdf_public(record: SealedPdf) -> dict[str, Any]:
    return {
        "acknowledgement_id": record.acknowledgement_id,
        "adoption_id": record.adoption_id,
        "file": record.file.name,
        "sha256": record.sha256,
        "size": record.size,
        "created_at": record.created_at,
    }


SEALED_PDF = EvidenceType("acknowledgements.sealedpdf", _sealed_pdf_public, lambda record: {})


def sealed_pdf_chain(record: SealedPdf, *, organisation_id: int) -> None:
    """Sign and chain a stored PDF's fingerprint, so that its bytes, its row and its file name are all fixed."""
    chain_append(organisation_id, [(SEALED_PDF, record)])
