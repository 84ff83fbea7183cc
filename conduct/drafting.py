"""Preparing the next version of a code: drafts and their edits.

A draft starts as a copy of the version in force, keeping every section's and
clause's ``key`` so the diff can follow a clause however it is reworded or
moved. Each edit is saved at once ("save as you go") and states the draft
revision it was based on: the revision is bumped by a conditional
``UPDATE … WHERE revision = n``, so when two people edit the same draft the
second edit finds the row already moved on, changes nothing and gets a
conflict message naming who saved first. Adopted versions never change
(``conduct.models`` and the database refuse), so every edit here also checks
that the version is still a draft.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from conduct import limits
from conduct.attachments import attachments_copy
from conduct.audit import audit_log_record
from conduct.models import (
    AuditAction,
    Clause,
    ClauseStyle,
    Code,
    CodeVersion,
    Organisation,
    Person,
    RoleKind,
    Section,
    VersionStatus,
    role_label,
)
from conduct.services import version_content_as_data, version_create_from_content
from core.academic_year import academic_year_start, version_label
from core.display import long_date

MAX_DEPTH = 3


class DraftConflict(ValidationError):
    """Someone else saved a change to the draft after this edit's page was loaded."""


class DraftLocked(ValidationError):
    """The version is no longer a draft: it has been adopted and its text is fixed."""


# ---------------------------------------------------------------------------
# Revisions: the optimistic lock every edit goes through
# ---------------------------------------------------------------------------


def _claim(version: CodeVersion, revision: int, by: Person | None) -> int:
    """Move the draft from ``revision`` to the next one, or refuse; returns the new revision.

    One conditional UPDATE: if another edit (another person, another tab, a
    double click) got there first, no row matches and nothing changes.
    """
    now = timezone.now()
    claimed = CodeVersion.objects.filter(pk=version.pk, revision=revision, status=VersionStatus.DRAFT).update(
        revision=F("revision") + 1, updated_at=now, updated_by=by
    )
    if claimed != 1:
        _raise_stale(version, revision)
    version.revision, version.updated_at, version.updated_by = revision + 1, now, by
    return version.revision


def _raise_stale(version: CodeVersion, revision: int) -> None:
    current = CodeVersion.objects.filter(pk=version.pk).select_related("updated_by").first()
    if current is None:
        raise DraftLocked("This draft has been discarded.")
    if current.status != VersionStatus.DRAFT:
        raise DraftLocked(f"Version {current.label} has been adopted; its text can no longer be changed.")
    who = current.updated_by.full_name if current.updated_by else "Someone else"
    local = timezone.localtime(current.updated_at)
    when = f"{local:%H:%M} on {long_date(local)}"
    raise DraftConflict(
        f"{who} saved a change to this draft at {when}, after you opened it "
        f"(revision {current.revision}; you were editing revision {revision}). "
        "Your change has not been saved, so nothing was overwritten. "
        "Check the draft as it is now and make your change again."
    )


def _audit(
    action: AuditAction, *, by: Person | None, version: CodeVersion, summary: str, details: dict[str, Any]
) -> None:
    """The officers' audit log entry of a change to a code or its draft, filed with the code's owner."""
    audit_log_record(
        actor=by,
        action=action,
        organisation=version.code.owner,
        target=version,
        summary=summary,
        details=details,
    )


def _edited(version: CodeVersion, by: Person | None, what: str, **details: Any) -> None:
    """A draft edit: which revision it made and what it changed."""
    _audit(
        AuditAction.DRAFT_CHANGED,
        by=by,
        version=version,
        summary=f"{what} in the draft {version.label} of {version.code.title}.",
        details={"after": {"revision": version.revision, **details}},
    )


def _draft_of(version_id: int) -> CodeVersion:
    version = CodeVersion.objects.select_related("code").get(pk=version_id)
    if version.status != VersionStatus.DRAFT:
        raise DraftLocked(f"Version {version.label} has been adopted; its text can no longer be changed.")
    return version


# ---------------------------------------------------------------------------
# Starting drafts and codes
# ---------------------------------------------------------------------------


LABEL_YEARS = re.compile(r"^(?P<a>\d{4})(?P<sep>\s*[-–/]\s*)(?P<b>\d{2}|\d{4})$")


def next_label(label: str) -> str:
    """The label for the year after: "2025-2026" → "2026-2027", "2024 - 25" → "2025 - 26"."""
    match = LABEL_YEARS.match(label.strip())
    if not match:
        return f"{label} (revised)" if label else str(timezone.localdate().year)
    first, second = int(match["a"]) + 1, int(match["b"]) + 1
    second_text = f"{second % 100:02d}" if len(match["b"]) == 2 else str(second)
    return f"{first}{match['sep']}{second_text}"


