"""What people owe: obligations opened when a board adopts a version or someone takes up a role, and their reads."""

from __future__ import annotations

from collections.abc import Sequence
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
    return obligations_open_for_roles(roles=[role])


def _owed_through(role: Role, organisation: Organisation, in_force: dict[int, Adoption]) -> list[Obligation]:
    """What the role owes (unsaved): each version in force there for its kind, unless the organisation closed."""
    owed = []
    for adoption in in_force.values():
        if role.kind not in adoption.version.code.audience:
            continue
        owed_from = max(role.starts_on, adoption.adopted_on)
        if organisation.closed_on is not None and organisation.closed_on <= owed_from:
            continue  # a closed organisation owes nothing new
        owed.append(
            Obligation(
                person_id=role.person_id,
                version=adoption.version,
                code=adoption.version.code,
                role=role,
                organisation=organisation,
                adoption=adoption,
                owed_from=owed_from,
                due_on=_due(owed_from, adoption),
            )
        )
    return owed


def _rejoined(earlier: Obligation, fresh: Obligation) -> bool:
    """An unsigned obligation left behind by a role that ended before the new one owes the same version.

    A person owes a version once (``obligation_once_per_person_version``), so a rejoiner's new role takes
    over the obligation their old role left open, owed again from the new start. A signed or superseded
    one stays as it was: a version signed before leaving is not owed twice.
    """
    old_role = earlier.role
    return (
        earlier.acknowledged_at is None
        and earlier.superseded_at is None
        and earlier.role_id != fresh.role_id
        and old_role.ends_on is not None
        and old_role.ends_on < fresh.owed_from
    )


@transaction.atomic
def obligations_open_for_roles(*, roles: Sequence[Role]) -> list[Obligation]:
    """Joiners owe, from their start date, each code version in force where they join; rejoiners owe it again.

    For any number of roles in a few queries a distinct organisation (its adoptions in force), one
    read of what the people already owe and one insert: the first role (in the order given) to owe a
    version is the one it is owed through, as if each role had been opened in turn. Returns what was
    opened or owed again.
    """
    if not roles:
        return []
    organisations = Organisation.objects.in_bulk({role.organisation_id for role in roles})
    in_force = {pk: in_force_adoptions(organisation) for pk, organisation in organisations.items()}
    wanted: dict[tuple[int, int], Obligation] = {}
    for role in roles:
        for owed in _owed_through(role, organisations[role.organisation_id], in_force[role.organisation_id]):
            wanted.setdefault((owed.person_id, owed.version_id), owed)
    if not wanted:
        return []
    existing = {
        (obligation.person_id, obligation.version_id): obligation
        for obligation in Obligation.objects.filter(
            person_id__in={person_id for person_id, _ in wanted},
            version_id__in={version_id for _, version_id in wanted},
        ).select_related("role")
    }
    new = [owed for key, owed in wanted.items() if key not in existing]
    # A concurrent adoption may open the same obligation meanwhile: its row is kept, as get_or_create would.
    Obligation.objects.bulk_create(new, batch_size=BATCH, ignore_conflicts=True)
    again = []
    for key, owed in wanted.items():
        earlier = existing.get(key)
        if earlier is not None and _rejoined(earlier, owed):
            earlier.role, earlier.organisation, earlier.adoption = owed.role, owed.organisation, owed.adoption
            earlier.owed_from, earlier.due_on = owed.owed_from, owed.due_on
            again.append(earlier)
    Obligation.objects.bulk_update(again, ["role", "organisation", "adoption", "owed_from", "due_on"])
    return new + again


def owed_obligation(
    person: Person, version: CodeVersion, *, for_update: bool = False, with_first_view: bool = False
) -> Obligation | None:
    """The person's obligation for this version, if it is still owed through a current role.

    ``for_update`` locks the obligation and the person's row until the transaction ends.
    ``with_first_view`` also reads, in the same query, whether their first view of the version is on record
    (``obligation.first_viewed``), so a reload of the reading page need not try to record it again.
    """
    obligations = Obligation.objects.filter(
        person=person, version=version, superseded_at__isnull=True
    ).for_current_roles()
    if for_update:
        # Serialises two submissions from the same person (PostgreSQL); the unique constraint is the backstop.
        # The person's row is held too, in the same statement (``hold_person_evidence``'s lock, NO KEY UPDATE:
        # rows that merely refer to either can still be inserted meanwhile).
        obligations = obligations.select_related("person").select_for_update(no_key=True, of=("self", "person"))
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
