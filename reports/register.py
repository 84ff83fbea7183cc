"""The register of governors' business interests, as the governance code promises to publish it.

For an organisation (a trust, a board or a network) and everything below it:
everyone who held a governance role (member, trustee, local governor, chair) at
any time in the last 12 months, one entry per person per body, with exactly
the published fields and nothing else:

full name · category · appointing body · date of appointment · term of office ·
date stepped down · role on the board · attendance at the body's meetings in
the last academic year · declared interests (name and nature of the business
or body, nature of the interest, start date) or "nothing to declare" with its date.

Rules (documented on the page and in docs/reports.md):

- **Last academic year**: the most recent complete 1 September–31 August.
  Attendance counts full, extraordinary and annual general meetings of the
  body held in that year while the person served ("present at X of Y").
- **Declarations**: the person's most recent declaration made to this trust
  (any organisation in the same tree), so a declaration made to another trust
  is never published here. Interests that ended more than 12 months ago are left out.
- **Date of appointment**: the start of their earliest governance role on the
  body; **date stepped down**: the end of their last one, once all have ended.

Everything comes in six queries whatever the number of governors.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple, Protocol

from django.db.models import OuterRef, Prefetch, Subquery

from acknowledgements.models import Declaration, Interest, InterestKind
from conduct.models import (
    GOVERNANCE_ROLE_KINDS,
    Attendance,
    AttendanceStatus,
    GovernorCategory,
    Meeting,
    MeetingKind,
    Organisation,
    Role,
    RoleKind,
    role_label,
)
from conduct.services import add_years
from core.academic_year import academic_year_label, last_complete_academic_year
from core.display import long_date
from reports.forms import REGISTER_KINDS

BOARD_MEETING_KINDS = (MeetingKind.FULL_BOARD, MeetingKind.EXTRAORDINARY, MeetingKind.AGM)
CATEGORY_LABELS = dict(GovernorCategory.choices)
INTEREST_LABELS = dict(InterestKind.choices)


# ``long_date``, each day written once: a register writes the same few days (appointments on 1 September, terms
# ending on 31 August) hundreds of times.
_long_day = lru_cache(maxsize=4096)(long_date)


@dataclass(frozen=True)
class InterestEntry:
    business: str  # name of the business or body
    business_nature: str  # what kind of interest or body it is
    nature: str  # the nature of the person's interest
    starts_on: date
    ends_on: date | None


@dataclass
class Entry:
    full_name: str
    category: str
    appointed_by: str
    appointed_on: date
    term_ends_on: date | None
    stepped_down_on: date | None
    role_on_board: str
    meetings_attended: int | None  # None: the body held no meetings while they served
    meetings_held: int
    declared_on: datetime | None = None
    nothing_to_declare: bool = False
    interests: list[InterestEntry] = field(default_factory=list)

    @property
    def attendance(self) -> str:
        if not self.meetings_held:
            return "No meetings while in office"
        return f"{self.meetings_attended} of {self.meetings_held}"

    @property
    def term_of_office(self) -> str:
        start = _long_day(self.appointed_on)
        return (
            f"{start} to {_long_day(self.term_ends_on)}"
            if self.term_ends_on
            else f"From {start} (no fixed term recorded)"
        )

    @property
    def declaration_summary(self) -> str:
        if self.declared_on is None:
            return "No declaration recorded"
        if self.nothing_to_declare and not self.interests:
            return f"Nothing to declare (declared {self.declared_on:%-d %B %Y})"
        return f"Declared {self.declared_on:%-d %B %Y}"


@dataclass
class Body:
    organisation: Organisation
    entries: list[Entry]


@dataclass
class Register:
    organisation: Organisation
    bodies: list[Body]
    since: date
    year_start: date
    year_end: date
    today: date

    @property
    def year_label(self) -> str:
        """The academic year attendance is counted over, as the product writes years ("2025–26")."""
        return academic_year_label(self.year_start)


class ServedRole(NamedTuple):
    """A governance role as the register reads it: the columns it uses, not a model instance with its person and
    body (a trust's register reads hundreds, and building them and decoding every column was a fifth of the page).
    """

    person_id: int
    organisation_id: int
    kind: str
    title: str
    category: str
    appointed_by: str
    starts_on: date
    ends_on: date | None
    term_ends_on: date | None
    full_name: str


SERVED_ROLE_COLUMNS = (*ServedRole._fields[:-1], "person__full_name")


class _Served(Protocol):
    @property
    def starts_on(self) -> date: ...

    @property
    def ends_on(self) -> date | None: ...


def _role_on_board(roles: list[ServedRole]) -> str:
    chair = next((role for role in roles if role.kind == RoleKind.CHAIR), None)
    if chair:
        return "Chair"
    titled = next((role.title for role in roles if role.title), "")
    return titled or role_label(roles[0].kind)


@dataclass(frozen=True)
class BodyMeetings:
    """A body's meetings in the year, sorted by day, so that those held during a role are found by bisection
    (a register lists hundreds of governors, each against every meeting of their body)."""

    days: list[date]
    ids: list[int]

    @classmethod
    def of(cls, meetings: list[Meeting]) -> BodyMeetings:
        ordered = sorted(meetings, key=lambda meeting: (meeting.held_on, meeting.pk))
        return cls([meeting.held_on for meeting in ordered], [meeting.pk for meeting in ordered])

    def attendance(self, roles: Sequence[_Served], present: set[int]) -> tuple[int, int]:
        """Meetings of the body held while the person served (any of ``roles``, from its first day to its last),
        and how many they were present at."""
        served: set[int] = set()
        for role in roles:
            first = bisect_left(self.days, role.starts_on)
            last = len(self.days) if role.ends_on is None else bisect_right(self.days, role.ends_on)
            served.update(range(first, last))
        return sum(1 for index in served if self.ids[index] in present), len(served)


def _stepped_down_on(roles: list[ServedRole], today: date) -> date | None:
    """The end of their last governance role on the body, once every one of them has ended."""
    ended = [role.ends_on for role in roles if role.ends_on is not None and role.ends_on < today]
    return max(ended) if len(ended) == len(roles) else None


def register_for(organisation: Organisation, today: date, *, public: bool = False) -> Register:
    """The register for ``organisation`` and the bodies below it, as on ``today``.

    ``public``: for the public page, only the bodies whose own admin has published their register. A body
    below one that is published is left out until it is published itself, and taking a body's register down
    takes it off every page above it too.
    """
    since = add_years(today, -1)
    year_start, year_end = last_complete_academic_year(today)
    in_tree = Role.objects.filter(
        organisation__path__startswith=organisation.path, kind__in=GOVERNANCE_ROLE_KINDS, starts_on__lte=today
    )
    if public:
        in_tree = in_tree.filter(organisation__publish_register=True)
    roles = [
        ServedRole(*row)
        for row in in_tree.served_since(since)
        .order_by("organisation__path", "person__full_name", "starts_on")
        .values_list(*SERVED_ROLE_COLUMNS)
    ]
    by_body: dict[int, dict[int, list[ServedRole]]] = defaultdict(lambda: defaultdict(list))
    for role in roles:
        by_body[role.organisation_id][role.person_id].append(role)
    bodies = Organisation.objects.only("name", "kind", "path").in_bulk(list(by_body))
    people_ids = {role.person_id for role in roles}
    meetings = list(
        Meeting.objects.filter(
            board_id__in=list(bodies), kind__in=BOARD_MEETING_KINDS, held_on__range=(year_start, year_end)
        )
    )
    meetings_by_body: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in meetings:
        meetings_by_body[meeting.board_id].append(meeting)
    calendars = {body_id: BodyMeetings.of(meetings_by_body[body_id]) for body_id in by_body}
    present: dict[int, set[int]] = defaultdict(set)
    for person_id, meeting_id in Attendance.objects.filter(
        meeting__in=[m.pk for m in meetings], person_id__in=people_ids, status=AttendanceStatus.PRESENT
    ).values_list("person_id", "meeting_id"):
        present[person_id].add(meeting_id)
    declarations = _latest_declarations(organisation, people_ids)

    result = []
    for body_id, people in by_body.items():
        entries = []
        for person_id, person_roles in people.items():
            attended, held = calendars[body_id].attendance(person_roles, present[person_id])
            entry = Entry(
                full_name=person_roles[0].full_name,
                category=next((CATEGORY_LABELS.get(r.category, r.category) for r in person_roles if r.category), "")
                or ("Member" if any(r.kind == RoleKind.MEMBER for r in person_roles) else "Not recorded"),
                appointed_by=next((r.appointed_by for r in person_roles if r.appointed_by), "") or "Not recorded",
                appointed_on=min(role.starts_on for role in person_roles),
                term_ends_on=max((r.term_ends_on for r in person_roles if r.term_ends_on), default=None),
                stepped_down_on=_stepped_down_on(person_roles, today),
                role_on_board=_role_on_board(person_roles),
                meetings_attended=attended,
                meetings_held=held,
            )
            declaration = declarations.get(person_id)
            if declaration:
                entry.declared_on = declaration.made_at
                entry.nothing_to_declare = declaration.nothing_to_declare
                entry.interests = [
                    InterestEntry(
                        business=interest.counterparty,
                        business_nature=INTEREST_LABELS.get(interest.kind, interest.kind),
                        nature=interest.nature,
                        starts_on=interest.starts_on,
                        ends_on=interest.ends_on,
                    )
                    for interest in declaration.interests.all()
                    if interest.ends_on is None or interest.ends_on >= since
                ]
            entries.append(entry)
        result.append(Body(organisation=bodies[body_id], entries=sorted(entries, key=lambda e: e.full_name.casefold())))
    result.sort(key=lambda body: body.organisation.path)
    return Register(organisation, result, since, year_start, year_end, today)


def _latest_declarations(organisation: Organisation, people_ids: set[int]) -> dict[int, Declaration]:
    """Each person's most recent declaration made to this tree (two queries: declarations, then their interests).

    The latest is picked in SQL so older declarations, and their interests, are never loaded.
    """
    in_tree = Declaration.objects.filter(organisation__path__startswith=organisation.root_path)
    latest = in_tree.filter(person_id=OuterRef("person_id")).order_by("-made_at", "-pk").values("pk")[:1]
    queryset = in_tree.filter(person_id__in=people_ids, pk=Subquery(latest)).prefetch_related(
        Prefetch("interests", queryset=Interest.objects.order_by("starts_on", "pk"))
    )
    return {declaration.person_id: declaration for declaration in queryset}


def register_published(slug: str) -> Organisation | None:
    """The organisation whose public register is at this address, if its admin has published it."""
    return Organisation.objects.filter(slug=slug, publish_register=True).first()


def register_organisations(reachable) -> list[Organisation]:
    """Organisations a register can be shown for, among those the user reaches."""

    return list(reachable.filter(kind__in=REGISTER_KINDS).order_by("path"))
