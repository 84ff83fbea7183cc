"""allauth adapters: accounts are created by invitation only."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from core.request_meta import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People are invited by an admin; nobody creates their own account.
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address rate limits count by: the same one the evidence records (TRUSTED_PROXY_COUNT).

        allauth's own reading raises ImproperlyConfigured (a 500) when X-Forwarded-For is shorter than the
        proxy count; ours falls back to the connecting address, as the evidence does.
        """
        address = client_ip(request)
        if not address:
            raise PermissionDenied("Unable to determine the client's address.")
        return address


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin) -> bool:
        # Microsoft or Google sign-in connects to an existing invited account (matched by email), never creates one.
        return False
