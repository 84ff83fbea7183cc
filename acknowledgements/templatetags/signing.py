"""Template helpers for the signing pages and the navigation."""

from django import template

from conduct.permissions import Action, organisations_for

register = template.Library()


@register.filter
def manages_people(user) -> bool:
    """May invite or import people somewhere (admins and clerks)."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_manages_people", None)
    if cached is None:
        cached = user._manages_people = organisations_for(user, Action.MANAGE_PEOPLE).exists()
    return cached


@register.filter
def records_on_behalf(user) -> bool:
    """May record paper signatures somewhere (admins and clerks)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return organisations_for(user, Action.RECORD_ON_BEHALF).exists()


PEOPLE_PAGES = frozenset(
    f"acknowledgements:{name}"
    for name in ("invitations", "invite", "import", "paper", "record_paper", "invitation_resend")
)


@register.filter
def is_people_page(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and match.view_name in PEOPLE_PAGES)
