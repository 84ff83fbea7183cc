"""Two-factor authentication for officers, when the deployment requires it.

With ``REQUIRE_MFA_FOR_OFFICERS`` on, a signed-in admin, chair or clerk (or
platform operator) who has no authenticator app is sent to set one up before
any other page: their pages reach other people's records. Account pages (to set
it up, or sign out), static files and the public verification page stay open.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from conduct.permissions import is_officer

ALWAYS_OPEN = ("/accounts/", "/static/", "/verify/")


def has_authenticator(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class OfficerMfaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_set_up(request):
            messages.warning(
                request,
                "Your organisation requires officers (admins, chairs and clerks) to use an authenticator app. "
                "Set one up to continue.",
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _must_set_up(request: HttpRequest) -> bool:
        if not getattr(settings, "REQUIRE_MFA_FOR_OFFICERS", False):
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(ALWAYS_OPEN):
            return False
        return is_officer(user) and not has_authenticator(user)
