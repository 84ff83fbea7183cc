"""``{{ field|quick_field }}``: a form field in crispy-bootstrap5's markup, written in Python.

``as_crispy_field`` renders ``bootstrap5/field.html`` for every field: a template of some forty tags and filters
with its includes, about 1 ms of Python per field. The busiest pages (the people directory's nine filters, the
reading page's signature) spent more on their form fields than on their data. ``quick_field`` writes the same
elements, classes, ids and ARIA attributes for the plain widgets (text-like inputs, text areas, selects and
checkboxes) and hands any other widget (files, radio buttons, multiple checkboxes, multi-widgets, hidden fields)
to ``as_crispy_field``; ``core/tests/test_quick_fields.py`` compares the two, field by field.
"""

from __future__ import annotations

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms, template
from django.conf import settings
from django.forms.boundfield import BoundField
from django.forms.widgets import Input
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_PLAIN = (Input, forms.Textarea, forms.Select, forms.CheckboxInput)
_NOT_PLAIN = (forms.FileInput, forms.HiddenInput, forms.MultipleHiddenInput)


def is_plain(field: BoundField) -> bool:
    """Whether ``quick_field`` writes this field itself (else crispy does)."""
    widget = field.field.widget
    plain = isinstance(widget, _PLAIN) and not isinstance(widget, _NOT_PLAIN) and not widget.use_fieldset
    return plain and bool(field.auto_id)


def _widget_class(field: BoundField, bootstrap: str) -> str:
    """The widget's own classes, its class name in lower case (as crispy adds it) and Bootstrap's."""
    widget = field.field.widget
    name = widget.__class__.__name__.lower()
    name = getattr(settings, "CRISPY_CLASS_CONVERTERS", {}).get(name, name)
    classes = widget.attrs.get("class", "")
    if not classes:
        classes = name
    elif classes.find(name) == -1:  # crispy's test: a substring already there is not added again
        classes += f" {name}"
    wanted = bootstrap.split() + (["is-invalid"] if field.errors else [])
    present = classes.split()
    return " ".join([*present, *(css for css in wanted if css not in present)])


def _label(field: BoundField, css: str) -> SafeString:
    required = field.field.required
    return format_html(
        '<label for="{}" class="{}{}">{}{}</label>',
        field.id_for_label,
        css,
        " requiredField" if required else "",
        field.label,
        mark_safe('<span class="asteriskField">*</span>') if required else "",
    )


def _help_and_errors(field: BoundField) -> SafeString:
    errors = ""
    if field.errors:
        errors = format_html(
            '<div id="{}_error" class="invalid-feedback">{}</div>',
            getattr(field.errors, "field_id", field.auto_id),  # Django 5.2's ErrorList has it; the stubs do not
            format_html_join(
                "",
                '<p id="error_{}_{}"><strong>{}</strong></p>',
                ((number, field.auto_id, error) for number, error in enumerate(field.errors, start=1)),
            ),
        )
    help_text = ""
    if field.help_text:
        help_id = format_html('id="{}_helptext" ', field.auto_id) if field.auto_id else ""
        help_text = format_html('<div {}class="form-text">{}</div>', help_id, mark_safe(field.help_text))
    return format_html("{}{}", errors, help_text)


def _wrapper_classes(field: BoundField, base: str) -> str:
    extra = field.css_classes()
    return f"{base} {extra}" if extra else base


@register.filter
def quick_field(field: BoundField) -> SafeString:
    if not is_plain(field):
        return as_crispy_field(field)
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        control = field.as_widget(attrs={"class": _widget_class(field, "form-check-input")})
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="{}">{}{}{}</div></div>',
            field.auto_id,
            _wrapper_classes(field, "form-check"),
            control,
            _label(field, "form-check-label"),
            _help_and_errors(field),
        )
    bootstrap = "form-select" if isinstance(widget, forms.Select) else "form-control"
    control = field.as_widget(attrs={"class": _widget_class(field, bootstrap)})
    return format_html(
        '<div id="div_{}" class="{}">{}{}{}</div>',
        field.auto_id,
        _wrapper_classes(field, "mb-3"),
        _label(field, "form-label") if field.label else "",
        control,
        _help_and_errors(field),
    )