def default_new_label(today: date | None = None, *, after: str = "") -> str:
    """The label a new draft is offered: the current academic year, e.g. "2026-2027" in December 2026; or, when
    the version it is drafted from (``after``) is already labelled for this year or a later one, the year after
    that ("2027-2028" after "2026-2027")."""
    current = academic_year_start(today or timezone.localdate()).year
    match = LABEL_YEARS.match(after.strip())
    if match and int(match["a"]) >= current:
        return next_label(after)
    return version_label(current)


def latest_locked_version(code: Code) -> CodeVersion | None:
    """The version a new draft starts from: the most recently adopted text of the code."""
    return code.versions.exclude(status=VersionStatus.DRAFT).order_by("-adopted_at", "-created_at").first()


def open_draft(code: Code) -> CodeVersion | None:
    return code.versions.filter(status=VersionStatus.DRAFT).order_by("-created_at").first()


def _check_label(code: Code, label: str, *, exclude: int | None = None) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise ValidationError({"label": "Give the version a label, for example 2026-2027."})
    clash = code.versions.filter(label__iexact=label)
    if exclude:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ValidationError({"label": f"{code.title} already has a version labelled {label}."})
    return label


@transaction.atomic
def draft_start(*, code: Code, created_by: Person, label: str = "", based_on: CodeVersion | None = None) -> CodeVersion:
    """Start the next version as a copy of the latest adopted one (or empty for a new code).

    One draft per code at a time: the code row is locked while checking, so two
    clicks on "Start a draft" make one draft, and the second gets a clear error.
    """
    code = Code.objects.select_for_update().get(pk=code.pk)
    existing = open_draft(code)
    if existing:
        raise ValidationError(f"A draft of {code.title} ({existing.label}) is already in progress; continue that one.")
    based_on = based_on or latest_locked_version(code)
    if based_on is not None and based_on.code_id != code.pk:
        raise ValidationError("A draft can only start from a version of the same code.")
    label = _check_label(code, label or (next_label(based_on.label) if based_on else default_new_label()))
    content = version_content_as_data(based_on, keep_keys=True) if based_on else []
    version = version_create_from_content(
        code=code, label=label, sections=content, created_by=created_by, based_on=based_on
    )
    if based_on is not None:
        attachments_copy(source=based_on, draft=version)  # the files are part of the text it copies
    CodeVersion.objects.filter(pk=version.pk).update(updated_by=created_by)
    version.updated_by = created_by
    _audit(
        AuditAction.DRAFT_STARTED,
        by=created_by,
        version=version,
        summary=f"Started the draft {version.label} of {code.title}"
        + (f", from {based_on.label}." if based_on is not None else "."),
        details={"before": None, "after": {"version_id": version.pk, "based_on_id": based_on.pk if based_on else None}},
    )
    return version


def _unique_slug(title: str, owner: Organisation) -> str:
    base = slugify(f"{owner.short_name or owner.name} {title}")[:90] or "code"
    slug, n = base, 2
    while Code.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@dataclass(frozen=True)
class CodeDetails:
    title: str
    audience: list[str]
    summary: str = ""
    signing_due_days: int = 30
    requires_declaration: bool = False
    declaration_prompt: str = ""
    offered_as_model: bool = False


def _validated_code(code: Code) -> Code:
    try:
        code.full_clean(exclude=["slug", "derived_from", "owner"])
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
    return code


@transaction.atomic
def code_create(
    *,
    owner: Organisation,
    details: CodeDetails,
    created_by: Person,
    label: str = "",
    copy_of: CodeVersion | None = None,
) -> CodeVersion:
    """A new code owned by ``owner``, with its first draft: empty, or a copy of another code's version.

    A copy keeps a link to where it came from (``Code.derived_from``) and the
    clause keys, so the diff against the model code shows the local edits.
    Returns the draft.
    """
    if copy_of is not None and copy_of.status == VersionStatus.DRAFT:
        raise ValidationError({"copy_of": "Only adopted text can be copied, not another organisation's draft."})
    code = Code(
        owner=owner,
        slug=_unique_slug(details.title, owner),
        title=" ".join(details.title.split()),
        audience=list(details.audience),
        summary=details.summary.strip(),
        signing_due_days=details.signing_due_days,
        requires_declaration=details.requires_declaration,
        declaration_prompt=details.declaration_prompt.strip(),
        offered_as_model=details.offered_as_model,
        derived_from=copy_of,
    )
    _validated_code(code).save()
    content = version_content_as_data(copy_of, keep_keys=True) if copy_of else []
    if copy_of is not None:
        # Clauses limited to roles that do not sign the new code would never be shown to anyone.
        for section in content:
            for clause in section["clauses"]:
                clause["roles"] = [kind for kind in clause["roles"] if kind in code.audience]
    label = _check_label(code, label or default_new_label())
    version = version_create_from_content(code=code, label=label, sections=content, created_by=created_by)
    CodeVersion.objects.filter(pk=version.pk).update(updated_by=created_by)
    _audit(
        AuditAction.CODE_CREATED,
        by=created_by,
        version=version,
        summary=f"Created {code.title} for {owner.name}, with the draft {version.label}"
        + (f" copied from {copy_of.code.title} {copy_of.label}." if copy_of is not None else "."),
        details={"before": None, "after": {"code_id": code.pk, **_code_facts(code), "version_id": version.pk}},
    )
    return version


