"""How acknowledgements reacts to what conduct announces (``conduct.signals``).

Each receiver runs inside the sender's transaction: if opening the signing round
fails, the adoption or role is not saved either.
"""

from __future__ import annotations

from datetime import datetime

from django.dispatch import receiver

from acknowledgements.events import event_adopted
from acknowledgements.leavers import obligations_close_for_role
from acknowledgements.obligations import obligations_open_for_adoption, obligations_open_for_role
from acknowledgements.tasks import issue_adoption_certificate
from conduct.models import Adoption, Role
from conduct.signals import adoption_recorded, role_ended, role_started
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
    obligations_open_for_role(role=role)


@receiver(role_ended, dispatch_uid="acknowledgements.close_obligations_for_role")
def close_obligations_for_role(sender, *, role: Role, **kwargs) -> None:
    """A leaver owes nothing after their last day; a code another of their roles requires carries over to it."""
    obligations_close_for_role(role=role)
