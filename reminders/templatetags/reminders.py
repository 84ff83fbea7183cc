"""``{% load reminders %}``, used by the navigation."""

from django import template

from conduct.permissions import Action, may_somewhere

register = template.Library()


@register.filter
def manages_reminders(user) -> bool:
    """Whether to show the Reminders link: from the grants already cached on the user, no query."""
    return may_somewhere(user, Action.MANAGE_REMINDERS)