def _code_facts(code: Code) -> dict[str, Any]:
    return {
        "title": code.title,
        "audience": list(code.audience),
        "summary": code.summary,
        "signing_due_days": code.signing_due_days,
        "requires_declaration": code.requires_declaration,
        "declaration_prompt": code.declaration_prompt,
        "offered_as_model": code.offered_as_model,
    }


@transaction.atomic
def code_update(*, code: Code, details: CodeDetails, by: Person | None = None) -> Code:
    """Change a code's settings (not its text: that is versioned). ``by``: the officer, for the audit log."""
    code = Code.objects.select_for_update().select_related("owner").get(pk=code.pk)
    before = _code_facts(code)
    code.title = " ".join(details.title.split())
    code.audience = list(details.audience)
    code.summary = details.summary.strip()
    code.signing_due_days = details.signing_due_days
    code.requires_declaration = details.requires_declaration
    code.declaration_prompt = details.declaration_prompt.strip()
    code.offered_as_model = details.offered_as_model
    _validated_code(code).save()
    after = _code_facts(code)
    if after != before:
        audit_log_record(
            actor=by,
            action=AuditAction.CODE_SETTINGS_CHANGED,
            organisation=code.owner,
            target=code,
            summary=f"Changed the settings of {code.title}: "
            + ", ".join(key.replace("_", " ") for key in after if after[key] != before[key])
            + ".",
            details={"before": before, "after": after},
        )
    return code


@transaction.atomic
def draft_update(*, version: CodeVersion, revision: int, label: str, by: Person) -> CodeVersion:
    version = _draft_of(version.pk)
    label = _check_label(version.code, label, exclude=version.pk)
    before = version.label
    _claim(version, revision, by)
    CodeVersion.objects.filter(pk=version.pk).update(label=label)
    version.label = label
    if label != before:
        _edited(version, by, f"Relabelled {before} as {label}", label_before=before, label=label)
    return version


@transaction.atomic
def draft_discard(*, version: CodeVersion, revision: int, by: Person) -> None:
    """Throw a draft away (its sections and clauses go with it). Adopted versions cannot be discarded."""
    version = _draft_of(version.pk)
    _claim(version, revision, by)
    _audit(
        AuditAction.DRAFT_DISCARDED,
        by=by,
        version=version,
        summary=f"Discarded the draft {version.label} of {version.code.title}.",
        details={"before": {"version_id": version.pk, "label": version.label}, "after": None},
    )
    Clause.objects.filter(section__version=version).delete()
    Section.objects.filter(version=version).delete()
    CodeVersion.objects.filter(pk=version.pk, status=VersionStatus.DRAFT).delete()


# ---------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------


def _clean_section(number: str, title: str) -> tuple[str, str]:
    number, title = " ".join((number or "").split()), " ".join((title or "").split())
    errors = {}
    if len(number) > 20:
        errors["number"] = "Keep the number to 20 characters or fewer."
    if len(title) > limits.MAX_SECTION_TITLE_CHARS:
        errors["title"] = f"Keep the heading to {limits.MAX_SECTION_TITLE_CHARS} characters or fewer."
    if errors:
        raise ValidationError(errors)
    return number, title


def _renumber(rows: list, model) -> None:
    """Positions 1…n in the given order; stored rows whose position changed are written in one statement.

    A row not yet saved (being inserted) just gets its position; the caller saves it.
    """
    changed = []
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            row.position = position
            if row.pk is not None:
                changed.append(row)
    if changed:
        model.objects.bulk_update(changed, ["position"])


def _sections(version: CodeVersion) -> list[Section]:
    return list(Section.objects.filter(version=version).order_by("position", "pk"))


