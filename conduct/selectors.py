"""Read-side queries for conduct pages. Each returns everything a page needs in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from conduct.models import Code, CodeVersion, Organisation, Person, Role, VersionStatus
from conduct.permissions import Action, organisations_for


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
    from acknowledgements.models import Obligation

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


def codes_administered(user: Person) -> QuerySet[Code]:
    """Codes owned by organisations where the person may draft or view reports, with their versions."""
    reachable = organisations_for(user, Action.VIEW_REPORTS) | organisations_for(user, Action.DRAFT)
    return (
        Code.objects.filter(owner__in=reachable.values("pk"))
        .select_related("owner")
        .prefetch_related(
            Prefetch("versions", queryset=CodeVersion.objects.select_related("code").order_by("-created_at"))
        )
        .annotate(version_count=Count("versions", distinct=True))
        .order_by("owner__name", "title")
    )


def current_version(code: Code) -> CodeVersion | None:
    """The most recently adopted version still in force somewhere, else the newest adopted one."""
    return (
        code.versions.filter(status=VersionStatus.ADOPTED).order_by("-adopted_at").first()
        or code.versions.exclude(status=VersionStatus.DRAFT).order_by("-adopted_at").first()
    )


def version_for_reader(user: Person, code: Code) -> CodeVersion | None:
    """The version this person owes for the code if any, else the current one."""
    from acknowledgements.models import Obligation

    owed = (
        Obligation.objects.filter(person=user, code=code, superseded_at__isnull=True)
        .select_related("version")
        .order_by("-owed_from")
        .first()
    )
    return owed.version if owed else current_version(code)


def version_with_content(pk: int) -> CodeVersion:
    return CodeVersion.objects.select_related("code__owner", "based_on").get(pk=pk)


def reachable_filter(user: Person, action: Action) -> Q:
    return Q(pk__in=organisations_for(user, action).values("pk"))
