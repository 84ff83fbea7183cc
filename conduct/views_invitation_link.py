"""Following an invitation's link: on to allauth's set-password page while the invitation holds."""

from __future__ import annotations

from allauth.account.utils import url_str_to_user_pk
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from conduct.accounts import invitation_token_generator, password_reset_path
from conduct.models import Person


@require_safe
def invitation_link(request: HttpRequest, uidb36: str, key: str) -> HttpResponse:
    try:
        person = Person.objects.filter(pk=url_str_to_user_pk(uidb36), is_active=True).first()
    except (ValueError, OverflowError):
        person = None
    if person is None or not invitation_token_generator.check_token(person, key):
        return render(request, "account/invitation_link_invalid.html", status=400)
    return redirect(password_reset_path(person))