@transaction.atomic
def section_add(
    *, version: CodeVersion, revision: int, by: Person, number: str = "", title: str = "", after: Section | None = None
) -> Section:
    """A new section, after ``after`` or at the end."""
    version = _draft_of(version.pk)
    number, title = _clean_section(number, title)
    if not (number or title):
        raise ValidationError({"title": "Give the section a heading or a number."})
    _claim(version, revision, by)
    sections = _sections(version)
    section = Section(version=version, number=number, title=title, position=0)
    index = next((i + 1 for i, s in enumerate(sections) if after and s.pk == after.pk), len(sections))
    sections.insert(index, section)
    _renumber(sections, Section)
    section.save()
    _edited(version, by, f"Added the section “{title or number}”", section_id=section.pk)
    return section


@transaction.atomic
def section_update(*, section: Section, revision: int, by: Person, number: str, title: str) -> Section:
    version = _draft_of(section.version_id)
    number, title = _clean_section(number, title)
    _claim(version, revision, by)
    before = {"number": section.number, "title": section.title}
    Section.objects.filter(pk=section.pk).update(number=number, title=title)
    section.number, section.title = number, title
    _edited(version, by, f"Changed the section “{title or number}”", section_id=section.pk, section_before=before)
    return section


@transaction.atomic
def section_move(*, section: Section, revision: int, by: Person, offset: int) -> Section:
    """Move a section up (``offset=-1``) or down (``+1``)."""
    version = _draft_of(section.version_id)
    sections = _sections(version)
    index = next(i for i, s in enumerate(sections) if s.pk == section.pk)
    target = index + offset
    if not 0 <= target < len(sections):
        raise ValidationError("The section is already at the " + ("top." if offset < 0 else "bottom."))
    _claim(version, revision, by)
    sections.insert(target, sections.pop(index))
    _renumber(sections, Section)
    _edited(version, by, f"Moved the section “{section.title or section.number}”", section_id=section.pk)
    return sections[target]


@transaction.atomic
def section_remove(*, section: Section, revision: int, by: Person) -> None:
    """Remove a section and every clause in it."""
    version = _draft_of(section.version_id)
    _claim(version, revision, by)
    _edited(version, by, f"Removed the section “{section.title or section.number}”", section_id=section.pk)
    Clause.objects.filter(section=section).delete()
    Section.objects.filter(pk=section.pk).delete()
    _renumber(_sections(version), Section)


# ---------------------------------------------------------------------------
# Clauses
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClauseContent:
    text: str
    number: str = ""
    term: str = ""
    style: str = ClauseStyle.PARAGRAPH
    depth: int = 0
    roles: tuple[str, ...] = ()
    is_new: bool = True

    def cleaned(self, code: Code) -> dict[str, Any]:
        """Normalised field values, or a ValidationError naming each bad field."""
        errors: dict[str, str] = {}
        text = (self.text or "").strip()
        if not text:
            errors["text"] = "Write the clause's text."
        elif len(text) > limits.MAX_CLAUSE_TEXT_CHARS:
            errors["text"] = (
                f"The clause is {len(text):,} characters long; the limit is {limits.MAX_CLAUSE_TEXT_CHARS:,}. "
                "Split it into two clauses, or shorten it."
            )
        if len(self.number or "") > 20:
            errors["number"] = "Keep the number to 20 characters or fewer."
        if len(self.term or "") > limits.MAX_TERM_CHARS:
            errors["term"] = f"Keep the lead-in to {limits.MAX_TERM_CHARS} characters or fewer."
        if self.style not in ClauseStyle.values:
            errors["style"] = "Choose how the clause is shown."
        if not 0 <= int(self.depth) <= MAX_DEPTH:
            errors["depth"] = f"Indent between 0 and {MAX_DEPTH} levels."
        roles = list(dict.fromkeys(self.roles or ()))
        unknown = [kind for kind in roles if kind not in RoleKind.values]
        outside = [kind for kind in roles if kind in RoleKind.values and kind not in code.audience]
        if unknown:
            errors["roles"] = f"Unknown role(s): {', '.join(unknown)}."
        elif outside:
            errors["roles"] = (
                f"{', '.join(role_label(k) for k in outside)} do not sign {code.title}; "
                "a clause can only be limited to roles the code applies to."
            )
        if errors:
            raise ValidationError(errors)
        return {
            "text": text,
            "number": " ".join((self.number or "").split()),
            "term": " ".join((self.term or "").split()),
            "style": self.style,
            "depth": int(self.depth),
            "roles": sorted(roles),
            "is_new": bool(self.is_new),
        }


