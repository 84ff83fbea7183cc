"""Forms of the people pages. Lengths come from the columns, dates stay within 1900-2100 (``core.dates``),
and every organisation offered is one the officer manages: a form never decides access, it only offers
what ``conduct.permissions`` allows and the service checks again."""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from conduct.models import AuditAction, GovernorCategory, Organisation, Person, Role, RoleKind
from conduct.people import MAX_APPOINTED_BY, MAX_EMAIL, MAX_END_REASON, MAX_FULL_NAME, MAX_TITLE
from core.dates import date_in_range, date_range_message
from core.widgets import QuickSelect
from people.selectors import INVITATION_STATES, ROLE_STATUSES, SORT_LABELS, AuditFilters, DirectoryFilters

MAX_SEARCH = 200


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateField(forms.DateField):
    """A date typed or picked, refused outside 1900-2100 with a message saying so."""

    widget = DateInput

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not date_in_range(value):
            raise forms.ValidationError(date_range_message(), code="out_of_range")


def _organisation_field(queryset: QuerySet[Organisation], **kwargs: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=queryset,
        error_messages={"invalid_choice": "Choose one of the organisations you manage."},
        **kwargs,
    )


def _kind_field(kinds: Collection[str], **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=[("", "Choose a role…")] + [(kind, label) for kind, label in RoleKind.choices if kind in kinds],
        error_messages={"invalid_choice": "Choose one of the roles offered."},
        **kwargs,
    )


CATEGORY_CHOICES = [("", "Not a governor, or not recorded"), *GovernorCategory.choices]


def _offer(field: forms.Field, queryset: QuerySet[Organisation]) -> None:
    """Offer ``queryset`` in ``field`` (a ModelChoiceField, which still validates against it), its options read
    as (pk, name) pairs in one plain query rather than as model instances through a server-side cursor; read
    only when first shown (a form that is only validated never reads them) and then kept for the request."""
    field = cast(forms.ModelChoiceField, field)
    field.queryset = queryset
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    field.widget.choices = functools.cache(lambda: [*empty, *queryset.values_list("pk", "name")])


# ---------------------------------------------------------------------------
# The directory's filters
# ---------------------------------------------------------------------------


class DirectoryForm(forms.Form):
    q = forms.CharField(label="Name or email", max_length=MAX_SEARCH, required=False)
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        label="Organisation (and everything below it)",
        empty_label="All you manage",
        widget=QuickSelect,
    )
    kind = forms.ChoiceField(
        label="Role", choices=[("", "Any role"), *RoleKind.choices], required=False, widget=QuickSelect
    )
    roles = forms.ChoiceField(label="Roles", choices=list(ROLE_STATUSES.items()), required=False, widget=QuickSelect)
    overdue = forms.BooleanField(label="Owes something overdue", required=False)
    invitation = forms.ChoiceField(
        label="Invitation", choices=[("", "Any"), *INVITATION_STATES.items()], required=False, widget=QuickSelect
    )
    never_signed_in = forms.BooleanField(label="Never signed in", required=False)
    sort = forms.ChoiceField(label="Sort by", choices=list(SORT_LABELS.items()), required=False, widget=QuickSelect)

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer(self.fields["organisation"], organisations)

    def filters(self) -> DirectoryFilters:
        data = self.cleaned_data
        return DirectoryFilters(
            q=data.get("q") or "",
            organisation=data.get("organisation"),
            kind=data.get("kind") or "",
            roles=data.get("roles") or "current",
            overdue=bool(data.get("overdue")),
            invitation=data.get("invitation") or "",
            never_signed_in=bool(data.get("never_signed_in")),
            sort=data.get("sort") or "name",
        )


