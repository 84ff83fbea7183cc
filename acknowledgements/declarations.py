"""Declarations of interest: made with a signature or on their own (governors renew theirs each year)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import overload

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from acknowledgements.evidence_records import declaration_chain
from acknowledgements.models import (
    Declaration,
    Interest,
)
from conduct.models import GOVERNANCE_ROLE_KINDS, CodeVersion, Organisation, Person, Role
from core.academic_year import academic_year_start


@dataclass(frozen=True)
class InterestData:
    kind: str
    counterparty: str
    nature: str
    starts_on: date
    ends_on: date | None = None


@dataclass(frozen=True)
class DeclarationData:
    """Either nothing to declare, or one or more interests."""

    nothing_to_declare: bool
    interests: Sequence[InterestData] = field(default_factory=tuple)

    def validate(self) -> None:
        if self.nothing_to_declare and self.interests:
            raise ValidationError(
                {"declaration": "Choose either “nothing to declare” or list your interests, not both."}
            )
        if not self.nothing_to_declare and not self.interests:
            raise ValidationError({"declaration": "List at least one interest, or choose “I have nothing to declare”."})
        for interest in self.interests:
            if interest.ends_on and interest.ends_on < interest.starts_on:
                raise ValidationError(
                    {"declaration": f"The interest in {interest.counterparty} ends before it starts."}
                )


@overload
def declaration_rows(
    data: DeclarationData,
    *,
    person: Person,
    organisation: Organisation,
    version: CodeVersion | None,
    made_at: datetime,
    recorded_by: Person | None,
) -> tuple[Declaration, list[Interest]]: ...


@overload
def declaration_rows(
    data: DeclarationData | None,
    *,
    person: Person,
    organisation: Organisation,
    version: CodeVersion | None,
    made_at: datetime,
    recorded_by: Person | None,
) -> tuple[Declaration | None, list[Interest]]: ...


def declaration_rows(
    data: DeclarationData | None,
    *,
    person: Person,
    organisation: Organisation,
    version: CodeVersion | None,
    made_at: datetime,
    recorded_by: Person | None,
) -> tuple[Declaration | None, list[Interest]]:
    """The unsaved declaration and interests for ``data`` (validated), or none when nothing was declared."""
    if data is None:
        return None, []
    data.validate()
    declaration = Declaration(
        person=person,
        organisation=organisation,
        version=version,
        nothing_to_declare=data.nothing_to_declare,
        made_at=made_at,
        academic_year_start=academic_year_start(timezone.localtime(made_at).date()),
        recorded_by=recorded_by,
    )
    interests = [
        Interest(
            kind=item.kind,
            counterparty=" ".join(item.counterparty.split()),
            nature=item.nature.strip(),
            starts_on=item.starts_on,
            ends_on=item.ends_on,
        )
        for item in data.interests
    ]
    return declaration, interests


def declaration_organisations(person: Person, on: date | None = None) -> list[Organisation]:
    """Where the person holds a current role, governance roles first: where a declaration can be made."""
    roles = Role.objects.current(on).filter(person=person).select_related("organisation").order_by("starts_on", "pk")
    ordered: list[Organisation] = []
    for role in sorted(roles, key=lambda r: r.kind not in GOVERNANCE_ROLE_KINDS):
        if role.organisation not in ordered:
            ordered.append(role.organisation)
    return ordered


@transaction.atomic
def declaration_make(
    *,
    person: Person,
    organisation: Organisation,
    declaration: DeclarationData,
    at: datetime | None = None,
) -> Declaration:
    """The person declares their interests (or nothing to declare) for an organisation they serve."""
    at = at or timezone.now()
    if organisation not in declaration_organisations(person, timezone.localtime(at).date()):
        raise ValidationError({"organisation": f"You do not hold a current role in {organisation.name}."})
    row, interests = declaration_rows(
        declaration, person=person, organisation=organisation, version=None, made_at=at, recorded_by=None
    )
    row.save()
    for interest in interests:
        interest.declaration = row
        interest.save()
    declaration_chain(row, interests)
    return row


def latest_declaration(person: Person, organisation: Organisation | None = None) -> Declaration | None:
    declarations = Declaration.objects.filter(person=person)
    if organisation is not None:
        declarations = declarations.filter(organisation=organisation)
    return declarations.prefetch_related("interests").order_by("-made_at", "-pk").first()


def interests_still_held(declaration: Declaration | None, on: date | None = None) -> list[Interest]:
    """The interests of a declaration that had not ended by ``on``: what a renewal starts from."""
    if declaration is None:
        return []
    on = on or timezone.localdate()
    return [interest for interest in declaration.interests.all() if interest.ends_on is None or interest.ends_on >= on]
