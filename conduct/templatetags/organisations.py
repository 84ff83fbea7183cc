"""``{% load organisations %}``, used by the navigation."""

from django import template
from django.http import HttpRequest

from conduct import permissions
from conduct.models import Person

register = template.Library()


@register.filter
def manages_organisations(user: Person) -> bool:
    """Whether to show the Organisations link (admins): from the grants already cached on the user, no query."""
    return permissions.manages_organisations(user)


ORGANISATION_PAGES = frozenset(
    f"conduct:{name}"
    for name in (
        "organisations",
        "organisation_add",
        "organisation_rename",
        "organisation_move",
        "organisation_close",
        "network_members",
        "network_invite",
        "membership_end",
        "audit_log",
    )
)


@register.filter
def is_organisations_page(request: HttpRequest) -> bool:
    """Whether the page belongs to the Organisations menu (so that Governance, also in conduct, is not marked)."""
    match = getattr(request, "resolver_match", None)
    return bool(match and match.view_name in ORGANISATION_PAGES)
