"""The report pages' links (``reports_tags``): the same addresses as Django's reverse and urlencode give, with the
path reversed once and each pair encoded once."""

from __future__ import annotations

from django.urls import reverse, set_script_prefix
from django.utils.http import urlencode

from reports.templatetags.reports_tags import drill_url, export_url, with_params

PARAMS = {
    "organisation": "12",
    "code": "",
    "version": "7",
    "school": "none",
    "role": "local_governor",
    "status": "overdue",
    "as_at": "2026-12-02",
    "page": "3",
    "q": "Ünïcode & <odd> = ?%+",
}


def _expected_drill(params: dict, key: str = "", value: str = "", status: str = "") -> str:
    query = {name: val for name, val in params.items() if name not in ("status", "page")}
    if key:
        query[key] = value
    if status:
        query["status"] = status
    return f"{reverse('reports:people')}?{urlencode(query)}"


def test_drill_links_are_what_reverse_and_urlencode_write():
    for key, value, status in [("", "", ""), ("school", "41", "signed"), ("role", "employee", ""), ("new", "a b", "x")]:
        assert drill_url(PARAMS, key, value, status) == _expected_drill(PARAMS, key, value, status)
    assert drill_url({}, "", "", "") == f"{reverse('reports:people')}?"


def test_export_and_filter_links_are_what_reverse_and_urlencode_write():
    kept = {name: val for name, val in PARAMS.items() if name != "page"}
    assert (
        export_url(PARAMS, "schools", "csv")
        == f"{reverse('reports:export', args=['schools', 'csv'])}?{urlencode(kept)}"
    )
    assert with_params("reports:dashboard", PARAMS) == f"{reverse('reports:dashboard')}?{urlencode(kept)}"
    assert with_params("reports:dashboard", {"page": "2"}) == reverse("reports:dashboard")


def test_a_link_follows_the_script_prefix_it_is_written_under():
    try:
        set_script_prefix("/conduct/")
        assert drill_url(PARAMS).startswith("/conduct/")
    finally:
        set_script_prefix("/")
    assert drill_url(PARAMS).startswith(reverse("reports:people"))
