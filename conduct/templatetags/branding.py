"""``{% load branding %}``: a trust's branding in emails and PDFs, which have no request (pages use the
context processor's ``branding`` and the per-trust style sheet instead).

``{% trust_branding organisation as brand %}`` finds the branding of the organisation's trust (the top of
its tree), without the logo's bytes; ``{{ brand|logo_data_uri }}`` reads them for a PDF, which embeds the
picture rather than fetching it. Emails link the logo by its public address (``SITE_URL``).
"""

from __future__ import annotations

import base64

from django import template

from conduct.models import Branding, Organisation, Person, root_id
from conduct.permissions import can_change_branding

register = template.Library()


@register.simple_tag
def trust_branding(organisation: Organisation | None) -> Branding | None:
    if not isinstance(organisation, Organisation) or not organisation.path:
        return None
    return (
        Branding.objects.filter(organisation_id=root_id(organisation.path))
        .select_related("organisation")
        .defer("logo")
        .first()
    )


@register.filter
def logo_data_uri(branding: Branding | None) -> str:
    if branding is None or not branding.logo_sha256:
        return ""
    data = Branding.objects.filter(pk=branding.pk).values_list("logo", flat=True).first()
    if not data:
        return ""
    return f"data:{branding.logo_type};base64,{base64.b64encode(bytes(data)).decode('ascii')}"


@register.filter
def may_brand(user: Person, organisation: Organisation) -> bool:
    """Whether to offer the Branding link (``can_change_branding``, from the cached grants: no query)."""
    return isinstance(user, Person) and can_change_branding(user, organisation)
