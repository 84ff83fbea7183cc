"""What the person's page (people) offers from privacy: the erasure and legal hold links, to whom may use them."""

from __future__ import annotations

from django import template

from conduct.models import Person
from conduct.permissions import can_erase_person
from privacy.erasure import is_erased, open_hold

register = template.Library()


@register.inclusion_tag("privacy/_person_links.html")
def privacy_links(user: Person, person: Person) -> dict[str, object]:
    """The "Erase personal data" and "Legal hold" buttons, shown only when ``can_erase_person`` allows."""
    allowed = isinstance(person, Person) and can_erase_person(user, person)
    erased = allowed and is_erased(person)
    return {
        "person": person,
        "allowed": allowed and not erased,
        "hold": open_hold(person) if allowed and not erased else None,
    }
