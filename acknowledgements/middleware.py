"""Two-factor authentication for officers, when the deployment requires it.

With ``REQUIRE_MFA_FOR_OFFICERS`` on, a signed-in admin, chair or clerk, a
platform operator or anyone with access to the Django admin must have used an
authenticator app in this session before any other page (the officers' pages
and the admin reach other people's records):

- without an authenticator app, they are sent to set one up;
- with one, but a session that did not use it (allauth's authentication
  records for the session hold no "mfa" entry: a session begun before the app
  was set up, or by any path that skipped the second step), they are asked for
  a code from it (allauth's re-authentication page), then come back.

Account pages (to set it up, give the code, or sign out), static files and the
public verification page stay open.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from conduct.permissions import is_officer
from core.request_meta import authentication_from_request

ALWAYS_OPEN = ("/accounts/", "/static/", "/verify/")


def has_authenticator(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def mfa_used_in_session(request: HttpRequest) -> bool:
    """Whether the signed-in user gave a second factor in this session (allauth's authentication records)."""
    return authentication_from_request(request)[2]


class OfficerMfaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._applies(request):
            if not has_authenticator(request.user):
                messages.warning(
                    request,
                    "Your organisation requires officers (admins, chairs and clerks) to use an authenticator app. "
                    "Set one up to continue.",
                )
                return redirect(reverse("mfa_activate_totp"))
            if not mfa_used_in_session(request):
                messages.info(request, "Give a code from your authenticator app to continue.")
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('mfa_reauthenticate')}?{query}")
        return self.get_response(request)

    @staticmethod
    def _applies(request: HttpRequest) -> bool:
        if not getattr(settings, "REQUIRE_MFA_FOR_OFFICERS", False):
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(ALWAYS_OPEN):
            return False
        return bool(user.is_staff) or is_officer(user)
