"""The erasure and legal hold forms: lengths from the columns, the person's name typed to confirm."""

from __future__ import annotations

from typing import Any

from django import forms

from conduct.models import Person
from core.forms import column_length, without_nul
from privacy.models import ErasureBasis, ErasureRecord, LegalHold


def _words(value: str) -> str:
    return " ".join(without_nul(value).split())


class ErasureForm(forms.Form):
    basis = forms.ChoiceField(
        label="Why is the data being erased?",
        choices=ErasureBasis.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why the data is being erased."},
    )
    reason = forms.CharField(
        label="Reason",
        max_length=column_length(ErasureRecord, "reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For a request: who asked, when, and why it is valid. Do not write the person's name here.",
    )
    confirm_name = forms.CharField(
        label="Type the person's name to confirm",
        max_length=column_length(Person, "full_name"),
        error_messages={"required": "Type the person's name, as it is on record, to confirm."},
    )

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person

    def clean_reason(self) -> str:
        return _words(self.cleaned_data.get("reason", ""))

    def clean_confirm_name(self) -> str:
        typed = _words(self.cleaned_data.get("confirm_name", ""))
        if typed.casefold() != _words(self.person.full_name).casefold():
            raise forms.ValidationError("That is not the name on record: type it exactly as shown above.")
        return typed

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # A reason refused for its length already has its message: it was given, so not "say what it is".
        if data.get("basis") == ErasureBasis.ERASURE_REQUEST and not data.get("reason") and "reason" not in self.errors:
            self.add_error("reason", "Say what the erasure request is: who asked, when, and why it is valid.")
        return data


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=column_length(LegalHold, "reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The claim, investigation or request the data must be kept for.",
        error_messages={"required": "Say why."},
    )

    def clean_reason(self) -> str:
        return _words(self.cleaned_data.get("reason", ""))
