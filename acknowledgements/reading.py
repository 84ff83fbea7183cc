"""What the reading page needs to know about the reader and a version: do they owe it,
have they signed it, what did they sign before, what changed since, and the signing form.

A fixed number of queries whatever the size of the organisation or the code's history.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from acknowledgements.declarations import interests_still_held, latest_declaration
from acknowledgements.forms import DeclarationInput, SignatureForm
from acknowledgements.issuing import BODY_CACHE_SECONDS
from acknowledgements.models import Acknowledgement, Obligation
from acknowledgements.obligations import owed_obligation
from acknowledgements.signing import acceptance_statement
from conduct.diff import diff_versions
from conduct.models import CodeVersion, Person, Section, VersionStatus
from conduct.rendering import render_sections

ANNOTATIONS = {
    "added": ("clause-added", "New since you signed"),
    "changed": ("clause-changed", "Changed since you signed"),
    "moved": ("clause-changed", "Moved since you signed"),
}


def is_cacheable(version: CodeVersion) -> bool:
    """Adopted (or superseded) text never changes; a draft's does, so what is made from it is never cached."""
    return version.status != VersionStatus.DRAFT and bool(version.content_hash)


def version_cache_identity(version: CodeVersion) -> str:
    """A version's text in a cache key (as ``version_body_html``'s): created_at as well as pk, because a database
    rebuilt from scratch (tests, a restored development copy) reuses ids."""
    return f"{version.pk}:{version.created_at.timestamp()}:{version.content_hash}"


def role_view_key(role_kinds: set[str] | None) -> str:
    """The roles a text is shown for, in a cache key ("*": every clause)."""
    return ",".join(sorted(role_kinds)) if role_kinds is not None else "*"


class SectionsOnce:
    """A version's sections with their clauses, loaded (two queries) the first time they are read and then reused
    by the table of contents, the comparison and the text; not loaded at all when all three come from the cache."""

    def __init__(self, version: CodeVersion):
        self.version = version
        self._sections: list[Section] | None = None

    def load(self) -> list[Section]:
        if self._sections is None:
            self._sections = self.version.ordered_sections()
        return self._sections

    def __iter__(self) -> Iterator[Section]:
        return iter(self.load())


@dataclass(frozen=True)
class OutlineEntry:
    key: str
    number: str
    title: str


def version_outline(version: CodeVersion, sections: SectionsOnce) -> list[OutlineEntry]:
    """The sections for the table of contents; cached for adopted text (which never changes)."""

    def build() -> list[OutlineEntry]:
        return [OutlineEntry(key=s.key, number=s.number, title=s.title) for s in sections]

    if not is_cacheable(version):
        return build()
    key = f"version-outline:{version_cache_identity(version)}"
    outline = cache.get(key)
    if outline is None:
        outline = build()
        cache.set(key, outline, BODY_CACHE_SECONDS)
    return outline


@dataclass(frozen=True)
class ChangeLine:
    kind: str
    label: str
    section: str
    html: SafeString
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Changes:
    """What changed for a reader since the version they signed, as the reading page shows it:
    the summary, each change, and the new version's text with the changed clauses highlighted."""

    has_changes: bool
    summary: str
    changed_only: tuple[ChangeLine, ...]
    body: str

    @property
    def body_html(self) -> SafeString:
        return mark_safe(self.body)  # noqa: S308 - produced by render_sections, which escapes every clause


def _compute_changes(
    previous: CodeVersion, version: CodeVersion, role_kinds: set[str] | None, sections: list[Section]
) -> Changes:
    diff = diff_versions(previous, version, role_kinds=role_kinds, new_sections=sections)
    highlighted = {  # built once, not once per clause
        change.new.pk: ANNOTATIONS[change.kind]
        for change in diff.changes
        if change.new is not None and change.kind in ANNOTATIONS
    }

    def annotate(clause) -> tuple[str, str]:
        found = highlighted.get(clause.pk)
        if found is None:
            return "", ""
        css, label = found
        return css, f'<span class="badge text-bg-primary ms-1">{label}</span>'

    body = render_sections(sections, role_kinds=role_kinds, show_role_tags=role_kinds is None, annotate=annotate)
    return Changes(
        has_changes=diff.has_changes,
        summary=diff.summary(),
        changed_only=tuple(
            ChangeLine(kind=c.kind, label=c.label, section=c.section, html=c.html, notes=c.notes)
            for c in diff.changed_only
        ),
        body=str(body),
    )


