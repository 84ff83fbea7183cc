"""The reports' filter fields (``reports/_filter_fields.html``, ``quick_field`` and ``QuickSelect``) write what
crispy's layout of two rows wrote, unbound, with a version chosen and with errors."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django.template import Context, Template
from django.template.loader import render_to_string

from core.tests.test_quick_fields import normalised
from reports.filters import report_filters_resolve
from reports.selectors import today

pytestmark = pytest.mark.django_db

LAYOUT = Layout(
    Row(
        Column("organisation", css_class="col-md-4"),
        Column("code", css_class="col-md-4"),
        Column("version", css_class="col-md-4"),
    ),
    Row(
        Column("school", css_class="col-md-3"),
        Column("role", css_class="col-md-3"),
        Column("status", css_class="col-md-3"),
        Column("as_at", css_class="col-md-3"),
    ),
)


def crispy_layout(form) -> str:
    helper = FormHelper()
    helper.form_tag, helper.disable_csrf, helper.layout = False, True, LAYOUT
    # Help and errors as ``as_crispy_field`` (and so ``quick_field``, everywhere else in the product) writes them:
    # in a <div> and paragraphs, not inline spans. crispy's two setters each turn the other on, hence the fields.
    helper._help_text_inline = helper._error_text_inline = False
    return Template("{% load crispy_forms_tags %}{% crispy form helper %}").render(
        Context({"form": form, "helper": helper})
    )


def same_markup(html: str) -> str:
    """``normalised``, and a class attribute's spaces at its ends dropped (crispy's Row writes ``"row "``)."""
    return re.sub(r'class="\s*([^"]*?)\s*"', r'class="\1"', normalised(html))


def _params(oak, **extra) -> dict[str, str]:
    return {"organisation": str(oak.orgs["trust"].pk), **extra}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"status": "overdue", "role": "employee"},
        {"as_at": "31/02/2026"},  # not a day
        {"as_at": (today() + timedelta(days=3)).isoformat()},  # the future: the form's own message
    ],
    ids=["first visit", "chosen", "not a day", "in the future"],
)
def test_the_filter_fields_are_crispys_layout(oak, extra):
    params = _params(oak, version=str(oak.version.pk), **extra)
    form = report_filters_resolve(oak.admin, params).form
    ours = render_to_string("reports/_filter_fields.html", {"form": form})
    assert same_markup(ours) == same_markup(crispy_layout(form))
    assert 'name="version"' in ours and "<optgroup" in ours and "selected" in ours
    if "as_at" in extra:
        assert "is-invalid" in ours and str(form.errors["as_at"][0]) in ours
