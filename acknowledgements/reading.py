"""What the reading page needs to know about the reader and a version: do they owe it,
have they signed it, what did they sign before, what changed since, and the signing form.

A fixed number of queries whatever the size of the organisation or the code's history.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from acknowledgements.declarations import interests_still_held, latest_declaration
from acknowledgements.forms import DeclarationInput, SignatureForm
from acknowledgements.models import Acknowledgement, Obligation
from acknowledgements.obligations import current_acknowledgement, owed_obligation
from acknowledgements.signing import acceptance_statement
from conduct.diff import VersionDiff, diff_versions
from conduct.models import CodeVersion, Person, VersionStatus

ANNOTATIONS = {
    "added": ("clause-added", "New since you signed"),
    "changed": ("clause-changed", "Changed since you signed"),
    "moved": ("clause-changed", "Moved since you signed"),
}


@dataclass
class Reading:
    version: CodeVersion
    obligation: Obligation | None = None
    acknowledgement: Acknowledgement | None = None
    previous: Acknowledgement | None = None  # their signature of an earlier version of this code
    changes: VersionDiff | None = None
    replaced_by: Obligation | None = None  # the newer version they owe instead of this one
    statement: str = ""
    signature: SignatureForm | None = None
    declaration: DeclarationInput | None = None

    @property
    def can_sign(self) -> bool:
        return self.obligation is not None and self.acknowledgement is None

    @property
    def overdue(self) -> bool:
        return bool(self.obligation and self.obligation.due_on < timezone.localdate())

    def annotate(self, clause) -> tuple[str, str]:
        """For the renderer: highlight the clauses that changed since the reader's last signature."""
        kind = self.changed_clauses.get(clause.pk)
        if kind is None:
            return "", ""
        css, label = ANNOTATIONS[kind]
        return css, f'<span class="badge text-bg-primary ms-1">{label}</span>'

    @property
    def changed_clauses(self) -> dict[int, str]:
        if self.changes is None:
            return {}
        return {
            change.new.pk: change.kind
            for change in self.changes.changes
            if change.new is not None and change.kind in ANNOTATIONS
        }


def _previous_signature(person: Person, version: CodeVersion) -> Acknowledgement | None:
    """The reader's latest signature of a version of this code prepared before this one.

    Not always ``version.previous()``: a reader who skipped a year is shown what changed since the one they signed.
    """
    return (
        Acknowledgement.objects.filter(
            person=person, corrections__isnull=True, version__in=CodeVersion.objects.earlier_than(version)
        )
        .select_related("version")
        .order_by("-signed_at")
        .first()
    )


def reading_for(
    person: Person, version: CodeVersion, *, role_kinds: set[str] | None, data=None, preview: bool = False
) -> Reading:
    """The reader's position on this version; ``data`` binds the signing forms (a POST)."""
    reading = Reading(version=version)
    if not getattr(person, "is_authenticated", False) or version.status == VersionStatus.DRAFT:
        return reading
    reading.acknowledgement = current_acknowledgement(person, version)
    reading.obligation = owed_obligation(person, version)
    if reading.obligation is None and reading.acknowledgement is None:
        reading.replaced_by = (
            Obligation.objects.filter(person=person, code_id=version.code_id, superseded_at__isnull=True)
            .for_current_roles()
            .exclude(version=version)
            .select_related("version__code")
            .first()
        )
    if reading.acknowledgement is None and not preview:
        reading.previous = _previous_signature(person, version)
        if reading.previous is not None:
            reading.changes = diff_versions(reading.previous.version, version, role_kinds=role_kinds)
    obligation = reading.obligation
    if obligation is not None and reading.can_sign and not preview:
        reading.statement = acceptance_statement(version)
        reading.signature = SignatureForm(data, person=person, statement=reading.statement)
        if version.code.requires_declaration:
            earlier = latest_declaration(person, obligation.organisation)
            reading.declaration = DeclarationInput(
                data, prompt=version.code.declaration_prompt, initial_interests=interests_still_held(earlier)
            )
    return reading
