"""allauth signals: following an invitation (or any password-reset) link proves the address."""

from __future__ import annotations

from allauth.account.signals import password_reset, user_logged_in
from django.dispatch import receiver
from django.utils import timezone

from acknowledgements.invitations import invitations_accept
from acknowledgements.models import Invitation


@receiver(password_reset, dispatch_uid="acknowledgements_password_reset_verifies_email")
def password_set_from_emailed_link(sender, request, user, **kwargs) -> None:
    # The link was emailed to this address and used: the address is theirs. This runs before
    # allauth signs them in, so mandatory email verification lets them straight through.
    invitations_accept(person=user)


@receiver(user_logged_in, dispatch_uid="acknowledgements_login_accepts_invitations")
def signed_in(sender, request, user, **kwargs) -> None:
    # Signing in any other way (a code by email, Microsoft or Google) also means they have arrived.
    Invitation.objects.filter(person=user, accepted_at__isnull=True).update(accepted_at=timezone.now())
