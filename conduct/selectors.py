"""Read-side queries for conduct pages. Each returns everything a page needs in a fixed number of queries.

Who may see what is decided in ``conduct.permissions``; these functions only shape
what the permitted query sets return into what a page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from conduct.diff import ClauseChange, VersionDiff, diff_versions
from conduct.drafting import draft_changes_unflagged
from conduct.models import (
    Adoption,
    AttendanceStatus,
    Clause,
    Code,
    CodeVersion,
    Meeting,
    Organisation,
    Person,
    Role,
    RoleKind,
    Section,
    VersionStatus,
)
from conduct.permissions import (
    boards_for_adoption,
    boards_for_meetings,
    can_create_code,
    can_draft_code,
    codes_administered_by,
    codes_followed_by,
)
from conduct.reviews import ReviewDue, replaced_for_review, review_state, reviews_due

# How far back the adoption form looks for the board's chairs (the adoption rules check the meeting date).
CHAIRS_LOOKBACK_DAYS = 730


def codes_administered(user: Person) -> QuerySet[Code]:
    """Codes owned by organisations where the person may draft or view reports, with their versions."""
    return (
        codes_administered_by(user)
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


# ---------------------------------------------------------------------------
# The governance overview
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardSummary:
    board: Organisation
    meeting_count: int
    last_meeting: date | None


@dataclass(frozen=True)
class GovernanceOverview:
    """An officer's yearly cycle in one place: boards with their meetings, codes with their versions newest first."""

    boards: list[BoardSummary]
    codes: list[Code]
    can_create: bool
    reviews: list[ReviewDue]

    @property
    def is_empty(self) -> bool:
        """Nothing to govern: no board, no code, and no organisation to create a code for."""
        return not self.boards and not self.codes and not self.can_create


def governance_overview(user: Person) -> GovernanceOverview:
    boards = boards_for_meetings(user).annotate(meeting_count=Count("meetings"), last_meeting=Max("meetings__held_on"))
    codes = (
        codes_followed_by(user)
        .select_related("owner")
        .prefetch_related(Prefetch("versions", queryset=CodeVersion.objects.order_by("-created_at")))
        .order_by("owner__name", "title")
    )
    return GovernanceOverview(
        boards=[BoardSummary(board, board.meeting_count, board.last_meeting) for board in boards],
        codes=list(codes),
        can_create=can_create_code(user),
        reviews=reviews_due(user),
    )


# ---------------------------------------------------------------------------
# A code's history
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AdoptionEntry:
    """One board's adoption of a version; ``review_state`` ("overdue", "due" or "") only on each board's latest."""

    adoption: Adoption
    review_state: str


@dataclass(frozen=True)
class VersionEntry:
    """A version (annotated with ``owed`` and ``signed``), what it is compared with, and its adoptions newest first."""

    version: CodeVersion
    previous: CodeVersion | None
    adoptions: list[AdoptionEntry]
    # A board may take it to adoption: the draft, or the newest version that is not a draft (an older one has been
    # replaced, even where a board still has it in force, and is never offered for adoption again).
    adoptable: bool = False


@dataclass(frozen=True)
class CodeHistory:
    versions: list[VersionEntry]
    draft: CodeVersion | None
    can_draft: bool
    can_adopt: bool


def _signature_counts(code: Code) -> dict[int, tuple[int, int]]:
    """Adoption id -> (owed, signed) for every adoption of the code, in one query grouped by the adoption alone.

    Summed on the obligation tally (``acknowledgements.ObligationTally``, reached through its relation, not an
    import of a higher layer): a few rows per adoption and organisation, however many people owe it, where a
    count of the obligations read every one of the code's. The tally's "never signed" day is ``date.max``.
    """
    return {
        pk: (owed, signed)
        for pk, owed, signed in Adoption.objects.filter(version__code=code)
        .order_by()
        .values("pk")
        .annotate(
            owed=Coalesce(Sum("obligation_tallies__n"), 0),
            signed=Coalesce(Sum("obligation_tallies__n", filter=Q(obligation_tallies__signed_on__lt=date.max)), 0),
        )
        .values_list("pk", "owed", "signed")
    }


