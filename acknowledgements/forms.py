"""Forms for signing, declaring, recording paper signatures, inviting people and verifying PDFs.

Rendered with crispy-forms (Bootstrap 5). Forms check what a person typed;
the rules about records (who may sign what, once) live in the services.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseFormSet, formset_factory
from django.utils import timezone

from acknowledgements.declarations import DeclarationData, InterestData
from acknowledgements.invitations import MAX_CSV_BYTES
from acknowledgements.models import Acknowledgement, Interest, InterestKind
from conduct.models import Organisation, Person, Role, RoleKind
from conduct.services import names_match
from core.forms import BoundedDateField, column_length


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


# ---------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------


class SignatureForm(forms.Form):
    agree = forms.BooleanField(
        required=True,
        error_messages={"required": "Tick the box to confirm you accept the statement."},
    )
    typed_name = forms.CharField(
        label="Your full name, typed as your signature",
        max_length=column_length(Acknowledgement, "typed_name"),
        widget=forms.TextInput(attrs={"autocomplete": "name", "autocapitalize": "words", "spellcheck": "false"}),
    )

    def __init__(self, *args, person: Person, statement: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person
        self.statement = statement
        self.fields["agree"].label = statement
        self.fields[
            "typed_name"
        ].help_text = f"As it is on record: {person.full_name}. Capital letters and extra spaces do not matter."

    def clean_typed_name(self) -> str:
        typed = self.cleaned_data["typed_name"]
        if not names_match(typed, self.person.full_name):
            raise ValidationError(
                "This does not match the name on record. "
                f"Type your full name as it is on record: {self.person.full_name}."
            )
        return " ".join(typed.split())


# ---------------------------------------------------------------------------
# Declarations of interest
# ---------------------------------------------------------------------------

NOTHING, INTERESTS, NOT_RECORDED = "nothing", "interests", "not_recorded"


class DeclarationChoiceForm(forms.Form):
    choice = forms.ChoiceField(
        label="Your declaration of interests",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose “I have nothing to declare” or “I have interests to declare”."},
    )

    def __init__(self, *args, allow_not_recorded: bool = False, on_behalf: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        whose = "They have" if on_behalf else "I have"
        choices = [
            (NOTHING, f"{whose} nothing to declare"),
            (INTERESTS, f"{whose} interests to declare (listed below)"),
        ]
        if allow_not_recorded:
            choices.append((NOT_RECORDED, "The paper form did not include a declaration"))
        cast(forms.ChoiceField, self.fields["choice"]).choices = choices
        if on_behalf:
            self.fields["choice"].label = "Their declaration of interests, as on the paper form"


class InterestForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of interest", choices=[("", "Choose…")] + list(InterestKind.choices))
    counterparty = forms.CharField(
        label="The organisation or person",
        max_length=column_length(Interest, "counterparty"),
        help_text="For example the company, charity, school or person concerned.",
    )
    nature = forms.CharField(
        label="The nature of the interest",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example “Director and shareholder”, “Governor at another school”, “Spouse teaches here”.",
    )
    starts_on = BoundedDateField(label="Start date", widget=DateInput())
    ends_on = BoundedDateField(label="End date (if it has ended or will end)", widget=DateInput(), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The end date cannot be before the start date.")
        return cleaned


class BaseInterestFormSet(BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this interest: it has ended, or was never right"


# Three blank rows work without JavaScript; with it, blank rows stay hidden until "Add another interest".
# absolute_max: however many forms a POST claims (TOTAL_FORMS=100000), no more than MAX_INTERESTS are built.
MAX_INTERESTS = 30
InterestFormSet = formset_factory(
    InterestForm,
    formset=BaseInterestFormSet,
    extra=3,
    can_delete=True,
    max_num=MAX_INTERESTS,
    validate_max=True,
    absolute_max=MAX_INTERESTS,
)


class DeclarationInput:
    """The declaration part of a form: nothing to declare, or a list of interests."""

    def __init__(
        self,
        data=None,
        *,
        prompt: str = "",
        initial_interests: Iterable[Interest] = (),
        allow_not_recorded: bool = False,
        on_behalf: bool = False,
    ):
        initial = [
            {
                "kind": i.kind,
                "counterparty": i.counterparty,
                "nature": i.nature,
                "starts_on": i.starts_on,
                "ends_on": i.ends_on,
            }
            for i in initial_interests
        ]
        self.prompt = prompt
        self.on_behalf = on_behalf
        self.choice = DeclarationChoiceForm(
            data,
            prefix="declaration",
            allow_not_recorded=allow_not_recorded,
            on_behalf=on_behalf,
            initial={"choice": INTERESTS} if initial else {},
        )
        self.interests = InterestFormSet(data, prefix="interest", initial=initial)
        self.carried_forward = bool(initial)

    @property
    def error_summary_parts(self) -> tuple[forms.Form, BaseFormSet]:
        """What the page's error summary lists (core.templatetags.form_errors)."""
        return (self.choice, self.interests)

    def _listed(self) -> list[dict]:
        return [
            form.cleaned_data
            for form in self.interests.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    def is_valid(self) -> bool:
        if not self.choice.is_valid():
            return False
        choice = self.choice.cleaned_data["choice"]
        if choice in (NOTHING, NOT_RECORDED):
            # Rows typed and then abandoned by choosing "nothing" are a contradiction worth pointing out.
            if self.interests.is_valid() and self._listed():
                self.choice.add_error(
                    "choice",
                    "You listed interests but chose “nothing to declare”. Choose one, or remove the interests.",
                )
                return False
            return True
        if not self.interests.is_valid():
            return False
        if not self._listed():
            self.choice.add_error("choice", "List at least one interest below, or choose “nothing to declare”.")
            return False
        return True

    @property
    def errors(self) -> bool:
        return bool(self.choice.errors or any(self.interests.errors) or self.interests.non_form_errors())

    def data(self) -> DeclarationData | None:
        """The cleaned declaration (None for "not on the paper form"); call after is_valid()."""
        choice = self.choice.cleaned_data["choice"]
        if choice == NOT_RECORDED:
            return None
        if choice == NOTHING:
            return DeclarationData(nothing_to_declare=True)
        return DeclarationData(
            nothing_to_declare=False,
            interests=tuple(
                InterestData(
                    kind=row["kind"],
                    counterparty=row["counterparty"],
                    nature=row["nature"],
                    starts_on=row["starts_on"],
                    ends_on=row.get("ends_on"),
                )
                for row in self._listed()
            ),
        )

    def declared(self) -> DeclarationData:
        """The cleaned declaration, where "not on the paper form" was not offered (a person declaring themselves)."""
        data = self.data()
        if data is None:
            raise ValueError("Only a paper form may leave the declaration out (allow_not_recorded).")
        return data


class DeclareForm(forms.Form):
    """Declaring outside signing: which organisation the declaration is for."""

    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), label="Declaration for", empty_label=None
    )

    def __init__(self, *args, organisations: list[Organisation], **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organisation"]).queryset = Organisation.objects.filter(
            pk__in=[o.pk for o in organisations]
        )
        self.fields["organisation"].initial = organisations[0].pk if organisations else None
        self.single_organisation = organisations[0] if len(organisations) == 1 else None
        if self.single_organisation:
            self.fields["organisation"].widget = forms.HiddenInput()


