"""Forms for drafting, meetings and adoption. They only shape input; the rules live in the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from conduct import limits
from conduct.drafting import ClauseContent, CodeDetails
from conduct.models import (
    AttendanceStatus,
    Clause,
    ClauseStyle,
    Code,
    CodeVersion,
    Meeting,
    MeetingKind,
    Organisation,
    Person,
    RoleKind,
    role_label_plural,
)
from core.display import long_date
from core.forms import BoundedDateField, column_length


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def at_most_chars(limit: int, what: str, advice: str = "") -> Callable[[str], None]:
    """A length limit (conduct.limits) checked on the server with a message that gives both lengths.

    A validator rather than ``max_length``, which would add a ``maxlength`` attribute: browsers then
    cut pasted text short without a word, and a clause cut short is not what was meant."""

    def check(value: str) -> None:
        if len(value) > limit:
            message = f"{what} is {len(value):,} characters long; the limit is {limit:,}."
            raise forms.ValidationError(f"{message} {advice}".strip(), code="max_length")

    return check


class RevisionMixin(forms.Form):
    """Every draft edit carries the revision of the draft the page was showing."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


# ---------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------


class CodeDetailsForm(forms.Form):
    title = forms.CharField(
        max_length=column_length(Code, "title"), help_text="As readers will see it, e.g. “Governance Code of Conduct”."
    )
    summary = forms.CharField(
        required=False,
        validators=[at_most_chars(limits.MAX_CODE_SUMMARY_CHARS, "The summary", "Shorten it.")],
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or two sentences saying who the code is for.",
    )
    audience = forms.MultipleChoiceField(
        choices=RoleKind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Everyone holding one of these roles where the code is adopted must sign it.",
        error_messages={"required": "Choose at least one role that must sign this code."},
    )
    signing_due_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        initial=30,
        label="Days to sign",
        help_text="After a version takes effect, or after someone joins, they have this many days to sign.",
    )
    requires_declaration = forms.BooleanField(
        required=False, label="Signers also declare their interests (or that they have nothing to declare)"
    )
    declaration_prompt = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[at_most_chars(limits.MAX_CODE_SUMMARY_CHARS, "The prompt", "Shorten it.")],
    )
    offered_as_model = forms.BooleanField(
        required=False,
        label="Offer as a model code",
        help_text="Other organisations may copy the adopted text as the starting point for their own code.",
    )

    def details(self) -> CodeDetails:
        data = self.cleaned_data
        return CodeDetails(
            title=data["title"],
            audience=list(data["audience"]),
            summary=data["summary"],
            signing_due_days=data["signing_due_days"],
            requires_declaration=data["requires_declaration"],
            declaration_prompt=data["declaration_prompt"],
            offered_as_model=data["offered_as_model"],
        )

    @classmethod
    def initial_for(cls, code: Code) -> dict[str, Any]:
        return {
            "title": code.title,
            "summary": code.summary,
            "audience": code.audience,
            "signing_due_days": code.signing_due_days,
            "requires_declaration": code.requires_declaration,
            "declaration_prompt": code.declaration_prompt,
            "offered_as_model": code.offered_as_model,
        }


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, version: CodeVersion) -> str:
        return f"{version.code.title} {version.label} ({version.code.owner.name})"


