"""Template helpers for report pages: drill-down links that keep the current filters."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from reports.exports import body_label
from reports.selectors import NO_SCHOOL

register = template.Library()


@register.simple_tag
def drill_url(params: dict, key: str = "", value: str = "", status: str = "") -> str:
    """The people list for the current filters, narrowed to one row (school or role) and one status."""
    query = {name: val for name, val in params.items() if name not in ("status", "page")}
    if key:
        query[key] = value
    if status:
        query["status"] = status
    return f"{reverse('reports:people')}?{urlencode(query)}"


@register.simple_tag
def export_url(params: dict, table: str, fmt: str) -> str:
    """A table's export in one format, for the current filters."""
    query = {name: val for name, val in params.items() if name != "page"}
    return f"{reverse('reports:export', args=[table, fmt])}?{urlencode(query)}"


@register.simple_tag
def with_params(url_name: str, params: dict) -> str:
    query = {name: val for name, val in params.items() if name != "page"}
    return f"{reverse(url_name)}?{urlencode(query)}" if query else reverse(url_name)


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
