"""Forms of the provisioning pages: a token's name, a roster file."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from core.dates import date_in_range, date_range_message
from core.forms import BoundedDateField
from provisioning.models import ProvisioningToken
from provisioning.roster import MAX_FILE_BYTES


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="What is the token for?",
        max_length=ProvisioningToken._meta.get_field("name").max_length,
        help_text="For example “Entra ID provisioning”. The token is shown once, after you create it.",
    )


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="Roster file (CSV)",
        help_text="Columns: name, email, role, organisation, start date; optional: title, end date, external id. "
        "UTF-8 (Excel’s “CSV UTF-8”) or UTF-16.",
    )
    whole_roster = forms.BooleanField(
        label="This file is the whole roster: people not in it have left",
        required=False,
        help_text="Their roles here end on the leaving day below (officer roles are never ended this way).",
    )
    leavers_on = BoundedDateField(
        label="Leavers’ last day",
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Also the last day of roles that are not in the file.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
        return upload

    def clean_leavers_on(self):
        day = self.cleaned_data["leavers_on"]
        if not date_in_range(day):
            raise forms.ValidationError(date_range_message())
        return day
