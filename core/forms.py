"""Form helpers every app's views share."""

from __future__ import annotations

from typing import Protocol

from django import forms
from django.core.exceptions import ValidationError


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
