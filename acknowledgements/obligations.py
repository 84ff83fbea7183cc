"""What people owe: obligations opened when a board adopts a version or someone takes up a role, and their reads."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from acknowledgements.models import (
    Acknowledgement,
    AuditEvent,
    EventKind,
    Obligation,
)
from conduct.models import (
    Adoption,
    CodeVersion,
    Organisation,
    Person,
    Role,
)
from conduct.services import adoption_scope_q, in_force_adoptions

BATCH = 2000


def _due(owed_from: date, adoption: Adoption) -> date:
    """Due by the adoption's signing date, or the code's allowance after joining if later."""
    return max(adoption.signing_due_on, owed_from + timedelta(days=adoption.version.code.signing_due_days))


@transaction.atomic
def obligations_open_for_adoption(*, adoption: Adoption) -> int:
    """Everyone in the code's audience within the adoption's scope now owes the new version.

    Open obligations for earlier versions of the same code, for the same people,
    are marked superseded (they stay as history). Roles that end before the
    adoption are left out; roles starting later owe it from their start date.
    Returns the number of obligations created. Safe to run twice.
    """
    code = adoption.version.code
    now = timezone.now()
    roles = (
        Role.objects.filter(
            adoption_scope_q(
                board=adoption.board,
                organisation=adoption.organisation,
                includes_sub_organisations=adoption.includes_sub_organisations,
            ),
            kind__in=code.audience,
        )
        .exclude(ends_on__lt=adoption.adopted_on)
        # A closed organisation owes nothing new: none from the day it closed, whenever the role began.
        .exclude(organisation__closed_on__lte=adoption.adopted_on)
        .exclude(organisation__closed_on__lte=F("starts_on"))
        .order_by("person_id", "starts_on", "pk")
        .values_list("pk", "person_id", "organisation_id", "starts_on")
    )
    first_role: dict[int, tuple[int, int, date]] = {}
    for role_id, person_id, organisation_id, starts_on in roles.iterator(chunk_size=BATCH):
        first_role.setdefault(person_id, (role_id, organisation_id, starts_on))

    Obligation.objects.filter(
        code=code, person_id__in=list(first_role), acknowledged_at__isnull=True, superseded_at__isnull=True
    ).exclude(version=adoption.version).update(superseded_at=now)

    rows = []
    for person_id, (role_id, organisation_id, starts_on) in first_role.items():
        owed_from = max(adoption.adopted_on, starts_on)
        rows.append(
            Obligation(
                person_id=person_id,
                version=adoption.version,
                code=code,
                role_id=role_id,
                organisation_id=organisation_id,
                adoption=adoption,
                owed_from=owed_from,
                due_on=_due(owed_from, adoption),
            )
        )
    created = Obligation.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
    return len(created)


@transaction.atomic
def obligations_open_for_role(*, role: Role) -> list[Obligation]:
    """A joiner owes, from their start date, each code version in force where they join."""
    opened = []
    closed_on = Organisation.objects.values_list("closed_on", flat=True).get(pk=role.organisation_id)
    for adoption in in_force_adoptions(role.organisation).values():
        if role.kind not in adoption.version.code.audience:
            continue
        owed_from = max(role.starts_on, adoption.adopted_on)
        if closed_on is not None and closed_on <= owed_from:
            continue  # a closed organisation owes nothing new
        obligation, created = Obligation.objects.get_or_create(
            person=role.person,
            version=adoption.version,
            defaults={
                "code": adoption.version.code,
                "role": role,
                "organisation": role.organisation,
                "adoption": adoption,
                "owed_from": owed_from,
                "due_on": _due(owed_from, adoption),
            },
        )
        if created:
            opened.append(obligation)
    return opened


def owed_obligation(
    person: Person, version: CodeVersion, *, for_update: bool = False, with_first_view: bool = False
) -> Obligation | None:
    """The person's obligation for this version, if it is still owed through a current role.

    ``with_first_view`` also reads, in the same query, whether their first view of the version is on record
    (``obligation.first_viewed``), so a reload of the reading page need not try to record it again.
    """
    obligations = Obligation.objects.filter(
        person=person, version=version, superseded_at__isnull=True
    ).for_current_roles()
    if for_update:
        # Serialises two submissions from the same person (PostgreSQL); the unique constraint is the backstop.
        obligations = obligations.select_for_update(of=("self",))
    if with_first_view:
        obligations = obligations.annotate(
            first_viewed=Exists(
                AuditEvent.objects.filter(
                    person_id=OuterRef("person_id"), version_id=OuterRef("version_id"), kind=EventKind.FIRST_VIEWED
                )
            )
        )
    return obligations.select_related("organisation", "role").first()


def current_acknowledgement(person: Person, version: CodeVersion) -> Acknowledgement | None:
    """The person's acknowledgement of the version as it now stands: the latest correction, if any."""
    return (
        Acknowledgement.objects.filter(person=person, version=version, corrections__isnull=True)
        .select_related("version__code", "recorded_by")
        .order_by("-signed_at", "-pk")
        .first()
    )
