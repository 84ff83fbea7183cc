"""Form helpers every app's views share."""

from __future__ import annotations

from typing import Any, Protocol

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from core.dates import EARLIEST_DATE, LATEST_DATE, date_in_range, date_range_message


class BoundedDateField(forms.DateField):
    """A date refused outside 1900-2100 (``core.dates``) with a message saying so, the picker held to the same."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("min", EARLIEST_DATE.isoformat())
        self.widget.attrs.setdefault("max", LATEST_DATE.isoformat())

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not date_in_range(value):
            raise ValidationError(date_range_message(), code="out_of_range")


def column_length(model: type[models.Model], field_name: str) -> int:
    """The ``max_length`` of a model's column, for the form field that fills it (one number, kept in the model)."""
    length = model._meta.get_field(field_name).max_length  # type: ignore[union-attr]
    if not length:
        raise ValueError(f"{model.__name__}.{field_name} has no max_length.")
    return int(length)


def without_nul(value: str) -> str:
    """Text with NUL characters removed: PostgreSQL cannot store or compare them (a search would fail with a 500)."""
    return value.replace("\x00", "")


class Validates(Protocol):
    """A form, a formset, or a composite of them (e.g. acknowledgements' DeclarationInput)."""

    def is_valid(self) -> bool: ...


def all_valid(*bound_forms: Validates | None) -> bool:
    """Validate every form (so each shows its own errors), not only up to the first invalid one."""
    results = [form.is_valid() for form in bound_forms if form is not None]  # a list, not a short-circuiting generator
    return all(results)


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the field it names, else at the top."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)
