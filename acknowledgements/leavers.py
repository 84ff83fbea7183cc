"""Leavers and movers: what someone owed through a role that has ended.

An obligation belongs to one role (the first that owed it). When that role ends, the obligation
is no longer owed after its last day (``ObligationQuerySet.for_current_roles``, which reminders,
the reading pages and reports all apply), unless another role the person still holds requires the
same code, in which case it carries over to that role. Signatures and other evidence stay.
"""

from __future__ import annotations

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
    if role.ends_on is None:
        return 0
    next_day = role.ends_on + timedelta(days=1)
    carried = 0
    open_obligations = (
        Obligation.objects.open().filter(role=role).select_related("adoption__board", "adoption__organisation", "code")
    )
    for obligation in open_obligations:
        adoption = obligation.adoption
        successor = (
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
        if successor is not None:
            Obligation.objects.filter(pk=obligation.pk).update(
                role=successor, organisation_id=successor.organisation_id
            )
            carried += 1
    return carried
