"""Which codes are due for review: the home-page highlight for admins, chairs and clerks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
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

    Only boards the user may adopt for. An adoption stops being "in force" for
    this purpose as soon as the same board adopts a later version. One query.
    """
    today = today or timezone.localdate()
    within_days = review_warning_days() if within_days is None else within_days
    later = Adoption.objects.filter(
        board=OuterRef("board"), version__code=OuterRef("version__code"), version_id__gt=OuterRef("version_id")
    )
    adoptions = (
        Adoption.objects.filter(
            scope_q(user, Action.ADOPT, "board"), review_due_on__lte=today + timedelta(days=within_days)
        )
        .exclude(Exists(later))
        .select_related("version__code", "board")
        .order_by("review_due_on", "board__name")
    )
    return [ReviewDue(adoption=a, days_left=(a.review_due_on - today).days) for a in adoptions]
