"""Read-side queries for the signer's pages: what they owe, which version they read, as which role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from acknowledgements.models import Obligation
from conduct.models import Code, CodeVersion, Organisation, Person, Role
from conduct.selectors import current_version


@dataclass
class OwedCode:
    code: Code
    version: CodeVersion
    organisation: Organisation
    due_on: date
    status: str


def reader_role_kinds(user: Person, code: Code, on: date | None = None) -> set[str] | None:
    """The audience roles the reader holds where the code applies; None if they hold none (show everything)."""
    if not getattr(user, "is_authenticated", False):
        return None
    kinds = set(
        Role.objects.current(on)
        .filter(person=user, kind__in=code.audience, organisation__path__startswith=code.owner.path)
        .values_list("kind", flat=True)
    )
    return kinds or None


def codes_owed(user: Person, today: date | None = None) -> list[OwedCode]:
    """Code versions the person owes or has signed, for their current roles (one query)."""
    today = today or timezone.localdate()
    obligations = (
        Obligation.objects.filter(person=user, superseded_at__isnull=True)
        .for_current_roles(today)
        .select_related("code", "version__code", "organisation")
        .order_by("due_on")
    )
    return [
        OwedCode(code=o.code, version=o.version, organisation=o.organisation, due_on=o.due_on, status=o.status(today))
        for o in obligations
    ]


def version_for_reader(user: Person, code: Code) -> CodeVersion | None:
    """The version this person owes for the code if any, else the current one."""
    owed = (
        Obligation.objects.filter(person=user, code=code, superseded_at__isnull=True)
        .select_related("version")
        .order_by("-owed_from")
        .first()
    )
    return owed.version if owed else current_version(code)
