"""``quick_field`` writes what ``as_crispy_field`` writes (whitespace between and inside tags aside), field by field,
for every plain widget, unbound and bound with errors; other widgets are crispy's own output."""

from __future__ import annotations

import re

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.template import Context, Template

from core.templatetags.quick_fields import is_plain, quick_field


class ClassedSelect(forms.Select):
    """A Select subclass with a class of its own (as the people pages' QuickSelect)."""


class Everything(forms.Form):
    name = forms.CharField(label="Full name", max_length=20, help_text="As it should <em>appear</em>.")
    email = forms.EmailField(label="Email & address", required=False)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    count = forms.IntegerField(required=False, min_value=0)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    secret = forms.CharField(required=False, widget=forms.PasswordInput)
    kind = forms.ChoiceField(choices=[("", "Any"), ("a", "A <b>"), ("b", "B")], required=False)
    sort = forms.ChoiceField(choices=[("x", "X"), ("y", "Y")], widget=ClassedSelect(attrs={"class": "wide"}))
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")], required=False)
    agree = forms.BooleanField(label="I agree", help_text="Tick to agree.")
    overdue = forms.BooleanField(label="Owes something overdue", required=False)
    placeholder = forms.CharField(required=False, widget=forms.TextInput(attrs={"class": "textinput", "size": 5}))
    unlabelled = forms.CharField(label="", required=False)


class NotPlain(forms.Form):
    upload = forms.FileField(required=False)
    choice = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    ticks = forms.MultipleChoiceField(choices=[("a", "A")], widget=forms.CheckboxSelectMultiple, required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)


def normalised(html: str) -> str:
    return re.sub(r"\s*(<|>)\s*", r"\1", re.sub(r"\s+", " ", str(html))).strip()


BAD = {
    "name": "x" * 21,
    "email": "not an email",
    "day": "31/02/2026",
    "count": "-1",
    "kind": "zzz",
    "sort": "q",
    "many": ["c"],
    "overdue": "on",
}


@pytest.mark.parametrize("data", [None, BAD], ids=["unbound", "bound with errors"])
@pytest.mark.parametrize("name", list(Everything.base_fields))
def test_a_plain_field_is_written_as_crispy_writes_it(name, data):
    mine, crispys = Everything(data), Everything(data)
    field = mine[name]
    assert is_plain(field)
    ours = quick_field(field)
    assert normalised(ours) == normalised(as_crispy_field(crispys[name]))
    if data is not None and name in ("name", "email", "kind", "agree"):
        assert "is-invalid" in ours and 'class="invalid-feedback"' in ours  # the test really saw errors


def test_errors_and_labels_are_escaped():
    form = Everything({"kind": "<script>"})
    html = quick_field(form["kind"]) + quick_field(form["email"])
    assert "<script>" not in html and "Email &amp; address" in html
    assert 'aria-invalid="true"' in quick_field(form["kind"])


@pytest.mark.parametrize("name", list(NotPlain.base_fields))
def test_other_widgets_are_crispys_own(name):
    field = NotPlain()[name]
    assert not is_plain(field)
    assert quick_field(field) == as_crispy_field(NotPlain()[name])


def test_the_filter_is_available_in_templates():
    rendered = Template("{% load quick_fields %}{{ form.name|quick_field }}").render(Context({"form": Everything()}))
    assert 'id="div_id_name"' in rendered and 'id="id_name_helptext"' in rendered
