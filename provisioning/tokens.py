"""Provisioning tokens: created and revoked by an organisation's admins, used by identity providers for SCIM.

The secret is 256 bits from ``secrets`` and is shown once; only its SHA-256 is stored (a hash of a
high-entropy secret needs no slow key derivation), so a stolen database reveals no usable token.
A token acts for its organisation and everything below it, until revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from conduct.audit import audit_log_record
from conduct.models import AuditAction, Organisation, Person
from conduct.permissions import can_manage_provisioning
from provisioning.models import ProvisioningToken

TOKEN_PREFIX = "cct_"
# Recording the last use on every request would write a row per SCIM call; once a minute is enough to show it.
LAST_USE_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ProvisioningToken
    secret: str  # shown to the admin once, never stored


@transaction.atomic
def token_create(*, actor: Person, organisation: Organisation, name: str) -> NewToken:
    """A new token for ``organisation`` (and below); the secret is returned once."""
    if not can_manage_provisioning(actor, organisation):
        raise PermissionDenied(f"Only an admin of {organisation.name} can create provisioning tokens.")
    name = " ".join((name or "").split())
    limit = ProvisioningToken._meta.get_field("name").max_length or 100
    if not name:
        raise ValidationError({"name": "Say what the token is for, e.g. “Entra ID provisioning”."})
    if len(name) > limit:
        raise ValidationError({"name": f"Use at most {limit} characters (this has {len(name)})."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ProvisioningToken.objects.create(
        organisation=organisation, name=name, prefix=secret[:10], secret_hash=_hash(secret), created_by=actor
    )
    audit_log_record(
        actor=actor,
        action=AuditAction.TOKEN_CREATED,
        organisation=organisation,
        target=token,
        summary=f"Provisioning token “{name}” ({token.prefix}…) created for {organisation.name}",
        details={"before": {}, "after": {"name": name, "prefix": token.prefix}},
    )
    return NewToken(token=token, secret=secret)


@transaction.atomic
def token_revoke(*, actor: Person, token: ProvisioningToken) -> ProvisioningToken:
    """Revoke a token at once; a second revocation (another tab) changes nothing."""
    if not can_manage_provisioning(actor, token.organisation):
        raise PermissionDenied(f"Only an admin of {token.organisation.name} can revoke its tokens.")
    now = timezone.now()
    revoked = ProvisioningToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor
    )
    token.refresh_from_db()
    if revoked:
        audit_log_record(
            actor=actor,
            action=AuditAction.TOKEN_REVOKED,
            organisation=token.organisation,
            target=token,
            summary=f"Provisioning token “{token.name}” ({token.prefix}…) revoked",
            details={"before": {"revoked_at": None}, "after": {"revoked_at": now}},
        )
    return token


def token_authenticate(secret: str) -> ProvisioningToken | None:
    """The active token with this secret (its last use recorded), or None."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        ProvisioningToken.objects.select_related("organisation")
        .filter(secret_hash=_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or (
        token.organisation.closed_on is not None and token.organisation.closed_on <= timezone.localdate()
    ):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_RESOLUTION:
        ProvisioningToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USE_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