def _clauses(section_id: int) -> list[Clause]:
    return list(Clause.objects.filter(section_id=section_id).order_by("position", "pk"))


@transaction.atomic
def clause_add(
    *, section: Section, revision: int, by: Person, content: ClauseContent, after: Clause | None = None
) -> Clause:
    """A new clause in ``section``, after ``after`` or at the end. New clauses are marked new by default."""
    version = _draft_of(section.version_id)
    fields = content.cleaned(version.code)
    if after is not None and after.section_id != section.pk:
        raise ValidationError("Choose a clause in the same section to add after.")
    _claim(version, revision, by)
    clauses = _clauses(section.pk)
    index = next((i + 1 for i, c in enumerate(clauses) if after and c.pk == after.pk), len(clauses))
    clause = Clause(section=section, position=0, **fields)
    clauses.insert(index, clause)
    _renumber(clauses, Clause)
    clause.save()
    _edited(version, by, "Added a clause", clause_id=clause.pk, text=clause.text)
    return clause


@transaction.atomic
def clause_update(*, clause: Clause, revision: int, by: Person, content: ClauseContent) -> Clause:
    version = _draft_of(Section.objects.values_list("version_id", flat=True).get(pk=clause.section_id))
    fields = content.cleaned(version.code)
    _claim(version, revision, by)
    before = Clause.objects.filter(pk=clause.pk).values(*fields).first()
    Clause.objects.filter(pk=clause.pk).update(**fields)
    for name, value in fields.items():
        setattr(clause, name, value)
    _edited(version, by, "Changed a clause", clause_id=clause.pk, clause_before=before, clause_after=fields)
    return clause


@transaction.atomic
def clause_move(*, clause: Clause, revision: int, by: Person, offset: int) -> Clause:
    """Up (``-1``) or down (``+1``) one place; past the first or last clause it crosses into the next section."""
    section = Section.objects.get(pk=clause.section_id)
    version = _draft_of(section.version_id)
    clauses = _clauses(section.pk)
    index = next(i for i, c in enumerate(clauses) if c.pk == clause.pk)
    target = index + offset
    if 0 <= target < len(clauses):
        _claim(version, revision, by)
        clauses.insert(target, clauses.pop(index))
        _renumber(clauses, Clause)
        _edited(version, by, "Moved a clause", clause_id=clause.pk)
        return clauses[target]
    sections = _sections(version)
    s_index = next(i for i, s in enumerate(sections) if s.pk == section.pk) + (1 if offset > 0 else -1)
    if not 0 <= s_index < len(sections):
        raise ValidationError(
            "The clause is already at the " + ("start of the code." if offset < 0 else "end of the code.")
        )
    return _clause_to_section(clause, version, revision, by, sections[s_index], at_end=offset < 0)


@transaction.atomic
def clause_move_to(*, clause: Clause, revision: int, by: Person, section: Section) -> Clause:
    """Move a clause to the end of another section of the same draft."""
    version = _draft_of(section.version_id)
    if Section.objects.filter(pk=clause.section_id).values_list("version_id", flat=True).first() != version.pk:
        raise ValidationError("Choose a section of the same draft.")
    if section.pk == clause.section_id:
        raise ValidationError("The clause is already in that section.")
    return _clause_to_section(clause, version, revision, by, section, at_end=True)


def _clause_to_section(
    clause: Clause, version: CodeVersion, revision: int, by: Person, target: Section, *, at_end: bool
) -> Clause:
    _claim(version, revision, by)
    source_id = clause.section_id
    Clause.objects.filter(pk=clause.pk).update(section=target, position=0 if not at_end else 2**31 - 1)
    _renumber(_clauses(target.pk), Clause)
    _renumber(_clauses(source_id), Clause)
    _edited(version, by, "Moved a clause to another section", clause_id=clause.pk, section_id=target.pk)
    return Clause.objects.get(pk=clause.pk)


@transaction.atomic
def clause_remove(*, clause: Clause, revision: int, by: Person) -> None:
    section_id = clause.section_id
    version = _draft_of(Section.objects.values_list("version_id", flat=True).get(pk=section_id))
    _claim(version, revision, by)
    _edited(version, by, "Removed a clause", clause_id=clause.pk, text=clause.text)
    Clause.objects.filter(pk=clause.pk).delete()
    _renumber(_clauses(section_id), Clause)


def draft_changes_unflagged(version: CodeVersion, changes: Iterable[Any]) -> list[Clause]:
    """Clauses added or reworded since the previous version but not marked "new or updated"."""
    return [c.new for c in changes if c.kind in ("added", "changed") and c.new is not None and not c.new.is_new]
