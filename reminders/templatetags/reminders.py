"""``{% load reminders %}``, used by the navigation."""

from django import template

from conduct import permissions

register = template.Library()


@register.filter
def manages_reminders(user) -> bool:
    """Whether to show the Reminders link: from the grants already cached on the user, no query."""
    return permissions.manages_reminders(user)
