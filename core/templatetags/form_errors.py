"""The error summary every rejected form shows (the GOV.UK Design System pattern), and the "Error: " title prefix.

``base.html`` renders both for every page: with no arguments the tags look through the page's context for bound
forms, formsets and composites (anything with ``error_summary_parts``) that have errors. A template whose forms sit
inside another object names them: ``{% error_summary reading.signature reading.declaration %}``.

Rendering a summary on a POST marks the request, and ``core.middleware.RejectedFormStatusMiddleware`` answers it with
400, so every rejected form (ours and allauth's) gets the same status code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django import forms, template
from django.forms.formsets import BaseFormSet

register = template.Library()

REJECTED_FORM_ATTRIBUTE = "rejected_form"


@dataclass(frozen=True)
class SummaryError:
    message: str
    href: str  # "" when no single field is to blame


def _parts(value: Any) -> Iterator[forms.BaseForm | BaseFormSet]:
    if isinstance(value, forms.BaseForm | BaseFormSet):
        yield value
    elif hasattr(value, "error_summary_parts"):
        for part in value.error_summary_parts:
            yield from _parts(part)


def _field_anchor(bound: forms.BoundField) -> str:
    # Radio buttons and multi-part widgets have no single id_for_label: link to their first input.
    return bound.id_for_label or (f"{bound.auto_id}_0" if bound.auto_id else "")


def _form_errors(form: forms.BaseForm) -> Iterator[SummaryError]:
    if not form.is_bound or not form.errors:
        return
    visible = form.visible_fields()
    first = _field_anchor(visible[0]) if visible else ""
    for error in form.non_field_errors():
        yield SummaryError(str(error), f"#{first}" if first else "")
    for bound in form.hidden_fields():
        for error in bound.errors:
            yield SummaryError(str(error), "")
    for bound in visible:
        anchor = _field_anchor(bound)
        for error in bound.errors:
            label = str(bound.label or bound.name).rstrip(":?")
            yield SummaryError(f"{label}: {error}", f"#{anchor}" if anchor else "")


def summary_errors(values: Iterable[Any]) -> list[SummaryError]:
    found: list[SummaryError] = []
    for value in values:
        for part in _parts(value):
            if isinstance(part, BaseFormSet):
                if not part.is_bound:
                    continue
                found.extend(SummaryError(str(e), "") for e in part.non_form_errors())
                for form in part.forms:
                    found.extend(_form_errors(form))
            else:
                found.extend(_form_errors(part))
    return found


def _errors(context: template.Context, given: tuple[Any, ...]) -> list[SummaryError]:
    if given:
        return summary_errors(given)
    seen: set[int] = set()
    values = []
    for value in context.flatten().values():
        if id(value) not in seen:
            seen.add(id(value))
            values.append(value)
    return summary_errors(values)


@register.simple_tag(takes_context=True)
def error_title_prefix(context: template.Context, *given: Any) -> str:
    """ "Error: " when the page shows a rejected form (the start of the <title>)."""
    return "Error: " if _errors(context, given) else ""


@register.inclusion_tag("core/error_summary.html", takes_context=True)
def error_summary(context: template.Context, *given: Any, heading: str = "There is a problem") -> dict[str, Any]:
    errors = _errors(context, given)
    request = context.get("request")
    if errors and request is not None and request.method == "POST":
        setattr(request, REJECTED_FORM_ATTRIBUTE, True)
    # A page may show more than one (one per form it offers): the first takes focus, each has its own id.
    shown: int = context.render_context.get("error_summaries_shown") or 0
    if errors:
        context.render_context["error_summaries_shown"] = shown + 1
    return {"errors": errors, "heading": heading, "first": shown == 0, "number": shown + 1}
