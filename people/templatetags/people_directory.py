"""The directory's table rows, written in Python: fifty people a page, each with up to four roles, cost about as
much through template tags (some 1,300 variable lookups and 50 ``{% url %}`` calls a page) as the page's queries.
The markup is what ``people/directory.html`` wrote before (``people/tests/test_directory_table.py`` compares)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString

from conduct.models import Role, role_label
from people.selectors import DirectoryRow

register = template.Library()

SHOWN_ROLES = 4
DAY = "j M Y"
_PK_MARK = "999999999"  # the person's id in a URL reversed once per page


def _e(text: object) -> str:
    """Django's ``escape`` without its lazy-string wrapper (the same ``html.escape``), for a few thousand calls."""
    return html.escape(str(text))


def _role(role: Role, today: date) -> str:
    ended = (
        f' <span class="text-body-secondary">(ended {_e(date_format(role.ends_on, DAY))})</span>'
        if role.ends_on and role.ends_on < today
        else ""
    )
    title = f" ({_e(role.title)})" if role.title else ""
    return f"<li>{_e(role_label(role.kind))}{title}, {_e(role.organisation.name)}{ended}</li>"


def _roles(roles: list[Role], today: date) -> str:
    items = "".join(_role(role, today) for role in roles[:SHOWN_ROLES])
    more = len(roles) - SHOWN_ROLES
    if more > 0:
        items += f'<li class="text-body-secondary">and {more} more</li>'
    return f'<ul class="list-unstyled mb-0 small">{items}</ul>'


_INVITATION = {
    "accepted": "Accepted",
    "pending": "Not yet accepted",
    "": '<span class="text-body-secondary">Not invited</span>',
}


def _row(row: DirectoryRow, person_url: str, today: date) -> str:
    person = row.person
    deactivated = "" if person.is_active else ' <span class="badge text-bg-secondary">Deactivated</span>'
    overdue = (
        f'<span class="badge text-bg-danger">{row.overdue} overdue</span>'
        if row.overdue
        else '<span class="visually-hidden">None</span>'
    )
    signed_in = (
        _e(date_format(timezone.localtime(person.last_login), DAY))
        if person.last_login
        else '<span class="text-body-secondary">Never</span>'
    )
    url = _e(person_url.replace(_PK_MARK, str(person.pk)))
    return (
        f'<tr><th scope="row" class="fw-normal"><a href="{url}">{_e(person.full_name)}</a><br>'
        f'<small class="text-body-secondary text-break">{_e(person.email)}</small>{deactivated}</th>'
        f"<td>{_roles(row.roles, today)}</td><td>{overdue}</td><td>{_INVITATION[row.invitation]}</td>"
        f"<td>{signed_in}</td></tr>"
    )


@register.simple_tag
def directory_table_rows(rows: Iterable[DirectoryRow], today: date) -> SafeString:
    person_url = reverse("people:person", args=[_PK_MARK])
    # Every value above went through _e; the markup around them is this module's own.
    return SafeString("\n".join(_row(row, person_url, today) for row in rows))
