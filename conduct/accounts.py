"""Links that let a person set their password: the one way both invitations and the first-run command make them."""

from __future__ import annotations

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.urls import reverse

from conduct.models import Person
from core.site import absolute_url


def set_password_url(person: Person) -> str:
    """allauth's password-reset-from-key address for the person, made with allauth's token generator.

    Single use (setting the password spends it) and valid for PASSWORD_RESET_TIMEOUT.
    """
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(person), "key": default_token_generator.make_token(person)},
    )
    return absolute_url(path)
