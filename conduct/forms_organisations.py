"""Forms for setting organisations up. They only shape input: conduct.organisations decides what is allowed,
and its messages (a duplicate name, a kind that cannot sit there, a cycle) come back onto these fields."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet

from conduct.forms import DateInput
from conduct.models import Organisation, OrganisationKind
from core.forms import BoundedDateField, column_length


def kind_label(kind: str) -> str:
    return OrganisationKind(kind).label if kind in OrganisationKind.values else kind


class PlacedOrganisationField(forms.ModelChoiceField):
    """A choice of organisation labelled with its kind and what it sits under, so same-named boards differ."""

    def label_from_instance(self, obj: Organisation) -> str:
        where = f", under {obj.parent.name}" if obj.parent is not None else ""
        return f"{obj.name} ({kind_label(obj.kind).lower()}{where})"


# Names are not length-checked here: the service says how long a name may be, in its own words.
NAME_HELP = "As it should appear on records and reports, e.g. “Oak Primary Academy”."


class OrganisationCreateForm(forms.Form):
    kind = forms.ChoiceField(label="What are you adding?")
    name = forms.CharField(required=False, max_length=column_length(Organisation, "name"), help_text=NAME_HELP)
    governs = PlacedOrganisationField(
        queryset=Organisation.objects.none(),
        required=False,
        label="Which organisation does it govern?",
        empty_label="None (a committee, or a board that governs nothing of its own)",
        help_text="For a board only: a local governing board governs its academy; the trust board governs the trust.",
    )
    slug = forms.CharField(
        required=False,
        max_length=column_length(Organisation, "slug"),
        label="Short web name (optional)",
        help_text="Used in web addresses, e.g. oak-primary. Made from the name if you leave it empty.",
    )

    def __init__(
        self, *args: Any, kinds: Sequence[str], governable: QuerySet[Organisation] | None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        kind_field = self.fields["kind"]
        assert isinstance(kind_field, forms.ChoiceField)
        kind_field.choices = [(kind, kind_label(kind)) for kind in kinds]
        kind_field.initial = kinds[0] if kinds else None
        if governable is None:
            # Nothing that may sit here is a board or committee, so nothing it could govern: no such question.
            del self.fields["governs"]
        else:
            governs = self.fields["governs"]
            assert isinstance(governs, forms.ModelChoiceField)
            governs.queryset = governable
            governs.error_messages["invalid_choice"] = (
                "Choose one of the listed organisations: a board governs only one in its own trust or network."
            )

    def service_arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``organisation_create`` (besides who and where)."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "name": data["name"],
            "slug": data["slug"] or None,  # empty: the service makes one from the name
            "governs": data.get("governs"),
        }


class OrganisationRenameForm(forms.Form):
    name = forms.CharField(
        required=False, max_length=column_length(Organisation, "name"), label="New name", help_text=NAME_HELP
    )


class OrganisationCloseForm(forms.Form):
    closed_on = BoundedDateField(
        widget=DateInput,
        label="Closes on",
        help_text="From this day nobody owes anything new there. It can be a day in the past or the future.",
        error_messages={"required": "Give the day it closes.", "invalid": "Give the day it closes as a date."},
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["closed_on"].initial = today


class OrganisationMoveForm(forms.Form):
    new_parent = PlacedOrganisationField(
        queryset=Organisation.objects.none(),
        label="Move it under",
        empty_label=None,
        error_messages={
            "required": "Choose where it moves to.",
            "invalid_choice": "Choose one of the listed organisations.",
        },
    )

    def __init__(self, *args: Any, parents: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        new_parent = self.fields["new_parent"]
        assert isinstance(new_parent, forms.ModelChoiceField)
        new_parent.queryset = parents


# ---------------------------------------------------------------------------
# Network memberships
# ---------------------------------------------------------------------------


class SchoolSearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=100,
        label="School's name",
        help_text="Part of the name is enough, e.g. “Riverside”.",
    )


class MembershipRequestForm(forms.Form):
    school = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.SCHOOL),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choose a school from the search results.",
            "invalid_choice": "Choose a school from the search results.",
        },
    )


class MembershipEndForm(forms.Form):
    ended_on = BoundedDateField(
        widget=DateInput,
        label="Last day of membership",
        help_text="The membership counts up to and including this day; it stays in the history.",
        error_messages={"required": "Give the last day it counts.", "invalid": "Give the last day as a date."},
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ended_on"].initial = today