def changes_since(
    previous: CodeVersion, version: CodeVersion, *, role_kinds: set[str] | None, sections: SectionsOnce
) -> Changes:
    """The comparison, computed once per (previous version, version, role view) and then read from the cache:
    both versions' texts are fixed once adopted, so the answer never changes. Drafts are never cached."""
    if not (is_cacheable(previous) and is_cacheable(version)):
        return _compute_changes(previous, version, role_kinds, sections.load())
    key = (
        f"version-changes:{version_cache_identity(previous)}:{version_cache_identity(version)}:"
        f"{role_view_key(role_kinds)}"
    )
    changes = cache.get(key)
    if changes is None:
        changes = _compute_changes(previous, version, role_kinds, sections.load())
        cache.set(key, changes, BODY_CACHE_SECONDS)
    return changes


@dataclass
class Reading:
    version: CodeVersion
    obligation: Obligation | None = None
    acknowledgement: Acknowledgement | None = None
    previous: Acknowledgement | None = None  # their signature of an earlier version of this code
    changes: Changes | None = None
    replaced_by: Obligation | None = None  # the newer version they owe instead of this one
    statement: str = ""
    signature: SignatureForm | None = None
    declaration: DeclarationInput | None = None
    first_viewed: bool = False  # their first view of this version is on record already
    sections: SectionsOnce | None = field(default=None, repr=False)

    @property
    def can_sign(self) -> bool:
        return self.obligation is not None and self.acknowledgement is None

    @property
    def overdue(self) -> bool:
        return bool(self.obligation and self.obligation.due_on < timezone.localdate())


def signatures_for_reading(
    person: Person, version: CodeVersion
) -> tuple[Acknowledgement | None, Acknowledgement | None]:
    """In one query: the person's acknowledgement of this version as it now stands (the latest correction, as
    ``current_acknowledgement``) and their latest signature of a version of the code prepared before this one.

    The previous one is not always ``version.previous()``: a reader who skipped a year is shown what changed
    since the one they signed. "Prepared before" is decided on the versions read with the signatures
    (``CodeVersion.prepared_before``): an EXISTS for it made compiling the query cost more than running it.
    """
    signatures = (
        Acknowledgement.objects.filter(person=person, version__code_id=version.code_id, corrections__isnull=True)
        .select_related("version", "recorded_by")
        .order_by("-signed_at", "-pk")
    )
    current = previous = None
    for ack in signatures:
        if ack.version_id == version.pk:
            current = current or ack
        elif ack.version.prepared_before(version):
            previous = previous or ack
    return current, previous


def signing_forms(
    person: Person, version: CodeVersion, obligation: Obligation, data=None
) -> tuple[str, SignatureForm, DeclarationInput | None]:
    """The statement the signer accepts, the signature form and (if the code asks for one) the declaration."""
    statement = acceptance_statement(version)
    signature = SignatureForm(data, person=person, statement=statement)
    declaration = None
    if version.code.requires_declaration:
        earlier = latest_declaration(person, obligation.organisation)
        declaration = DeclarationInput(
            data, prompt=version.code.declaration_prompt, initial_interests=interests_still_held(earlier)
        )
    return statement, signature, declaration


def reading_for(
    person: Person, version: CodeVersion, *, role_kinds: set[str] | None, data=None, preview: bool = False
) -> Reading:
    """The reader's position on this version; ``data`` binds the signing forms (a POST).

    Two queries (the obligation, with whether it was viewed before, and the signatures of the code), plus
    the version's sections only if the comparison is not in the cache yet.
    """
    sections = SectionsOnce(version)
    reading = Reading(version=version, sections=sections)
    if not getattr(person, "is_authenticated", False) or version.status == VersionStatus.DRAFT:
        return reading
    reading.obligation = owed_obligation(person, version, with_first_view=True)
    reading.first_viewed = bool(getattr(reading.obligation, "first_viewed", False))
    reading.acknowledgement, previous = signatures_for_reading(person, version)
    if reading.obligation is None and reading.acknowledgement is None:
        reading.replaced_by = (
            Obligation.objects.filter(person=person, code_id=version.code_id, superseded_at__isnull=True)
            .for_current_roles()
            .exclude(version=version)
            .select_related("version__code")
            .first()
        )
    if reading.acknowledgement is None and not preview:
        reading.previous = previous
        if previous is not None:
            reading.changes = changes_since(previous.version, version, role_kinds=role_kinds, sections=sections)
    obligation = reading.obligation
    if obligation is not None and reading.can_sign and not preview:
        reading.statement, reading.signature, reading.declaration = signing_forms(person, version, obligation, data)
    return reading
