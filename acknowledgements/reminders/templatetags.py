"""``{% load reminders %}``: registered in settings (TEMPLATES libraries), used by the navigation."""

from django import template

from conduct.permissions import GRANTS, Action, grants_for

register = template.Library()


@register.filter
def manages_reminders(user) -> bool:
    """Whether to show the Reminders link: from the grants already cached on the user, no query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    allowed = GRANTS[Action.MANAGE_REMINDERS]
    return user.is_superuser or any(grant.kind in allowed for grant in grants_for(user))
