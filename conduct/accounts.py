"""Links that let a person set their password: the one way both invitations and the first-run command make them.

An invitation's link lives for INVITATION_LINK_TIMEOUT (a week by default: an invitation sent on a Friday
survives a half-term break), a password reset's for PASSWORD_RESET_TIMEOUT (an hour): two lifetimes, so the
link a stranger can ask to be emailed ("Forgotten your password?") is not as long-lived as an invitation.
The invitation link is our own (``/accounts/invitation/<uid>/<key>/``, signed with its own salt); following
it while valid mints a fresh, hour-long allauth reset key and hands over to allauth's set-password page,
which sets the password, proves the address and signs the person in. Either link stops working once the
password is set (the token covers the password hash) or the address changes.
"""

from __future__ import annotations

from allauth.account.forms import EmailAwarePasswordResetTokenGenerator, default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int

from conduct.models import Person
from core.site import absolute_url


class InvitationTokenGenerator(EmailAwarePasswordResetTokenGenerator):
    """allauth's token (password hash, last sign-in, addresses) with its own salt and lifetime."""

    key_salt = "conduct.accounts.InvitationTokenGenerator"

    def check_token(self, user, token) -> bool:
        if not (user and token):
            return False
        try:
            timestamp_b36, _ = token.split("-")
            timestamp = base36_to_int(timestamp_b36)
        except ValueError:
            return False
        secrets = [self.secret, *self.secret_fallbacks]
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token) for secret in secrets
        ):
            return False
        return (self._num_seconds(self._now()) - timestamp) <= settings.INVITATION_LINK_TIMEOUT


invitation_token_generator = InvitationTokenGenerator()


def set_password_url(person: Person) -> str:
    """The invitation's set-password link for the person: single use, valid for INVITATION_LINK_TIMEOUT."""
    path = reverse(
        "invitation_link",
        kwargs={"uidb36": user_pk_to_url_str(person), "key": invitation_token_generator.make_token(person)},
    )
    return absolute_url(path)


def password_reset_path(person: Person) -> str:
    """A fresh allauth set-password address (valid for PASSWORD_RESET_TIMEOUT), for someone whose invitation holds."""
    return reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(person), "key": default_token_generator.make_token(person)},
    )


def invitation_days() -> int:
    """How many days an invitation link lasts, for the emails and the command that print it."""
    return max(1, settings.INVITATION_LINK_TIMEOUT // 86400)
