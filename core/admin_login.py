"""The Django admin signs in through allauth, like everyone else.

Django's own admin login form checks a password and nothing else: no rate
limit, no second factor. The admin site's login view is replaced by a redirect
to allauth's sign-in page (with ``next``), so the platform operator meets the
same rate limits and authenticator prompt as every officer; the admin's
password form is never served and a POST to it signs no one in.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.admin import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def admin_login_through_allauth(site: AdminSite):
    """A replacement for ``site.login``: send the visitor to allauth's sign-in, then back to the admin."""

    def login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        index = reverse(f"{site.name}:index")
        wanted = request.GET.get(REDIRECT_FIELD_NAME) or request.POST.get(REDIRECT_FIELD_NAME) or index
        if not url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            wanted = index
        if request.user.is_authenticated:
            if site.has_permission(request):
                return redirect(wanted)
            # Signed in, but not staff: sending them to sign in again would come straight back here.
            raise PermissionDenied("Your account cannot use the administration site.")
        return redirect(f"{reverse('account_login')}?{urlencode({REDIRECT_FIELD_NAME: wanted})}")

    return login