# ---------------------------------------------------------------------------
# Paper signatures recorded on someone's behalf, and corrections
# ---------------------------------------------------------------------------


class OnBehalfForm(forms.Form):
    typed_name = forms.CharField(
        label="Their name, as signed on the paper form", max_length=column_length(Acknowledgement, "typed_name")
    )
    paper_signed_on = BoundedDateField(label="Date signed on paper", widget=DateInput())
    reason = forms.CharField(
        label="Why you are recording it for them",
        widget=forms.Textarea(attrs={"rows": 2}),
        initial="Signed on paper at the board meeting.",
        max_length=1000,
    )
    scan = forms.FileField(
        label="Scan of the signed paper form (optional)",
        required=False,
        help_text="PDF, PNG or JPEG, up to 10 MB. Kept with the record; its fingerprint is part of the evidence.",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )

    def __init__(self, *args, person: Person, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person
        self.fields["typed_name"].help_text = f"Must match the name on record: {person.full_name}."
        self.fields["paper_signed_on"].initial = timezone.localdate()

    def clean_typed_name(self) -> str:
        typed = self.cleaned_data["typed_name"]
        if not names_match(typed, self.person.full_name):
            raise ValidationError(f"This does not match the name on record: {self.person.full_name}.")
        return " ".join(typed.split())

    def clean_paper_signed_on(self) -> date:
        day = self.cleaned_data["paper_signed_on"]
        if day > timezone.localdate():
            raise ValidationError("The date signed cannot be in the future.")
        return day


class CorrectionForm(forms.Form):
    paper_signed_on = BoundedDateField(label="Date signed on paper", widget=DateInput())
    on_behalf_reason = forms.CharField(
        label="Why it is recorded on their behalf", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )
    correction_reason = forms.CharField(
        label="What was wrong with the original record",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text="Kept with both records. The original is never changed.",
    )


# ---------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------


class InviteForm(forms.Form):
    full_name = forms.CharField(
        label="Full name",
        max_length=column_length(Person, "full_name"),
        help_text="As it should appear on signed records.",
    )
    email = forms.EmailField(label="Email address", max_length=column_length(Person, "email"))
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), label="Organisation")
    kind = forms.ChoiceField(label="Role")
    title = forms.CharField(
        label="Job title or position (optional)", max_length=column_length(Role, "title"), required=False
    )
    starts_on = BoundedDateField(
        label="Start date", widget=DateInput(), help_text="For governors, the date of appointment."
    )

    def __init__(self, *args, organisations: QuerySet[Organisation], kinds: Collection[str], **kwargs):
        """``organisations`` and ``kinds``: where the user manages people and the roles they may grant there."""
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organisation"]).queryset = organisations
        offered = [(kind, label) for kind, label in RoleKind.choices if kind in kinds]
        cast(forms.ChoiceField, self.fields["kind"]).choices = [("", "Choose a role…"), *offered]
        self.fields["starts_on"].initial = timezone.localdate()

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: name, email, role, organisation, start date. "
        "Save from Excel as “CSV UTF-8 (comma delimited)”.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]

        if upload.size > MAX_CSV_BYTES:
            raise ValidationError(
                f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB; split it into smaller files."
            )
        return upload


