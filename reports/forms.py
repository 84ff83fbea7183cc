"""Filter and settings forms for reports. Choices are built by the view from what the user may see."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from crispy_forms.helper import FormHelper
from django import forms

from acknowledgements.models import Obligation
from conduct.models import Code, CodeVersion, Organisation, OrganisationKind, role_label
from conduct.permissions import remind_now_q
from core.forms import BoundedDateField
from core.widgets import QuickSelect
from reminders.remind_now import REMIND_NOW_MAX
from reports.selectors import STATUSES, ReportFilters, today


def organisation_label(organisation: Organisation) -> str:
    """Indented by depth, so the tree reads at a glance in a select."""
    return f"{'— ' * max(organisation.depth - 1, 0)}{organisation.name}"


class DashboardFilterForm(forms.Form):
    organisation = forms.ChoiceField(label="Organisation", widget=QuickSelect)
    code = forms.ChoiceField(label="Code", required=False, widget=QuickSelect)
    version = forms.ChoiceField(label="Version", required=False, widget=QuickSelect)
    school = forms.ChoiceField(label="School", required=False, widget=QuickSelect)
    role = forms.ChoiceField(label="Role", required=False, widget=QuickSelect)
    status = forms.ChoiceField(
        label="Status (list of people)",
        required=False,
        choices=[("", "Any status"), *STATUSES.items()],
        widget=QuickSelect,
        help_text="Narrows the list of people and the people exports; the tables always show every status.",
    )
    as_at = BoundedDateField(
        label="As at",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The numbers as they stood at the end of this day (Europe/London).",
    )

    def __init__(
        self,
        data,
        *,
        organisations: Sequence[Organisation],
        codes: Sequence[Code],
        versions: Sequence[CodeVersion],
        school_choices: Sequence[tuple[str, str]],
        **kwargs,
    ):
        super().__init__(data, **kwargs)
        self.organisations = {str(org.pk): org for org in organisations}
        self.codes = {str(code.pk): code for code in codes}
        self.versions = {str(version.pk): version for version in versions}
        self._choose("organisation", [(pk, organisation_label(org)) for pk, org in self.organisations.items()])
        self._choose("code", [("", "All codes"), *((pk, code.title) for pk, code in self.codes.items())])
        grouped: dict[str, list[tuple[str, str]]] = {}
        for pk, version in self.versions.items():
            label = f"{version.label} ({version.get_status_display().lower()})"
            grouped.setdefault(version.code.title, []).append((pk, label))
        self._choose("version", [("", "All versions"), *grouped.items()])
        self._choose("school", [("", "All schools"), *school_choices])
        kinds = sorted({kind for code in codes for kind in code.audience}, key=lambda k: role_label(k))
        self._choose("role", [("", "All roles"), *((kind, role_label(kind)) for kind in kinds)])

    def _choose(self, name: str, choices: list[Any]) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = choices

    def clean_as_at(self) -> date:
        value = self.cleaned_data.get("as_at") or today()
        if value > today():
            raise forms.ValidationError("The report cannot be as at a day in the future; choose today or earlier.")
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        code, version = self.codes.get(cleaned.get("code") or ""), self.versions.get(cleaned.get("version") or "")
        if code and version and version.code_id != code.pk:
            self.add_error("version", f"{version.label} is a version of {version.code.title}, not of {code.title}.")
        return cleaned

    def filters(self) -> ReportFilters:
        data = self.cleaned_data
        version = self.versions.get(data.get("version") or "")
        code = version.code if version else self.codes.get(data.get("code") or "")
        return ReportFilters(
            organisation=self.organisations[data["organisation"]],
            as_at=data["as_at"],
            code=code,
            version=version,
            school=data.get("school") or "",
            role=data.get("role") or "",
            status=data.get("status") or "",
        )


REGISTER_KINDS = (OrganisationKind.TRUST, OrganisationKind.BOARD, OrganisationKind.NETWORK)


class PublicationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["publish_register"]
        labels = {"publish_register": "Publish the register of interests as a public web page"}
        help_texts = {
            "publish_register": "Anyone with the link can then read the names, appointments, attendance and declared "
            "interests of everyone who served in the last 12 months. Nothing else about anyone is shown. A board "
            "or committee below this one appears on the page only while its own register is published too."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class CappedMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuses more than ``REMIND_NOW_MAX`` choices before looking any up (no query with 100,000 ids)."""

    def clean(self, value: Any) -> Any:
        if value and len(value) > REMIND_NOW_MAX:
            raise forms.ValidationError(f"Remind at most {REMIND_NOW_MAX} people at a time.")
        return super().clean(value)


class RemindNowForm(forms.Form):
    """The people chosen on the drill-down, among the obligations whose owers the user may chase."""

    obligations = CappedMultipleChoiceField(
        queryset=Obligation.objects.none(),
        error_messages={
            "required": "Choose at least one person to remind.",
            "invalid_choice": "One of the people chosen is not someone you can remind.",
            "invalid_pk_value": "One of the people chosen is not someone you can remind.",
        },
    )
    back = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["obligations"]).queryset = Obligation.objects.filter(
            remind_now_q(user)
        )
