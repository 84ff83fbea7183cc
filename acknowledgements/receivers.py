"""How acknowledgements reacts to what conduct announces (``conduct.signals``).

Each receiver runs inside the sender's transaction: if opening the signing round
fails, the adoption or role is not saved either.
"""

from __future__ import annotations

from datetime import datetime

from django.dispatch import receiver

from acknowledgements.events import event_adopted
from acknowledgements.leavers import obligations_close_for_roles
from acknowledgements.obligations import obligations_open_for_adoption, obligations_open_for_roles
from acknowledgements.tasks import issue_adoption_certificate
from conduct.models import Adoption, Role
from conduct.signals import adoption_recorded, role_started, roles_ended, roles_started
from core.tasks import enqueue_on_commit


@receiver(adoption_recorded, dispatch_uid="acknowledgements.open_signing_round")
def open_signing_round(sender, *, adoption: Adoption, recorded_at: datetime, **kwargs) -> None:
    """Everyone the version applies to owes it; the adoption joins the chair's audit trail; a certificate is issued."""
    obligations_open_for_adoption(adoption=adoption)
    event_adopted(adoption=adoption, at=recorded_at)
    enqueue_on_commit(issue_adoption_certificate, adoption.pk)


@receiver(role_started, dispatch_uid="acknowledgements.open_obligations_for_role")
def open_obligations_for_role(sender, *, role: Role, **kwargs) -> None:
    """A new role owes every code already in force for it."""
    obligations_open_for_roles(roles=[role])


@receiver(roles_started, dispatch_uid="acknowledgements.open_obligations_for_roles")
def open_obligations_for_roles(sender, *, roles: list[Role], **kwargs) -> None:
    """Roles started together (a roster sync) owe what each would alone, opened in one pass."""
    obligations_open_for_roles(roles=roles)


@receiver(roles_ended, dispatch_uid="acknowledgements.close_obligations_for_roles")
def close_obligations_for_roles(sender, *, roles: list[Role], **kwargs) -> None:
    """Leavers owe nothing after their last day; a code another of their roles requires carries over to it."""
    obligations_close_for_roles(roles=roles)