def _versions_with_adoptions(code: Code) -> list[CodeVersion]:
    """The code's versions newest first, each with its adoptions prefetched; signatures counted on both
    (``owed`` and ``signed``: an obligation belongs to the adoption that opened it, of its own version)."""
    adoptions = (
        Adoption.objects.select_related("board", "organisation", "meeting", "chair", "recorded_by", "certificate")
        .annotate(replaced=replaced_for_review())
        .order_by("-adopted_on", "-recorded_at")
    )
    versions = list(
        code.versions.select_related("created_by", "based_on")
        .prefetch_related(Prefetch("adoptions", queryset=adoptions))
        .order_by("-created_at")
    )
    counts = _signature_counts(code)
    for version in versions:
        version.owed = version.signed = 0  # type: ignore[attr-defined]
        for adoption in version.adoptions.all():
            adoption.owed, adoption.signed = counts.get(adoption.pk, (0, 0))  # type: ignore[attr-defined]
            version.owed += adoption.owed  # type: ignore[attr-defined]
            version.signed += adoption.signed  # type: ignore[attr-defined]
    return versions


def code_history(user: Person, code: Code, today: date) -> CodeHistory:
    """Every version of the code with its adoptions; each adoption still under review (not replaced by a later one
    of its board or one covering it, ``replaced_for_review``) shows whether its review is due."""
    versions = _versions_with_adoptions(code)
    newest_locked = next((v for v in versions if v.status != VersionStatus.DRAFT), None)
    entries = [
        VersionEntry(
            version=version,
            previous=version.previous(among=versions),
            adoptable=version.status == VersionStatus.DRAFT
            or (version == newest_locked and version.status != VersionStatus.SUPERSEDED),
            adoptions=[
                AdoptionEntry(
                    adoption=adoption,
                    review_state="" if adoption.replaced else review_state(adoption.review_due_on, today),  # type: ignore[attr-defined]
                )
                for adoption in version.adoptions.all()
            ],
        )
        for version in versions
    ]
    return CodeHistory(
        versions=entries,
        draft=next((v for v in versions if v.status == VersionStatus.DRAFT), None),
        can_draft=can_draft_code(user, code),
        can_adopt=boards_for_adoption(user, code).exists(),
    )


# ---------------------------------------------------------------------------
# The draft editor
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftClause:
    clause: Clause
    change: ClauseChange | None  # how it differs from the version the draft was based on, if any


@dataclass(frozen=True)
class DraftSection:
    section: Section
    clauses: list[DraftClause]


@dataclass(frozen=True)
class DraftEditor:
    sections: list[DraftSection]
    previous: CodeVersion | None
    diff: VersionDiff | None
    removed: list[ClauseChange]
    unflagged: list[Clause]  # changed since the previous version but not marked "new or updated"
    clause_count: int


def draft_editor(version: CodeVersion) -> DraftEditor:
    """The draft's sections and clauses, each clause with its change since the version it was based on."""
    sections = version.ordered_sections()
    previous = version.previous()
    diff = diff_versions(previous, version) if previous else None
    changes = diff.changes if diff else []
    change_by_clause = {change.new.pk: change for change in changes if change.new is not None}
    return DraftEditor(
        sections=[
            DraftSection(
                section=section,
                clauses=[DraftClause(clause, change_by_clause.get(clause.pk)) for clause in section.clauses.all()],
            )
            for section in sections
        ],
        previous=previous,
        diff=diff,
        removed=[change for change in changes if change.kind == "removed"],
        unflagged=draft_changes_unflagged(version, changes) if diff else [],
        clause_count=sum(len(section.clauses.all()) for section in sections),
    )


# ---------------------------------------------------------------------------
# Meetings and the adoption form
# ---------------------------------------------------------------------------


def meetings_with_attendance(board: Organisation) -> QuerySet[Meeting]:
    """The board's meetings, newest first, with how many attended, sent apologies, were recorded and adopted, and
    the adoptions themselves (code and version, one more query for a page of meetings)."""
    # Attendance and adoptions are joined together, so every count is distinct or it multiplies.
    adoptions = Adoption.objects.select_related("version__code").order_by("version__code__title", "pk")
    return (
        board.meetings.annotate(
            present=Count("attendance", filter=Q(attendance__status=AttendanceStatus.PRESENT), distinct=True),
            apologies=Count("attendance", filter=Q(attendance__status=AttendanceStatus.APOLOGIES), distinct=True),
            recorded=Count("attendance", distinct=True),
            adopted=Count("adoptions", distinct=True),
        )
        .prefetch_related(Prefetch("adoptions", queryset=adoptions))
        .order_by("-held_on", "-pk")
    )


def recent_chairs(board: Organisation, today: date) -> QuerySet[Person]:
    """Everyone who has chaired the board in the last two years (the adoption rules check the meeting date)."""
    since = today - timedelta(days=CHAIRS_LOOKBACK_DAYS)
    holders = Role.objects.filter(organisation=board, kind=RoleKind.CHAIR).served_since(since).values("person_id")
    return Person.objects.filter(pk__in=holders).order_by("full_name")
