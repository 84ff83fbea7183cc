"""The directory's table rows, written in Python: fifty people a page, each with up to four roles, cost about as
much through template tags (some 1,300 variable lookups and 50 ``{% url %}`` calls a page) as the page's queries.
The markup is what ``people/directory.html`` wrote before; ``people/tests/test_directory.py`` reads it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from conduct.models import Role
from people.selectors import DirectoryRow

register = template.Library()

SHOWN_ROLES = 4
DAY = "j M Y"
_PK_MARK = "999999999"  # the person's id in a URL reversed once per page


def _role(role: Role, today: date) -> SafeString:
    ended = (
        format_html(' <span class="text-body-secondary">(ended {})</span>', date_format(role.ends_on, DAY))
        if role.ends_on and role.ends_on < today
        else ""
    )
    title = format_html(" ({})", role.title) if role.title else ""
    return format_html("<li>{}{}, {}{}</li>", role.get_kind_display(), title, role.organisation.name, ended)


def _roles(roles: list[Role], today: date) -> SafeString:
    items = SafeString("".join(_role(role, today) for role in roles[:SHOWN_ROLES]))
    more = len(roles) - SHOWN_ROLES
    if more > 0:
        items = format_html('{}<li class="text-body-secondary">and {} more</li>', items, more)
    return format_html('<ul class="list-unstyled mb-0 small">{}</ul>', items)


_INVITATION = {
    "accepted": SafeString("Accepted"),
    "pending": SafeString("Not yet accepted"),
    "": SafeString('<span class="text-body-secondary">Not invited</span>'),
}


def _row(row: DirectoryRow, person_url: str, today: date) -> SafeString:
    person = row.person
    deactivated = "" if person.is_active else SafeString(' <span class="badge text-bg-secondary">Deactivated</span>')
    overdue = (
        format_html('<span class="badge text-bg-danger">{} overdue</span>', row.overdue)
        if row.overdue
        else SafeString('<span class="visually-hidden">None</span>')
    )
    signed_in = (
        date_format(timezone.localtime(person.last_login), DAY)
        if person.last_login
        else SafeString('<span class="text-body-secondary">Never</span>')
    )
    return format_html(
        '<tr><th scope="row" class="fw-normal"><a href="{}">{}</a><br>'
        '<small class="text-body-secondary text-break">{}</small>{}</th>'
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        person_url.replace(_PK_MARK, str(person.pk)),
        person.full_name,
        person.email,
        deactivated,
        _roles(row.roles, today),
        overdue,
        _INVITATION[row.invitation],
        signed_in,
    )


@register.simple_tag
def directory_table_rows(rows: Iterable[DirectoryRow], today: date) -> SafeString:
    person_url = reverse("people:person", args=[_PK_MARK])
    return format_html_join("\n", "{}", ((_row(row, person_url, today),) for row in rows))