class CodeCreateForm(CodeDetailsForm):
    field_order = ["owner", "copy_of", "label", "title"]

    owner = forms.ModelChoiceField(queryset=Organisation.objects.none(), label="Owned by", empty_label=None)
    copy_of = VersionChoiceField(
        queryset=CodeVersion.objects.none(),
        required=False,
        label="Start from",
        empty_label="A blank page",
        help_text="Or a copy of an adopted code, for example a model code to adopt with local edits.",
    )
    label = forms.CharField(max_length=40, label="First version's label", help_text="For example 2026-2027.")

    def __init__(
        self, *args: Any, owners: QuerySet[Organisation], sources: QuerySet[CodeVersion], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # self.fields holds per-form copies of the fields declared above, typed only as Field.
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = owners
        cast(forms.ModelChoiceField, self.fields["copy_of"]).queryset = sources


class LabelForm(forms.Form):
    label = forms.CharField(max_length=40, help_text="For example 2026-2027.")


class DraftDetailsForm(RevisionMixin, LabelForm):
    pass


class ConfirmForm(RevisionMixin):
    """A confirmation (remove, discard, move) that still carries the revision it was based on."""


class MoveForm(RevisionMixin):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")], required=False)
    to_section = forms.IntegerField(required=False, min_value=1)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("direction") and not data.get("to_section"):
            raise forms.ValidationError("Say where to move it.")
        return data

    @property
    def offset(self) -> int:
        return -1 if self.cleaned_data.get("direction") == "up" else 1


class SectionForm(RevisionMixin):
    number = forms.CharField(max_length=20, required=False, help_text="Optional, e.g. 19.")
    title = forms.CharField(
        required=False,
        label="Heading",
        validators=[at_most_chars(limits.MAX_SECTION_TITLE_CHARS, "The heading", "Shorten it.")],
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not (data.get("number") or data.get("title")):
            raise forms.ValidationError("Give the section a heading or a number.")
        return data


class ClauseForm(RevisionMixin):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The wording, as signers will read it.",
        validators=[
            at_most_chars(limits.MAX_CLAUSE_TEXT_CHARS, "The clause", "Split it into two clauses, or shorten it.")
        ],
    )
    term = forms.CharField(
        max_length=120,
        required=False,
        label="Bold lead-in",
        help_text="Optional, e.g. a value's name such as “Integrity”.",
    )
    number = forms.CharField(max_length=20, required=False, help_text="Optional, e.g. 19.2.")
    style = forms.ChoiceField(choices=ClauseStyle.choices, initial=ClauseStyle.PARAGRAPH, label="Shown as")
    depth = forms.TypedChoiceField(
        coerce=int,
        choices=[(0, "Not indented"), (1, "Indented once"), (2, "Indented twice"), (3, "Indented three times")],
        initial=0,
        label="Indent",
        help_text="Indented clauses sit under the clause above them (e.g. a list under a statement).",
    )
    roles = forms.MultipleChoiceField(
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Applies only to",
        help_text="Leave all unticked if the clause applies to everyone who signs the code.",
    )
    is_new = forms.BooleanField(required=False, label="New or updated in this version")

    def __init__(self, *args: Any, code: Code, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = cast(forms.MultipleChoiceField, self.fields["roles"])  # the field declared above
        roles.choices = [(kind, role_label_plural(kind)) for kind in code.audience]

    def content(self) -> ClauseContent:
        data = self.cleaned_data
        return ClauseContent(
            text=data["text"],
            number=data["number"],
            term=data["term"],
            style=data["style"],
            depth=data["depth"],
            roles=tuple(data["roles"]),
            is_new=data["is_new"],
        )

    @classmethod
    def initial_for(cls, clause: Clause) -> dict[str, Any]:
        return {
            "text": clause.text,
            "term": clause.term,
            "number": clause.number,
            "style": clause.style,
            "depth": clause.depth,
            "roles": clause.roles,
            "is_new": clause.is_new,
        }


# ---------------------------------------------------------------------------
# Importing a code's text (conduct.importing)
# ---------------------------------------------------------------------------


class ImportSourceForm(RevisionMixin):
    """What every import starts with: for a new code, whose it is; for a draft, the revision the page showed."""

    owner = forms.ModelChoiceField(queryset=Organisation.objects.none(), label="Owned by", empty_label=None)

    def __init__(self, *args: Any, owners: QuerySet[Organisation] | None, **kwargs: Any) -> None:
        """``owners``: those the user may create a code for; None when the import is for a draft."""
        super().__init__(*args, **kwargs)
        if owners is None:
            del self.fields["owner"]
        else:
            cast(forms.ModelChoiceField, self.fields["owner"]).queryset = owners
            del self.fields["revision"]


class WordImportForm(ImportSourceForm):
    document = forms.FileField(
        label="Word document (.docx)",
        widget=forms.FileInput(
            attrs={"accept": ".docx,application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
        ),
        help_text=f"Up to {limits.MAX_UPLOAD_BYTES // 1024 // 1024} MB. An older .doc or a PDF: open it in Word "
        "and save it as “Word Document (.docx)” first.",
        error_messages={"required": "Choose the Word document to import.", "empty": "The file is empty."},
    )

    def clean_document(self) -> Any:
        """The size is checked before the file is read: Django keeps a large upload on disk until then."""
        upload = self.cleaned_data["document"]
        if (upload.size or 0) > limits.MAX_UPLOAD_BYTES:
            size, limit = upload.size / 1024 / 1024, limits.MAX_UPLOAD_BYTES / 1024 / 1024
            raise forms.ValidationError(f"The file is {size:.1f} MB; the limit is {limit:.0f} MB.", code="too_large")
        return upload


class TextImportForm(ImportSourceForm):
    text = forms.CharField(
        label="The code's text",
        widget=forms.Textarea(attrs={"rows": 16}),
        strip=False,  # leading spaces are how pasted lists nest
        help_text="Copy the whole code from the document or web page and paste it here, one paragraph a line.",
        validators=[at_most_chars(limits.MAX_PASTED_TEXT_CHARS, "The text")],
        error_messages={"required": "Paste the code's text."},
    )


class ImportedCodeForm(CodeDetailsForm):
    """A code made from an import: the details asked on the new-code page, less what the import settled."""

    field_order = ["title", "label"]

    label = forms.CharField(max_length=40, label="First version's label", help_text="For example 2026-2027.")


class ReviewChangesMixin(forms.Form):
    """Every correction of an import carries how many corrections the page showing it had seen."""

    changes = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ImportMergeForm(ReviewChangesMixin):
    prefix = "merge"  # three correction forms share a page: each field needs its own id


class ImportSplitForm(ReviewChangesMixin):
    prefix = "split"

    before = forms.CharField(
        label="Split before the words",
        max_length=limits.MAX_CLAUSE_TEXT_CHARS,
        help_text="Copy the words the second clause starts with, exactly as this clause has them.",
        error_messages={"required": "Type the words the second clause starts with."},
    )


class ImportMarksForm(ReviewChangesMixin):
    prefix = "mark"

    roles = forms.MultipleChoiceField(
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Applies only to",
        help_text="Leave all unticked if the clause applies to everyone who signs the code.",
    )
    is_new = forms.BooleanField(required=False, label="New or updated in this version")

    def __init__(self, *args: Any, audience: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = cast(forms.MultipleChoiceField, self.fields["roles"])  # the field declared above
        roles.choices = [(kind, role_label_plural(kind)) for kind in audience]


# ---------------------------------------------------------------------------
# Meetings
# ---------------------------------------------------------------------------


class MeetingForm(forms.Form):
    held_on = BoundedDateField(widget=DateInput, label="Date of the meeting")
    kind = forms.ChoiceField(choices=MeetingKind.choices, initial=MeetingKind.FULL_BOARD, label="Type of meeting")
    title = forms.CharField(max_length=200, required=False, help_text="Optional, e.g. Autumn term board meeting.")
    minutes_reference = forms.CharField(max_length=100, required=False, help_text="Optional, e.g. LLT-TB-2026-09.")

    @classmethod
    def initial_for(cls, meeting: Meeting) -> dict[str, Any]:
        return {
            "held_on": meeting.held_on,
            "kind": meeting.kind,
            "title": meeting.title,
            "minutes_reference": meeting.minutes_reference,
        }


class AttendanceForm(forms.Form):
    """One radio group per member of the board on the meeting date."""

    def __init__(self, *args: Any, members: list[Person], current: dict[int, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        for person in members:
            self.fields[f"person_{person.pk}"] = forms.ChoiceField(
                label=person.full_name,
                choices=AttendanceStatus.choices,
                widget=forms.RadioSelect,
                initial=current.get(person.pk),
                error_messages={
                    "required": f"Say whether {person.full_name} was present, sent apologies or was absent."
                },
            )

    def statuses(self) -> dict[int, str]:
        return {person.pk: self.cleaned_data[f"person_{person.pk}"] for person in self.members}


# ---------------------------------------------------------------------------
# Adoption
# ---------------------------------------------------------------------------


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, meeting: Meeting) -> str:
        title = f": {meeting.title}" if meeting.title else ""
        return f"{long_date(meeting.held_on)}, {meeting.get_kind_display()}{title}"


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, person: Person) -> str:
        return person.full_name


class AdoptionForm(forms.Form):
    meeting = MeetingChoiceField(
        queryset=Meeting.objects.none(), help_text="The meeting at which the board adopted this version."
    )
    minute_reference = forms.CharField(
        max_length=100, required=False, help_text="Where the minutes record the decision, e.g. item 6."
    )
    chair = PersonChoiceField(
        queryset=Person.objects.none(), empty_label=None, help_text="The chair who signs for the board."
    )
    chair_signature = forms.CharField(
        max_length=200,
        label="Chair's signature",
        help_text="The chair's full name, typed exactly as on record, as their signature.",
    )
    effective_on = BoundedDateField(widget=DateInput, label="Takes effect on")
    review_due_on = BoundedDateField(
        widget=DateInput,
        required=False,
        label="Next review due",
        help_text="Leave blank for one year after the meeting.",
    )
    signing_due_on = BoundedDateField(
        widget=DateInput,
        required=False,
        label="Signatures due by",
        help_text="Leave blank for the code's usual allowance after it takes effect.",
    )
    includes_sub_organisations = forms.BooleanField(
        required=False,
        label="Also adopt it for every organisation below (e.g. all academies)",
        help_text="Leave unticked if each of them adopts its own.",
    )

    def __init__(
        self,
        *args: Any,
        meetings: QuerySet[Meeting],
        chairs: QuerySet[Person],
        can_cover_below: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["meeting"]).queryset = meetings
        cast(forms.ModelChoiceField, self.fields["chair"]).queryset = chairs
        if not can_cover_below:
            del self.fields["includes_sub_organisations"]
