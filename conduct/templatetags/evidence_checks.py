"""``{% load evidence_checks %}{% evidence_check_panel request.user %}``: the last evidence check, for admins."""

from django import template

from conduct import permissions
from conduct.models import Person
from core.models import IntegrityCheck

register = template.Library()


@register.inclusion_tag("conduct/_evidence_check.html")
def evidence_check_panel(user: Person) -> dict:
    """The result of the last ``verify_evidence`` run (one query), or nothing for those who may not see it."""
    if not permissions.can_see_evidence_checks(user):
        return {"show": False}
    return {
        "show": True,
        "check": IntegrityCheck.objects.order_by("-started_at", "-pk").first(),
        "show_items": permissions.can_see_evidence_check_items(user),
    }