class GiasForm(forms.Form):
    board = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        label="Board",
        error_messages={"invalid_choice": "Choose one of the boards whose people you manage."},
        widget=QuickSelect,
    )

    def __init__(self, *args: Any, boards: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer(self.fields["board"], boards)

    @property
    def has_boards(self) -> bool:
        """Whether any board is offered (read from the options already loaded: no query)."""
        return any(value != "" for value, _label in cast(forms.Select, self.fields["board"].widget).choices)


# ---------------------------------------------------------------------------
# Changes to a person
# ---------------------------------------------------------------------------


class PersonDetailsForm(forms.Form):
    full_name = forms.CharField(
        label="Full name", max_length=MAX_FULL_NAME, help_text="As it should appear on signed records."
    )
    email = forms.EmailField(
        label="Email address",
        max_length=MAX_EMAIL,
        help_text="If you change it, they confirm the new address the next time they sign in.",
    )


class RoleAddForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), label="Organisation")
    kind = forms.ChoiceField(label="Role")
    title = forms.CharField(label="Job title or position (optional)", max_length=MAX_TITLE, required=False)
    starts_on = DateField(label="Start date", help_text="For governors, the date of appointment.")
    ends_on = DateField(label="End date (optional)", required=False, help_text="For a fixed-term role.")
    category = forms.ChoiceField(label="Governor category", choices=CATEGORY_CHOICES, required=False)
    appointed_by = forms.CharField(label="Appointing body", max_length=MAX_APPOINTED_BY, required=False)
    term_ends_on = DateField(label="Term of office ends", required=False)

    def __init__(
        self, *args: Any, organisations: QuerySet[Organisation], kinds: Collection[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"] = _organisation_field(organisations, label="Organisation")
        self.fields["kind"] = _kind_field(kinds, label="Role")
        self.order_fields(list(RoleAddForm.base_fields))


class RoleEndForm(forms.Form):
    ends_on = DateField(label="Last day in the role")
    reason = forms.CharField(
        label="Reason",
        max_length=MAX_END_REASON,
        help_text="For example: resigned, term of office ended, contract ended.",
    )


class RoleGovernanceForm(forms.Form):
    title = forms.CharField(label="Job title or position", max_length=MAX_TITLE, required=False)
    category = forms.ChoiceField(label="Governor category", choices=CATEGORY_CHOICES, required=False)
    appointed_by = forms.CharField(label="Appointing body", max_length=MAX_APPOINTED_BY, required=False)
    starts_on = DateField(label="Date of appointment (start date)")
    term_ends_on = DateField(label="Term of office ends", required=False)

    @classmethod
    def for_role(cls, role: Role, data: Any = None) -> RoleGovernanceForm:
        initial = {
            "title": role.title,
            "category": role.category,
            "appointed_by": role.appointed_by,
            "starts_on": role.starts_on,
            "term_ends_on": role.term_ends_on,
        }
        return cls(data, initial=initial)


class MoveForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), label="New organisation")
    kind = forms.ChoiceField(label="New role")
    title = forms.CharField(label="Job title or position (optional)", max_length=MAX_TITLE, required=False)
    on = DateField(label="First day in the new role", help_text="The current role ends the day before.")

    def __init__(
        self, *args: Any, organisations: QuerySet[Organisation], kinds: Collection[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"] = _organisation_field(organisations, label="New organisation")
        self.fields["kind"] = _kind_field(kinds, label="New role")
        self.order_fields(list(MoveForm.base_fields))


class LeaverForm(forms.Form):
    within = forms.ModelChoiceField(queryset=Organisation.objects.none(), label="Leaving")
    ends_on = DateField(label="Last day")
    reason = forms.CharField(
        label="Reason", max_length=MAX_END_REASON, help_text="For example: resigned, retired, contract ended."
    )

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["within"] = _organisation_field(
            organisations,
            label="Leaving",
            help_text="Every role they hold here and in everything below it ends on their last day.",
        )
        self.order_fields(list(LeaverForm.base_fields))


class ConfirmForm(forms.Form):
    """A confirmation page's POST: nothing to fill in."""


# ---------------------------------------------------------------------------
# The audit page's filters
# ---------------------------------------------------------------------------


class AuditForm(forms.Form):
    action = forms.ChoiceField(label="Action", required=False)
    actor = forms.CharField(label="Done by (name or email)", max_length=MAX_SEARCH, required=False)
    person = forms.CharField(label="About (name or email)", max_length=MAX_SEARCH, required=False)
    # An id a 64-bit primary key can hold: a longer number is a bad link, not a database error.
    subject = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        label="Organisation (and everything below it)",
        empty_label="All you administer",
    )
    date_from = DateField(label="From", required=False)
    date_to = DateField(label="To", required=False)

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organisation"]).queryset = organisations
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", "Any action"), *AuditAction.choices]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end of the range cannot be before its start.")
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            action=data.get("action") or "",
            actor=data.get("actor") or "",
            person=data.get("person") or "",
            subject_id=data.get("subject"),
            organisation=data.get("organisation"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def person_label(person: Person) -> str:
    return f"{person.full_name} <{person.email}>"
