"""Template helpers for report pages: drill-down links that keep the current filters, and the register's rows."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.formats import date_format, number_format
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from reports.exports import body_label
from reports.register import Entry
from reports.selectors import NO_SCHOOL, Row

register = template.Library()


# A dashboard writes about two hundred of these links: Django's reverse and urlencode for each were a fifth of the
# page's time. The path is reversed once per URL configuration and script prefix, and each name=value pair is
# encoded once; the links are the same strings as before, pair by pair and in the same order.
@lru_cache(maxsize=64)
def _path(name: str, args: tuple[str, ...], prefix: str, urlconf: str) -> str:
    return reverse(name, args=args, urlconf=urlconf)


def _reversed(name: str, *args: str) -> str:
    return _path(name, args, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@lru_cache(maxsize=4096)
def _pair(name: str, value: str) -> str:
    return urlencode({name: value})


def _query(query: dict) -> str:
    return "&".join(_pair(str(name), str(value)) for name, value in query.items())


@register.simple_tag
def drill_url(params: dict, key: str = "", value: str = "", status: str = "") -> str:
    """The people list for the current filters, narrowed to one row (school or role) and one status."""
    query = {name: val for name, val in params.items() if name not in ("status", "page")}
    if key:
        query[key] = value
    if status:
        query["status"] = status
    return f"{_reversed('reports:people')}?{_query(query)}"


@register.simple_tag
def export_url(params: dict, table: str, fmt: str) -> str:
    """A table's export in one format, for the current filters."""
    query = {name: val for name, val in params.items() if name != "page"}
    return f"{_reversed('reports:export', table, fmt)}?{_query(query)}"


@register.simple_tag
def with_params(url_name: str, params: dict) -> str:
    query = {name: val for name, val in params.items() if name != "page"}
    return f"{_reversed(url_name)}?{_query(query)}" if query else _reversed(url_name)


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key, []) if mapping else []


@register.filter
def body_name(organisation) -> str:

    return body_label(organisation)


@register.filter
def percent(counts) -> str:
    return "—" if counts.percent is None else f"{counts.percent}%"


@register.filter
def school_label(schools, key: str) -> str:

    return schools.label(None if key == NO_SCHOOL else int(key))


@register.filter
def querystring_prefix(params: dict) -> str:
    """The current filters as a query string ending in '&', ready for '?{{ … }}page=2'."""
    query = urlencode({name: val for name, val in params.items() if name != "page"})
    return f"{query}&" if query else ""


# The register's rows, written in Python: a trust's register lists hundreds of governors, and its template loop
# (about eleven lookups and two date filters a row) was half the page. The markup is the loop's
# (``reports/tests/test_register_rows.py`` keeps it as the reference and compares).
REGISTER_DAY = "j F Y"


def _e(text: object) -> str:
    return html.escape(str(text))


def _day(value: date) -> str:
    return _formatted_day(value, get_language())


@lru_cache(maxsize=4096)
def _formatted_day(value: date, language: str) -> str:
    """A day as the register writes it, in ``language`` (the active one, whose month names ``date_format`` uses):
    formatted once. A register of hundreds of governors writes the same few days (appointments on 1 September,
    declarations in the same week) hundreds of times, and each ``date_format`` costs some 50 µs of lookups."""
    return _e(date_format(value, REGISTER_DAY))


def _interests(entry: Entry) -> str:
    if not entry.interests:
        return _e(entry.declaration_summary)
    items = "".join(
        f'<li class="mb-1"><strong>{_e(interest.business)}</strong> ({_e(interest.business_nature)}): '
        f"{_e(interest.nature)}. From {_day(interest.starts_on)}"
        f"{f' to {_day(interest.ends_on)}' if interest.ends_on else ''}.</li>"
        for interest in entry.interests
    )
    return (
        f'<ul class="list-unstyled mb-0">{items}</ul>'
        f'<small class="text-body-secondary">{_e(entry.declaration_summary)}</small>'
    )


def _register_row(entry: Entry) -> str:
    stepped_down = _day(entry.stepped_down_on) if entry.stepped_down_on else "—"
    return (
        f'<tr><th scope="row" class="fw-normal">{_e(entry.full_name)}</th><td>{_e(entry.category)}</td>'
        f"<td>{_e(entry.appointed_by)}</td><td>{_day(entry.appointed_on)}</td><td>{_e(entry.term_of_office)}</td>"
        f"<td>{stepped_down}</td><td>{_e(entry.role_on_board)}</td><td>{_e(entry.attendance)}</td>"
        f"<td>{_interests(entry)}</td></tr>"
    )


@register.simple_tag
def register_rows(entries: Iterable[Entry]) -> SafeString:
    """A body's rows of the register (``reports/_register_table.html``)."""
    return SafeString("".join(_register_row(entry) for entry in entries))


# The dashboard's tables by school and by role, written in Python: four drill-down links a row, each count
# localised through Django's number formatting, were a fifth of the page. The markup is the template loop's
# (``reports/tests/test_counts_rows.py`` keeps it as the reference and compares).
_COUNT_LINKS: tuple[tuple[str, str, str], ...] = (  # the count, the status it links to, its label's words
    ("owe", "", "people owe"),
    ("signed", "signed", "signed"),
    ("outstanding", "outstanding", "outstanding"),
    ("overdue", "overdue", "overdue"),
)


def _count(counts, name: str) -> str:
    return str(getattr(counts, name))  # whole numbers, as Django writes them without a thousands separator


def _counts_row(row: Row, params: dict, drill_key: str, links: bool) -> str:
    label, counts = _e(row.label), row.counts
    if links:
        cells = "".join(
            f'<td class="text-end"><a href="{_e(drill_url(params, drill_key, row.key, status))}" '
            f'aria-label="{_count(counts, name)} {words}: {label}">{_count(counts, name)}</a></td>'
            for name, status, words in _COUNT_LINKS
        )
    else:
        cells = "".join(f'<td class="text-end">{_count(counts, name)}</td>' for name, _status, _words in _COUNT_LINKS)
    percent = "—" if counts.percent is None else f"{_e(number_format(counts.percent))}%"
    return f'<tr><th scope="row" class="fw-normal">{label}</th>{cells}<td class="text-end">{percent}</td></tr>'


@register.simple_tag(takes_context=True)
def counts_rows(context, rows: Iterable[Row], drill_key: str = "", links: bool = False) -> SafeString:
    """The rows of ``reports/_counts_table.html``: each with its counts and, with ``links``, the drill-down's."""
    params = context.get("params") or {}
    written = [_counts_row(row, params, drill_key, bool(links)) for row in rows]
    if not written:
        return SafeString('<tr><td colspan="6">No one owes a signature for these filters.</td></tr>')
    return SafeString("".join(written))
