"""Leavers and movers: what someone owed through a role that has ended.

An obligation belongs to one role (the first that owed it). When that role ends, the obligation
is no longer owed after its last day (``ObligationQuerySet.for_current_roles``, which reminders,
the reading pages and reports all apply), unless another role the person still holds requires the
same code, in which case it carries over to that role. Signatures and other evidence stay.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.db.models import Q

from acknowledgements.models import Obligation
from conduct.models import Role
from conduct.services import adoption_scope_q


@transaction.atomic
def obligations_close_for_role(*, role: Role) -> int:
    """A role has ended (a leaver, a mover, a governor stepping down): what was owed through it closes.

    From the day after its end date an obligation of the role is no longer owed (``for_current_roles``:
    no reminders, not counted by dashboards); signatures stay. An open obligation that another role of
    the person still requires (same code's audience, within the adoption's scope, held the day after)
    carries over to that role instead. Returns how many carried over.
    """
    return obligations_close_for_roles(roles=[role])


@transaction.atomic
def obligations_close_for_roles(*, roles: Sequence[Role]) -> int:
    """``obligations_close_for_role`` for many ended roles: a constant number of queries when the people hold no
    other role after (the usual leaver), one more for each open obligation that may carry over."""
    ended = {role.pk: role for role in roles if role.ends_on is not None}
    if not ended:
        return 0
    open_obligations = list(
        Obligation.objects.open()
        .filter(role_id__in=list(ended))
        .select_related("adoption__board", "adoption__organisation", "code")
    )
    if not open_obligations:
        return 0
    earliest_next_day = min(role.ends_on for role in ended.values() if role.ends_on) + timedelta(days=1)
    held_after: dict[int, set[int]] = defaultdict(set)
    for person_id, role_id in (
        Role.objects.filter(person_id__in={obligation.person_id for obligation in open_obligations})
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=earliest_next_day))
        .values_list("person_id", "pk")
    ):
        held_after[person_id].add(role_id)
    carried = 0
    for obligation in open_obligations:
        if not held_after[obligation.person_id] - {obligation.role_id}:
            continue  # nothing else held after the end: it simply closes
        successor = _successor(obligation, ended[obligation.role_id])
        if successor is not None:
            Obligation.objects.filter(pk=obligation.pk).update(
                role=successor, organisation_id=successor.organisation_id
            )
            carried += 1
    return carried


def _successor(obligation: Obligation, role: Role) -> Role | None:
    """Another role of the person that requires the obligation's code, held the day after ``role`` ends."""
    next_day = role.ends_on + timedelta(days=1)  # type: ignore[operator]
    adoption = obligation.adoption
    return (
        Role.objects.filter(
            adoption_scope_q(
                board=adoption.board,
                organisation=adoption.organisation,
                includes_sub_organisations=adoption.includes_sub_organisations,
            ),
            person_id=role.person_id,
            kind__in=obligation.code.audience,
            starts_on__lte=next_day,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=next_day))
        .exclude(pk=role.pk)
        .order_by("starts_on", "pk")
        .first()
    )
