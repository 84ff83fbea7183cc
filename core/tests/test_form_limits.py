"""Every form in the project bounds what it accepts: text by a max_length (the column's, where it fills one) and
dates within 1900-2100, so no input reaches the database longer than its column or as a year 9999."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import date

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError

# The project's own apps (those whose code lives in this repository), not third-party ones; devtools is no product.
PROJECT_PACKAGES = [
    config.name
    for config in apps.get_app_configs()
    if str(config.path).startswith(str(settings.BASE_DIR))
    and ".venv" not in str(config.path)
    and config.name != "devtools"
]


def _project_forms() -> list[type[forms.BaseForm]]:
    found: dict[str, type[forms.BaseForm]] = {}
    for package_name in PROJECT_PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            name = module_info.name
            if ".tests" in name or ".migrations" in name or ".management" in name:
                continue
            module = importlib.import_module(name)
            for _, value in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(value, forms.BaseForm)
                    and value.__module__ == name
                    and value.__module__.split(".")[0] in PROJECT_PACKAGES
                ):
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[key] for key in sorted(found)]


FORMS = _project_forms()


def test_the_walk_finds_the_forms():
    names = {form.__name__ for form in FORMS}
    assert {"InviteForm", "InterestForm", "AdoptionForm", "ClauseForm", "MeetingForm"} <= names, names


@pytest.mark.parametrize("form_class", FORMS, ids=lambda form: f"{form.__module__}.{form.__qualname__}")
def test_text_has_a_length_and_dates_stay_within_1900_to_2100(form_class):
    problems = []
    for name, field in form_class.base_fields.items():
        if isinstance(field, forms.CharField):
            # A max_length, or a validator with its own message (conduct.forms.at_most_chars, for long text).
            if field.max_length is None and not _refuses(field, "x" * 1_000_001):
                problems.append(f"{name}: text of any length is accepted")
            column = _column(form_class, name)
            if column is not None and column.max_length and not _refuses(field, "x" * (column.max_length + 1)):
                problems.append(f"{name}: accepts more than its column {column.model.__name__}.{column.name} holds")
        if isinstance(field, forms.DateField):
            field.required = False
            for outside in (date(1899, 12, 31), date(2101, 1, 1), date(9999, 12, 31), date(1, 1, 1)):
                try:
                    field.clean(outside.isoformat())
                except ValidationError:
                    continue
                problems.append(f"{name}: accepts {outside}")
            field.clean("2000-01-01")
    assert not problems, problems


def _refuses(field: forms.Field, value: str) -> bool:
    try:
        field.clean(value)
    except ValidationError:
        return True
    return False


# Plain forms that fill columns: (form, field) -> (model, column). ModelForms are read from their Meta.
COLUMNS = {
    ("InviteForm", "full_name"): ("conduct.Person", "full_name"),
    ("InviteForm", "email"): ("conduct.Person", "email"),
    ("InviteForm", "title"): ("conduct.Role", "title"),
    ("SignatureForm", "typed_name"): ("acknowledgements.Acknowledgement", "typed_name"),
    ("OnBehalfForm", "typed_name"): ("acknowledgements.Acknowledgement", "typed_name"),
    ("InterestForm", "counterparty"): ("acknowledgements.Interest", "counterparty"),
    ("CodeDetailsForm", "title"): ("conduct.Code", "title"),
    ("CodeCreateForm", "label"): ("conduct.CodeVersion", "label"),
    ("LabelForm", "label"): ("conduct.CodeVersion", "label"),
    ("SectionForm", "number"): ("conduct.Section", "number"),
    ("SectionForm", "title"): ("conduct.Section", "title"),
    ("ClauseForm", "number"): ("conduct.Clause", "number"),
    ("ClauseForm", "term"): ("conduct.Clause", "term"),
    ("MeetingForm", "title"): ("conduct.Meeting", "title"),
    ("MeetingForm", "minutes_reference"): ("conduct.Meeting", "minutes_reference"),
    ("AdoptionForm", "minute_reference"): ("conduct.Adoption", "minute_reference"),
    ("AdoptionForm", "chair_signature"): ("conduct.Adoption", "chair_signature"),
    ("OrganisationCreateForm", "name"): ("conduct.Organisation", "name"),
    ("OrganisationCreateForm", "slug"): ("conduct.Organisation", "slug"),
    ("OrganisationRenameForm", "name"): ("conduct.Organisation", "name"),
}


def test_the_column_map_names_real_forms_and_columns():
    names = {form.__name__: form for form in FORMS}
    for (form_name, field_name), (model_label, column) in COLUMNS.items():
        assert field_name in names[form_name].base_fields, (form_name, field_name)  # type: ignore[attr-defined]
        assert apps.get_model(model_label)._meta.get_field(column).max_length


def _column(form_class, name):
    for klass in form_class.__mro__:
        if (klass.__name__, name) in COLUMNS:
            model_label, column = COLUMNS[(klass.__name__, name)]
            return apps.get_model(model_label)._meta.get_field(column)
    model = getattr(getattr(form_class, "_meta", None), "model", None)
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a form field that is not a column
        return None
