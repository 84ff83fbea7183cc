"""Forms for the reminder pages: a code's steps, and the log's filters."""

from __future__ import annotations

import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from conduct.models import Code
from reminders.models import ReminderKind, ReminderLog, ReminderStatus
from reminders.steps import MAX_DAYS, MAX_STEPS


class DaysListField(forms.Field):
    """Whole numbers of days separated by commas, e.g. "60, 30, 7"; cleaned to a list, largest first."""

    def prepare_value(self, value: object) -> object:
        if isinstance(value, (list, tuple)):
            return ", ".join(str(days) for days in value)
        return value

    def to_python(self, value: str | None) -> list[int]:
        text = (value or "").strip()
        if not text:
            return []
        parts = [part for part in re.split(r"[,\s]+", text) if part]
        if not all(part.isdigit() for part in parts):
            raise ValidationError(
                "Enter whole numbers of days separated by commas, for example 60, 30, 7.", code="invalid"
            )
        days = sorted({int(part) for part in parts}, reverse=True)
        if any(number > MAX_DAYS for number in days):
            raise ValidationError(f"Each number of days must be between 0 and {MAX_DAYS}.", code="range")
        if len(days) > MAX_STEPS:
            raise ValidationError(f"Give at most {MAX_STEPS} reminders.", code="too_many")
        return days


class ReminderStepsForm(forms.Form):
    review_reminder_days = DaysListField(
        label="Review reminders: days before the review date",
        required=False,
        help_text="The board's chair and clerk are reminded this many days before the version is due for "
        "review, e.g. 60, 30, 7. Leave empty for no reminders before the date.",
    )
    signing_reminder_days = DaysListField(
        label="Signing reminders: days before the due date",
        required=False,
        help_text="Everyone who has not signed is reminded this many days before the due date; 0 means on "
        "the due date itself, e.g. 7, 0. An invitation always goes out when a signature is first owed.",
    )
    overdue_repeat_days = forms.IntegerField(
        label="While overdue, remind every (days)",
        min_value=1,
        max_value=MAX_DAYS,
        help_text="Overdue signatures and reviews are reminded this often, e.g. 7 for weekly.",
    )
    escalate_after_days = forms.IntegerField(
        label="Tell clerks and admins after (days overdue)",
        min_value=0,
        max_value=MAX_DAYS,
        help_text="When a signature is more than this many days overdue, the organisation's clerks and "
        "admins get one summary listing everyone outstanding.",
    )

    def __init__(self, *args, code: Code, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "review_reminder_days": code.review_reminder_days,
                "signing_reminder_days": code.signing_reminder_days,
                "overdue_repeat_days": code.overdue_repeat_days,
                "escalate_after_days": code.escalate_after_days,
            },
        )
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save reminder settings"))


class ReminderLogFilterForm(forms.Form):
    q = forms.CharField(label="Name or email", required=False, max_length=200)
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "All kinds"), *ReminderKind.choices])
    status = forms.ChoiceField(label="Outcome", required=False, choices=[("", "All outcomes"), *ReminderStatus.choices])

    def narrow(self, reminders: QuerySet[ReminderLog]) -> QuerySet[ReminderLog]:
        """The reminders that match what was chosen; call after is_valid()."""
        data = self.cleaned_data
        if data["q"]:
            reminders = reminders.filter(
                Q(recipient__full_name__icontains=data["q"]) | Q(recipient__email__icontains=data["q"])
            )
        if data["kind"]:
            reminders = reminders.filter(kind=data["kind"])
        if data["status"]:
            reminders = reminders.filter(status=data["status"])
        return reminders

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "row row-cols-md-auto g-2 align-items-end"
        self.helper.disable_csrf = True
        self.helper.add_input(Submit("filter", "Filter", css_class="btn-secondary"))
