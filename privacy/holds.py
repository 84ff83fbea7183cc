"""Legal holds (issue 13): while one is open on a person, their data may not be erased. Audited."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from conduct.audit import audit_log_record
from conduct.models import AuditAction, Person
from conduct.permissions import can_erase_person
from privacy.erasure import is_erased, person_trust
from privacy.models import LegalHold

REASON_MAX: int = LegalHold._meta.get_field("reason").max_length or 500


class LegalHoldRefused(Exception):
    """The hold could not be set or released; nothing changed."""


def _reason_checked(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise LegalHoldRefused("Say why: the claim, investigation or request the data must be kept for.")
    if len(reason) > REASON_MAX:
        raise LegalHoldRefused(f"The reason must be at most {REASON_MAX} characters.")
    return reason


def _permitted(actor: Person, person: Person) -> None:
    if not can_erase_person(actor, person):
        raise LegalHoldRefused("You may not place or release a legal hold on this person's data.")


def legal_hold_set(*, actor: Person, person: Person, reason: str) -> LegalHold:
    """Open a hold on the person's data; refused when one is already open (the database's constraint too)."""
    _permitted(actor, person)
    reason = _reason_checked(reason)
    if is_erased(person):
        raise LegalHoldRefused("This person's data has already been erased.")
    try:
        with transaction.atomic():
            hold = LegalHold.objects.create(person=person, reason=reason, set_by=actor)
            audit_log_record(
                actor=actor,
                action=AuditAction.LEGAL_HOLD_SET,
                organisation=person_trust(person),
                target=hold,
                subject=person,
                summary=f"Legal hold placed on the data of person {person.pk}",
                details={"hold_id": hold.pk, "reason": reason},
            )
    except IntegrityError as error:
        raise LegalHoldRefused("A legal hold is already in place on this person's data.") from error
    return hold


def _release(hold: LegalHold, *, actor: Person, reason: str) -> int:
    """Close the hold if it is still open; the row count says whether this call closed it."""
    return LegalHold.objects.filter(pk=hold.pk, released_at__isnull=True).update(
        released_at=timezone.now(), released_by=actor, release_reason=reason
    )


def legal_hold_release(*, actor: Person, person: Person, reason: str) -> LegalHold:
    """Close the open hold; a conditional UPDATE, so two releases at once close it once."""
    _permitted(actor, person)
    reason = _reason_checked(reason)
    with transaction.atomic():
        hold = LegalHold.objects.filter(person=person, released_at__isnull=True).first()
        if hold is None or _release(hold, actor=actor, reason=reason) != 1:
            raise LegalHoldRefused("There is no legal hold in place on this person's data.")
        hold.refresh_from_db()
        audit_log_record(
            actor=actor,
            action=AuditAction.LEGAL_HOLD_RELEASED,
            organisation=person_trust(person),
            target=hold,
            subject=person,
            summary=f"Legal hold released on the data of person {person.pk}",
            details={"hold_id": hold.pk, "reason": reason},
        )
    return hold
