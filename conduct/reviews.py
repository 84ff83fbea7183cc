"""Which codes are due for review: the home-page highlight for admins, chairs and clerks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import CharField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.utils import timezone

from conduct.models import Adoption, Person
from conduct.permissions import Action, scope_q


def review_warning_days() -> int:
    """How many days before its review date an adoption counts as due (``REVIEW_WARNING_DAYS``, default 60)."""
    return settings.REVIEW_WARNING_DAYS


def review_state(due_on: date, today: date) -> str:
    """For an adoption in force: "overdue", "due" (within the warning window) or "" (not yet)."""
    if due_on < today:
        return "overdue"
    if due_on <= today + timedelta(days=review_warning_days()):
        return "due"
    return ""


def replaced_for_review() -> Exists:
    """Whether an adoption is no longer the one whose review is due: the one rule for the home page, the
    Governance page, the code's history and the review reminders (annotate or exclude a query set of adoptions).

    An adoption is replaced when its board has since adopted a later version of the code, or when another board's
    adoption of the same version or a later one covers where it is in force: a trust-wide adoption (one that
    includes every organisation below) covering a local board's academy, or an adoption for the same
    organisation (the later one of two for the same version counts).
    """
    covering = Adoption.objects.filter(version__code=OuterRef("version__code")).annotate(
        covered_path=ExpressionWrapper(OuterRef("organisation__path"), output_field=CharField())
    )
    same_board_later = Q(board=OuterRef("board"), version_id__gt=OuterRef("version_id"))
    other_board = ~Q(board=OuterRef("board"))
    covers_below = Q(
        includes_sub_organisations=True,
        covered_path__startswith=F("organisation__path"),
        version_id__gte=OuterRef("version_id"),
    ) & ~Q(organisation=OuterRef("organisation"))
    same_place = Q(organisation=OuterRef("organisation")) & (
        Q(version_id__gt=OuterRef("version_id")) | Q(version_id=OuterRef("version_id"), pk__gt=OuterRef("pk"))
    )
    return Exists(covering.filter(same_board_later | (other_board & (covers_below | same_place))))


@dataclass(frozen=True)
class ReviewDue:
    adoption: Adoption
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left


def reviews_due(user: Person, *, today: date | None = None, within_days: int | None = None) -> list[ReviewDue]:
    """Each board's adoption in force whose review is overdue or due within ``within_days`` (by default the
    warning window, ``review_warning_days()``).

    Only boards the user may adopt for, and only adoptions not replaced for review (``replaced_for_review``).
    One query.
    """
    today = today or timezone.localdate()
    within_days = review_warning_days() if within_days is None else within_days
    adoptions = (
        Adoption.objects.filter(
            scope_q(user, Action.ADOPT, "board"), review_due_on__lte=today + timedelta(days=within_days)
        )
        .exclude(replaced_for_review())
        .select_related("version__code", "board")
        .order_by("review_due_on", "board__name")
    )
    return [ReviewDue(adoption=a, days_left=(a.review_due_on - today).days) for a in adoptions]
