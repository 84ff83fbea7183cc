"""Read-side queries for conduct pages. Each returns everything a page needs in a fixed number of queries."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from conduct.models import Code, CodeVersion, Person, VersionStatus
from conduct.permissions import Action, organisations_for


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


def version_with_content(pk: int) -> CodeVersion:
    return CodeVersion.objects.select_related("code__owner", "based_on").get(pk=pk)


def reachable_filter(user: Person, action: Action) -> Q:
    return Q(pk__in=organisations_for(user, action).values("pk"))