# ---------------------------------------------------------------------------
# Public verification
# ---------------------------------------------------------------------------


class VerifyForm(forms.Form):
    file = forms.FileField(
        label="Upload the signed PDF",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    code = forms.CharField(
        label="Or type its verification code",
        required=False,
        max_length=40,
        help_text="Sixteen letters and digits, printed on the evidence page, e.g. K7QX-M2PD-9RTW-HB4N.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.VERIFICATION_UPLOAD_MAX_BYTES
        self.fields["file"].help_text = (
            f"PDF files up to {limit // (1024 * 1024)} MB."
            if limit >= 1024 * 1024
            else f"PDF files up to {limit // 1024} KB."
        )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            return upload
        limit = settings.VERIFICATION_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(f"The file is too large to be one we issued (the limit is {limit // 1024:,} KB).")
        if upload.size == 0:
            raise ValidationError("The file is empty.")
        upload.seek(0)
        if not upload.read(5).startswith(b"%PDF-"):
            raise ValidationError(
                "The file is not a PDF. Upload the signed PDF exactly as it was downloaded or emailed."
            )
        upload.seek(0)
        return upload

    def clean_code(self) -> str:
        return self.cleaned_data.get("code", "").strip()

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors and not cleaned.get("file") and not cleaned.get("code"):
            raise ValidationError("Upload a signed PDF or type its verification code.")
        return cleaned
