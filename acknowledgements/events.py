"""The audit trail: one constructor per kind of event, so every event of a kind is written the same way."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from acknowledgements.evidence import hold_person_evidence
from acknowledgements.evidence_records import AUDIT_EVENT, event_chain
from acknowledgements.models import Acknowledgement, AuditEvent, EventKind, Invitation, SealedPdf
from conduct.models import Adoption, CodeVersion, Person
from core.evidence_chain import chain_append
from core.request_meta import RequestMeta


def acknowledgement_event(
    kind: str, *, ack: Acknowledgement, actor: Person, at: datetime, request_meta: RequestMeta, **details
) -> AuditEvent:
    """An unsaved event of a signature (signed, recorded on behalf, corrected): saved with its evidence."""
    return AuditEvent(
        person_id=ack.person_id,
        version_id=ack.version_id,
        kind=kind,
        occurred_at=at,
        actor=actor,
        ip_address=request_meta.ip_address,
        user_agent=request_meta.user_agent,
        details={"verification_code": ack.verification_code, **details},
    )


def event_first_view(
    *, person: Person, version: CodeVersion, request_meta: RequestMeta, at: datetime | None = None
) -> None:
    """Record the first time the person opened a version they owe.

    One insert whether or not it is the first time (INSERT … ON CONFLICT DO
    NOTHING against ``event_first_view_once``), so a second tab, a reload or a
    race costs the same and records nothing twice. The time is stamped once the
    person's row is held, like every event a signature's hash may cover.
    """
    with transaction.atomic():
        hold_person_evidence(person.pk)
        event = AuditEvent(
            person=person,
            version=version,
            kind=EventKind.FIRST_VIEWED,
            occurred_at=at or timezone.now(),
            actor=person,
            ip_address=request_meta.ip_address,
            user_agent=request_meta.user_agent,
        )
        AuditEvent.objects.bulk_create([event], ignore_conflicts=True)
        # Chained only by whoever inserted it (the stored time is ours); a repeat view adds nothing.
        first = (
            AuditEvent.objects.filter(person=person, version=version, kind=EventKind.FIRST_VIEWED)
            .values_list("pk", "occurred_at")
            .first()
        )
        if first is not None and first[1] == event.occurred_at:
            event.pk = first[0]
            event_chain(event, organisation_id=version.code.owner_id)


def event_pdf_downloaded(*, acknowledgement: Acknowledgement, by: Person, request_meta: RequestMeta) -> AuditEvent:
    event = AuditEvent(
        person_id=acknowledgement.person_id,
        version_id=acknowledgement.version_id,
        acknowledgement=acknowledgement,
        kind=EventKind.PDF_DOWNLOADED,
        actor=by,
        ip_address=request_meta.ip_address,
        user_agent=request_meta.user_agent,
    )
    event.save()
    event_chain(event, organisation_id=acknowledgement.organisation_id)
    return event


def _invited_event(invitation: Invitation, invited_by: Person, resent_from: Invitation | None) -> AuditEvent:
    role = invitation.role
    assert role is not None  # an invitation is always made for a role; only deleting the role clears it
    details: dict[str, object] = {"invitation_id": invitation.pk}
    if resent_from is not None:
        details["resent"] = resent_from.pk
    details.update(role=role.kind, organisation_id=role.organisation_id, organisation=role.organisation.name)
    if resent_from is None:
        details["starts_on"] = role.starts_on.isoformat()
    return AuditEvent(person=invitation.person, kind=EventKind.INVITED, actor=invited_by, details=details)


def event_invited(*, invitation: Invitation, invited_by: Person, resent_from: Invitation | None = None) -> AuditEvent:
    """Someone was invited to take up a role; a fresh link for the same role says which one it replaces."""
    event = _invited_event(invitation, invited_by, resent_from)
    event.save()
    event_chain(event, organisation_id=invitation.role.organisation_id)  # type: ignore[union-attr]
    return event


def events_invited_batch(*, invitations: Sequence[Invitation], invited_by: Person) -> list[AuditEvent]:
    """``event_invited`` for many new invitations: one insert, one chain append per organisation."""
    events = AuditEvent.objects.bulk_create(
        [_invited_event(invitation, invited_by, None) for invitation in invitations]
    )
    by_chain: dict[int, list[AuditEvent]] = defaultdict(list)
    for invitation, event in zip(invitations, events, strict=True):
        by_chain[invitation.role.organisation_id].append(event)  # type: ignore[union-attr]
    for organisation_id, chained in by_chain.items():
        chain_append(organisation_id, [(AUDIT_EVENT, event) for event in chained])
    return events


def event_pdf_issued(*, acknowledgement: Acknowledgement, record: SealedPdf) -> bool:
    """The "PDF issued" event, at most one per acknowledgement: True for whoever inserts it."""
    try:
        with transaction.atomic():
            event = AuditEvent(
                person_id=acknowledgement.person_id,
                version_id=acknowledgement.version_id,
                acknowledgement=acknowledgement,
                kind=EventKind.PDF_ISSUED,
                details={"sha256": record.sha256, "size": record.size},
            )
            event.save()
            event_chain(event, organisation_id=acknowledgement.organisation_id)
    except IntegrityError:
        return False
    return True


def event_adopted(*, adoption: Adoption, at: datetime) -> AuditEvent:
    """A board adopted a version: on the chair's trail, with who recorded it."""
    event = AuditEvent.objects.create(
        person=adoption.chair,
        version=adoption.version,
        kind=EventKind.ADOPTED,
        occurred_at=at,
        actor=adoption.recorded_by,
        ip_address=adoption.ip_address,
        user_agent=adoption.user_agent,
        details={"adoption_id": adoption.pk, "board": adoption.board.name, "on_behalf": adoption.recorded_on_behalf},
    )
    event_chain(event, organisation_id=adoption.board_id)
    return event
