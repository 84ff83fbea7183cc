"""Where a request came from and how its user had proved who they are.

Stored with evidence (signatures, adoptions, paper records), so the same address is
always spelt the same way and a hash made from the request equals one made later
from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.ipv6 import clean_ipv6_address

MAX_USER_AGENT = 1000


class AuthMethod(models.TextChoices):
    PASSWORD = "password", "Password"
    EMAILED_CODE = "code", "Code sent by email"
    EMAILED_LINK = "link", "Link sent by email (invitation or password reset)"
    SSO = "sso", "Single sign-on"
    ON_BEHALF = "on_behalf", "Recorded on the person's behalf"
    # A session with no record of how it began (e.g. one that predates the records): said plainly, never guessed.
    UNRECORDED = "unrecorded", "Not recorded"


@dataclass(frozen=True)
class RequestMeta:
    """Where a signature came from and how the signer had proved who they are."""

    ip_address: str | None = None
    user_agent: str = ""
    auth_method: str = AuthMethod.UNRECORDED
    auth_provider: str = ""
    mfa_used: bool = False

    @classmethod
    def from_request(cls, request: HttpRequest) -> RequestMeta:
        method, provider, mfa = authentication_from_request(request)
        return cls(
            ip_address=client_ip(request),
            user_agent=clean_user_agent(request.META.get("HTTP_USER_AGENT", "")),
            auth_method=method,
            auth_provider=provider,
            mfa_used=mfa,
        )


def normalise_ip(value: str | None) -> str | None:
    """One spelling per address, so a hash made from the request equals one made from the database.

    PostgreSQL's ``inet`` prints IPv6 in its compressed form; Django's cleaner gives the
    same form (keeping IPv4-mapped addresses readable), applied on both sides.
    """
    if not value:
        return None
    value = str(value).strip()
    if ":" in value:
        try:
            return clean_ipv6_address(value)
        except Exception:  # noqa: BLE001 - a malformed header is "no address", never an error page
            return None
    parts = value.split(".")
    if len(parts) == 4 and all(part.isdigit() and 0 <= int(part) <= 255 for part in parts):
        return ".".join(str(int(part)) for part in parts)
    return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` proxies the address they saw.

    Only the entries the trusted proxies appended are believed (counted from the
    right of X-Forwarded-For); anything to their left is whatever the client sent.
    """
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return normalise_ip(forwarded[-proxies])
    return normalise_ip(request.META.get("REMOTE_ADDR"))


def clean_user_agent(value: str) -> str:
    # PostgreSQL text cannot hold NUL; very long headers are cut, not refused.
    return value.replace("\x00", "")[:MAX_USER_AGENT]


FIRST_FACTORS = {
    "password": AuthMethod.PASSWORD,
    "code": AuthMethod.EMAILED_CODE,
    "password_reset": AuthMethod.EMAILED_LINK,
    "socialaccount": AuthMethod.SSO,
}


def authentication_from_records(records: Iterable[dict]) -> tuple[str, str, bool]:
    """(method, SSO provider, MFA used) from allauth's authentication records for the session.

    The latest first factor wins (a re-authentication by password after signing
    in by code means the person has just typed their password).
    """
    method, provider, mfa = AuthMethod.UNRECORDED, "", False
    for record in records:
        kind = record.get("method")
        if kind == "mfa":
            mfa = True
        elif kind in FIRST_FACTORS:
            method = FIRST_FACTORS[kind]
            provider = str(record.get("provider", "")) if kind == "socialaccount" else ""
    return method, provider, mfa


def authentication_from_request(request: HttpRequest) -> tuple[str, str, bool]:
    # Imported here: models import this module (for AuthMethod) before allauth's may be loaded.
    from allauth.account.authentication import get_authentication_records

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return AuthMethod.UNRECORDED, "", False
    return authentication_from_records(get_authentication_records(request, user))


# The address of the request being served, for records written deep inside services (the officers'
# audit log) without every service taking the request. Empty outside a request (tasks, commands).
_current_client_ip: ContextVar[str | None] = ContextVar("current_client_ip", default=None)


def current_client_ip() -> str | None:
    """The client address of the request this thread is serving, or None outside a request."""
    return _current_client_ip.get()


class ClientAddressMiddleware:
    """Makes ``client_ip(request)`` available to services through ``current_client_ip()`` for one request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_client_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _current_client_ip.reset(token)
