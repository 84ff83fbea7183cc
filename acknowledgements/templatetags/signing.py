"""Template helpers for the signing pages and the navigation."""

from django import template
from django.http import HttpRequest

from conduct import permissions

register = template.Library()


@register.filter
def manages_people(user) -> bool:
    """May invite or import people somewhere (admins and clerks): from the grants cached on the user, no query."""
    return permissions.manages_people(user)


@register.filter
def records_on_behalf(user) -> bool:
    """May record paper signatures somewhere (admins and clerks): from the grants cached on the user, no query."""
    return permissions.records_paper_signatures(user)


PEOPLE_PAGES = frozenset(
    f"acknowledgements:{name}"
    for name in ("invitations", "invite", "import", "paper", "record_paper", "invitation_resend")
)


@register.filter
def is_people_page(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    # The people directory and everything under it (the people app) count as people pages too.
    return bool(match and (match.view_name in PEOPLE_PAGES or match.namespace == "people"))
