"""Authentication backends that read the signed-in user together with their header's branding.

Every signed-in page shows the viewer's trust's name and logo; reading them in the same statement as the user
(which the session middleware reads anyway) saves every page a query, with nothing cached to go stale. Only
``get_user`` differs from the backends they extend: signing in is theirs, unchanged.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.backends import ModelBackend

from conduct.branding import signed_in_user
from conduct.models import Person


class _UserWithBranding:
    def get_user(self, user_id: int) -> Person | None:
        user = signed_in_user(user_id)
        if user is None or not self.user_can_authenticate(user):  # type: ignore[attr-defined]
            return None
        return user


class ModelBackendWithBranding(_UserWithBranding, ModelBackend):
    """Django's password backend (the admin, tests' force_login)."""


class AllauthBackendWithBranding(_UserWithBranding, AuthenticationBackend):
    """allauth's backend (email sign-in, rate limits, social accounts)."""
