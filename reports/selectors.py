"""The numbers behind the compliance dashboard, its drill-down and its exports.

Everything starts from ``Obligation`` rows (one per person per code version
owed) limited twice: to what the user may see (``conduct.permissions.scope_q``,
one join) and to the organisation chosen. Each function returns what a page
needs in a fixed number of queries, however many people there are: grouping
happens in SQL, and only organisation-sized lists come back to Python. The
numbers (dashboard, its exports' tables, the drill-down's count) are read from
``ObligationTally``, the obligations counted by the columns that decide a status
(kept by triggers), so they read rows bounded by the organisations and the
calendar, not by the people; the lists of people read the obligations.

Status "as at" a day D (the end of that day, Europe/London):

- **owed**: owed from D or earlier, the role it is owed for still held on D
  (leavers owe nothing), and not superseded by a newer version before the end of D;
- **signed**: owed and acknowledged before the end of D;
- **overdue**: owed, not signed, and due before D;
- **outstanding**: owed, not signed, and not yet due on D.

Signed, outstanding and overdue never overlap and add up to owed.

"By school": in a trust each obligation belongs to the school where its role is
held (a local governing board counts for the school it governs; central staff
and the trust board are "No school"). A network's participants mostly hold
their network role at a hub, so each person is attributed to the member school
(membership current on D) where they hold another role on D, the earliest
started if several, else "No school".
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections
from django.db.models import (
    Case,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.text import slugify

from acknowledgements.models import NEVER, Obligation, ObligationStatus, ObligationTally, obligation_status
from conduct.models import (
    BOARD_KINDS,
    Code,
    CodeVersion,
    NetworkMembership,
    Organisation,
    OrganisationKind,
    Role,
    VersionStatus,
    path_ids,
    role_label,
)
from conduct.permissions import Action, can, scope_q
from reports.models import ReportJob

NO_SCHOOL = "none"
NO_SCHOOL_LABEL = "No school"


@dataclass(frozen=True)
class ReportScope:
    """What a report job covers, as its page, its list, its README and its file name say: the organisation, or
    only one school of it (or only those in no school) when the job was filtered to one."""

    name: str  # "ATT Multi-Academy Trust" or "Northgate Academy"
    slug: str  # for file names
    school: str  # the school's name, NO_SCHOOL_LABEL, or "" when the job covers the whole organisation


def report_scopes(jobs: Iterable[ReportJob]) -> dict[int, ReportScope]:
    """Each job's scope by primary key (one query for all the schools named, none if no job names one)."""
    jobs = list(jobs)
    wanted = {int(school) for job in jobs if (school := (job.parameters or {}).get("school", "")).isdigit()}
    schools = {o.pk: o for o in Organisation.objects.filter(pk__in=wanted).only("pk", "name", "slug")} if wanted else {}
    scopes = {}
    for job in jobs:
        school = (job.parameters or {}).get("school", "")
        found = schools.get(int(school)) if school.isdigit() else None
        if found is not None:
            scopes[job.pk] = ReportScope(name=found.name, slug=found.slug, school=found.name)
        elif school == NO_SCHOOL:
            name = f"{job.organisation.name}, {NO_SCHOOL_LABEL.lower()}"
            scopes[job.pk] = ReportScope(name=name, slug=f"{job.organisation.slug}-no-school", school=NO_SCHOOL_LABEL)
        else:
            scopes[job.pk] = ReportScope(name=job.organisation.name, slug=job.organisation.slug, school="")
    return scopes


# What an owed obligation can be on a day (superseded ones are no longer owed): for filters and labels.
REPORTED_STATUSES = (ObligationStatus.SIGNED, ObligationStatus.OUTSTANDING, ObligationStatus.OVERDUE)
STATUSES = {status.value: status.label for status in REPORTED_STATUSES}
NETWORK_KINDS = (OrganisationKind.NETWORK, OrganisationKind.HUB)
TIMELINE_POINTS = 12


@lru_cache(maxsize=512)
def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` in the site's time zone (as an aware datetime)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def owed_q(day: date) -> Q:
    return (
        Q(owed_from__lte=day)
        & (Q(role__ends_on__isnull=True) | Q(role__ends_on__gte=day))
        & (Q(superseded_at__isnull=True) | Q(superseded_at__gte=end_of_day(day)))
    )


def signed_q(day: date) -> Q:
    return Q(acknowledged_at__lt=end_of_day(day))


def unsigned_q(day: date) -> Q:
    return Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gte=end_of_day(day))


def status_q(status: str, day: date) -> Q:
    """``acknowledgements.models.obligation_status`` in SQL, for obligations owed on ``day`` (``owed_q``)."""
    if status == ObligationStatus.SIGNED:
        return signed_q(day)
    if status == ObligationStatus.OVERDUE:
        return unsigned_q(day) & Q(due_on__lt=day)
    if status == ObligationStatus.OUTSTANDING:
        return unsigned_q(day) & Q(due_on__gte=day)
    return Q()


# The same on the obligation tally (``ObligationTally``), whose days are London days with NEVER for "never":
# superseded before the end of D is superseded on D or earlier, signed before the end of D is signed by D.
def tally_owed_q(day: date) -> Q:
    return Q(owed_from__lte=day, ends_on__gte=day, superseded_on__gt=day)


def tally_status_q(status: str, day: date) -> Q:
    """``status_q`` on the tally, for rows owed on ``day`` (``tally_owed_q``)."""
    if status == ObligationStatus.SIGNED:
        return Q(signed_on__lte=day)
    if status == ObligationStatus.OVERDUE:
        return Q(signed_on__gt=day, due_on__lt=day)
    if status == ObligationStatus.OUTSTANDING:
        return Q(signed_on__gt=day, due_on__gte=day)
    return Q()


# ---------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilters:
    """What the user chose. ``organisation`` is already permission-checked by the caller."""

    organisation: Organisation
    as_at: date
    code: Code | None = None
    version: CodeVersion | None = None
    school: str = ""  # "" for all, NO_SCHOOL, or a school's id as text
    role: str = ""
    status: str = ""

    @property
    def is_network(self) -> bool:
        return self.organisation.kind in NETWORK_KINDS

    def basename(self, what: str) -> str:
        """A descriptive file name stem, e.g. att-staff-code-2026-2027-people-as-at-2026-11-22."""
        parts = [
            self.organisation.slug,
            self.code.slug if self.code else "all-codes",
            slugify(self.version.label) if self.version else "all-versions",
            what,
            f"as-at-{self.as_at.isoformat()}",
        ]
        return "-".join(part for part in parts if part)

    def as_params(self) -> dict[str, str]:
        """The filters as query-string parameters (for links, exports and jobs)."""
        params = {
            "organisation": str(self.organisation.pk),
            "code": str(self.code.pk) if self.code else "",
            "version": str(self.version.pk) if self.version else "",
            "school": self.school,
            "role": self.role,
            "status": self.status,
            "as_at": self.as_at.isoformat(),
        }
        return {key: value for key, value in params.items() if value}


def relevant_codes(organisation: Organisation) -> QuerySet[Code]:
    """Codes that can be owed here: owned by the organisation, one above it, or one below it.

    The organisation's own codes come first so the dashboard opens on them.
    """
    return (
        Code.objects.filter(Q(owner_id__in=organisation.ancestor_ids()) | Q(owner__path__startswith=organisation.path))
        .annotate(own=Case(When(owner=organisation, then=Value(0)), default=Value(1)))
        .order_by("own", "title")
    )


def reported_versions(codes: QuerySet[Code]) -> QuerySet[CodeVersion]:
    """Versions people can owe: everything adopted (drafts are owed by nobody)."""
    return (
        CodeVersion.objects.filter(code__in=codes.values("pk"))
        .exclude(status=VersionStatus.DRAFT)
        .select_related("code")
        .order_by("code__title", "-adopted_at", "-pk")
    )


# ---------------------------------------------------------------------------
# Schools
# ---------------------------------------------------------------------------


@dataclass
class SchoolMap:
    """Which school each organisation's obligations count for, and the schools' names.

    ``of_org`` maps organisation id → school id (or None for "No school");
    ``names`` lists every school that appears on the dashboard, by id.
    """

    of_org: dict[int, int | None]
    names: dict[int, str]
    network: bool = False

    def school_of(self, organisation_id: int | None) -> int | None:
        if organisation_id is None:
            return None
        return self.of_org.get(organisation_id)

    def label(self, school_id: int | None) -> str:
        return self.names.get(school_id, NO_SCHOOL_LABEL) if school_id else NO_SCHOOL_LABEL

    def orgs_for(self, school: str) -> list[int]:
        """Organisation ids whose obligations count for ``school`` (an id as text)."""
        wanted = None if school == NO_SCHOOL else int(school)
        return [org_id for org_id, school_id in self.of_org.items() if school_id == wanted]

    def choices(self) -> list[tuple[str, str]]:
        ordered = sorted(self.names.items(), key=lambda item: item[1].casefold())
        return [(str(pk), name) for pk, name in ordered] + [(NO_SCHOOL, NO_SCHOOL_LABEL)]


def _tree_school_map(organisation: Organisation) -> SchoolMap:
    """One query: the organisation's subtree and ancestors, with what each board governs."""
    rows = list(
        Organisation.objects.filter(
            Q(path__startswith=organisation.path) | Q(pk__in=organisation.ancestor_ids())
        ).values_list("pk", "path", "kind", "name", "governs_id", "governs__kind", "governs__name")
    )
    by_id = {
        pk: (kind, name, governs_id, governs_kind, governs_name)
        for pk, _path, kind, name, governs_id, governs_kind, governs_name in rows
    }
    names: dict[int, str] = {}
    of_org: dict[int, int | None] = {}
    for pk, path, *_ in rows:
        school = None
        # Walk from the organisation up to the root: the nearest school, or a board governing one.
        for ancestor_id in reversed(path_ids(path)):
            if ancestor_id not in by_id:
                continue
            kind, name, governs_id, governs_kind, governs_name = by_id[ancestor_id]
            if kind == OrganisationKind.SCHOOL:
                school, names[ancestor_id] = ancestor_id, name
                break
            # (A board governing a school has the school's id and name: the nulls are for boards governing nothing.)
            if kind in BOARD_KINDS and governs_kind == OrganisationKind.SCHOOL and governs_id and governs_name:
                school, names[governs_id] = governs_id, governs_name
                break
        if path.startswith(organisation.path):
            of_org[pk] = school
    return SchoolMap(of_org=of_org, names=names)


def _network_school_map(organisation: Organisation, day: date) -> SchoolMap:
    """Member schools of the network (or hub) on ``day``, and the organisations inside them (two queries)."""
    members = dict(
        NetworkMembership.objects.current(day)  # accepted by the school, and running on that day
        .filter(network__path__startswith=organisation.path)
        .values_list("school_id", "school__path")
    )
    if not members:
        return SchoolMap(of_org={}, names={}, network=True)
    query = Q(pk__in=[])
    for path in members.values():
        query |= Q(path__startswith=path)
    rows = list(Organisation.objects.filter(query).values_list("pk", "path", "name"))
    names = {pk: name for pk, _path, name in rows if pk in members}
    of_org = {}
    for pk, path, _name in rows:
        of_org[pk] = next((school for school, school_path in members.items() if path.startswith(school_path)), None)
    return SchoolMap(of_org=of_org, names=names, network=True)


def school_map(filters: ReportFilters) -> SchoolMap:
    if filters.is_network:
        return _network_school_map(filters.organisation, filters.as_at)
    return _tree_school_map(filters.organisation)


# ---------------------------------------------------------------------------
# The scoped query everything is built on
# ---------------------------------------------------------------------------

ATTRIBUTED = "attributed_org"


def _attributed_org(schools: SchoolMap, day: date):
    """For networks: the organisation (inside a member school) of the person's earliest current role there."""
    if not schools.of_org:
        return Value(None, output_field=IntegerField())
    return Subquery(
        Role.objects.current(day)
        .filter(person_id=OuterRef("person_id"), organisation_id__in=list(schools.of_org))
        .order_by("starts_on", "pk")
        .values("organisation_id")[:1]
    )


def _scoped(
    queryset: QuerySet, user, filters: ReportFilters, role_kind: str, listed: list[int] | None = None
) -> QuerySet:
    """Obligations or tally rows in the organisation that the user may see, of the code/version/role chosen.

    ``listed``: the organisation's subtree as a list of ids (``SchoolMap.of_org``, read anyway), for a query that
    checks people one by one (the drill-down's walk): PostgreSQL hashed the organisations again for each person
    it checked through the join on their path, a third of the walk."""
    if listed is None:
        queryset = queryset.filter(organisation__path__startswith=filters.organisation.path)
    else:
        queryset = queryset.filter(organisation_id__in=listed)
    if not can(user, Action.VIEW_REPORTS, filters.organisation):
        # Only where a grant covers part of the organisation: one covering all of it reaches its whole subtree, and
        # the same ``path LIKE`` twice made PostgreSQL square its selectivity (12 organisations estimated for 82
        # in a database of 15 trusts), and plan every join of the trust's 48,000 obligations as a nested loop.
        queryset = queryset.filter(scope_q(user, Action.VIEW_REPORTS, "organisation"))
    if filters.version:
        queryset = queryset.filter(version=filters.version)
    elif filters.code:
        queryset = queryset.filter(code=filters.code)
    if filters.role:
        queryset = queryset.filter(**{role_kind: filters.role})
    return queryset


def obligations_base(user, filters: ReportFilters, schools: SchoolMap, *, listed: bool = False) -> QuerySet[Obligation]:
    """Obligations the user may see, in the organisation, for the code/version/role/school chosen.

    Not yet limited to a day: callers add ``owed_q`` (the dashboard) or several
    of them (the timeline). ``listed``: the organisation's subtree named by id (see ``_scoped``; a network's
    members lie outside its own subtree, so a network keeps the path).
    """
    subtree = list(schools.of_org) if listed and not schools.network else None
    queryset = _scoped(Obligation.objects.all(), user, filters, "role__kind", subtree)
    if schools.network:
        queryset = queryset.annotate(**{ATTRIBUTED: _attributed_org(schools, filters.as_at)})
    if filters.school:
        field = ATTRIBUTED if schools.network else "organisation_id"
        if filters.school == NO_SCHOOL and schools.network:
            queryset = queryset.filter(**{f"{ATTRIBUTED}__isnull": True})
        elif filters.school == NO_SCHOOL:
            queryset = queryset.filter(organisation_id__in=schools.orgs_for(NO_SCHOOL))
        else:
            queryset = queryset.filter(**{f"{field}__in": schools.orgs_for(filters.school)})
    return queryset


def tally_base(user, filters: ReportFilters, schools: SchoolMap) -> QuerySet[ObligationTally]:
    """``obligations_base`` on the obligation tally: organisation-sized, whatever the number of people.

    Not for networks and hubs: they attribute each person to a school by the person's other roles on the day
    (``_attributed_org``), which the tally, counting obligations without people, cannot answer.
    """
    assert not schools.network, "a network's schools are attributed per person: use obligations_base"
    queryset = _scoped(ObligationTally.objects.all(), user, filters, "role_kind")
    if filters.school:
        queryset = queryset.filter(organisation_id__in=schools.orgs_for(filters.school))
    return queryset


# ---------------------------------------------------------------------------
# The dashboard
# ---------------------------------------------------------------------------


@dataclass
class Counts:
    owe: int = 0
    signed: int = 0
    overdue: int = 0

    @property
    def outstanding(self) -> int:
        return self.owe - self.signed - self.overdue

    @property
    def percent(self) -> float | None:
        """Percentage signed, one decimal place; None when nobody owes anything."""
        return round(self.signed * 100 / self.owe, 1) if self.owe else None

    def add(self, owe: int, signed: int, overdue: int) -> None:
        self.owe += owe
        self.signed += signed
        self.overdue += overdue


@dataclass
class Row:
    key: str  # the filter value that narrows to this row (school id / "none" / role kind)
    label: str
    counts: Counts = field(default_factory=Counts)


@dataclass
class TimelinePoint:
    day: date
    counts: Counts


@dataclass
class Dashboard:
    filters: ReportFilters
    totals: Counts
    by_school: list[Row]
    by_role: list[Row]
    timeline: list[TimelinePoint]
    schools: SchoolMap
    by_school_role: dict[str, list[Row]] = field(default_factory=dict)

    @property
    def listed(self) -> int:
        """How many rows ``owed_rows`` holds for these filters, read from the totals (no second count)."""
        return getattr(self.totals, self.filters.status or "owe")

    def school_pages(self) -> list[tuple[Row, list[Row]]]:
        """Each school's totals with its counts by role (a page per school in PDFs)."""
        return [(row, self.by_school_role.get(row.key, [])) for row in self.by_school]


@dataclass(frozen=True, slots=True)
class OwedGroup:
    """Obligations owed on the day at one organisation (or attributed school) for one role kind."""

    organisation_id: int | None
    role_kind: str
    owe: int
    signed: int
    overdue: int


def _breakdown(rows: Iterable[OwedGroup], filters: ReportFilters, schools: SchoolMap):
    """Totals, rows by school, by role and by school and role from ``rows``: counts per (organisation or
    attributed school) and role kind, as ``_dashboard_groups`` returns them."""
    totals = Counts()
    by_school: dict[str, Row] = {str(pk): Row(key=str(pk), label=name) for pk, name in schools.names.items()}
    by_role: dict[str, Row] = {}
    by_school_role: dict[str, dict[str, Row]] = {}
    for row in rows:
        numbers = (row.owe, row.signed, row.overdue)
        totals.add(*numbers)
        school_id = schools.school_of(row.organisation_id)
        key = str(school_id) if school_id else NO_SCHOOL
        by_school.setdefault(key, Row(key=key, label=schools.label(school_id))).counts.add(*numbers)
        kind = row.role_kind
        by_role.setdefault(kind, Row(key=kind, label=role_label(kind))).counts.add(*numbers)
        school_roles = by_school_role.setdefault(key, {})
        school_roles.setdefault(kind, Row(key=kind, label=role_label(kind))).counts.add(*numbers)
    if filters.school:
        by_school = {key: row for key, row in by_school.items() if key == filters.school}
    school_rows = sorted((row for row in by_school.values() if row.key != NO_SCHOOL), key=lambda r: r.label.casefold())
    if NO_SCHOOL in by_school:
        school_rows.append(by_school[NO_SCHOOL])
    by_label = lambda rows: sorted(rows, key=lambda r: r.label.casefold())  # noqa: E731
    return (
        totals,
        school_rows,
        by_label(by_role.values()),
        {key: by_label(roles.values()) for key, roles in by_school_role.items()},
    )


# The days that decide an obligation's status on any day (``TimelineGroup``), as the grouped query names them.
TIMELINE_KEYS = ("owed_from", "role__ends_on", "superseded_on", "signed_on", "due_on")


def _flag(condition: Q, weight) -> Case:
    return Case(When(condition, then=weight), default=Value(0), output_field=IntegerField())


# What ``dashboard_sql`` reads: its columns, the rules "owed on D" and "of this status on D", and what a row counts.
Counted = tuple[dict, Callable[[date], Q], Callable[[str, date], Q], F | Value]


def _obligation_columns(schools: SchoolMap) -> Counted:
    """What ``dashboard_sql`` groups, read from obligations (each counting 1): for networks."""
    group = ATTRIBUTED if schools.network else "organisation_id"
    columns = {
        "grouped_org": F(group),
        "t_role_kind": F("role__kind"),
        "t_owed_from": F("owed_from"),
        "t_ends_on": F("role__ends_on"),
        "t_superseded_on": TruncDate("superseded_at"),
        "t_signed_on": TruncDate("acknowledged_at"),
        "t_due_on": F("due_on"),
    }
    return columns, owed_q, status_q, Value(1)


def _tally_columns() -> Counted:
    """The same read from the obligation tally (each row counting its ``n``)."""
    columns = {
        "grouped_org": F("organisation_id"),
        "t_role_kind": F("role_kind"),
        "t_owed_from": F("owed_from"),
        "t_ends_on": F("ends_on"),
        "t_superseded_on": F("superseded_on"),
        "t_signed_on": F("signed_on"),
        "t_due_on": F("due_on"),
    }
    return columns, tally_owed_q, tally_status_q, F("n")


def dashboard_sql(queryset: QuerySet, filters: ReportFilters, schools: SchoolMap):
    """One scan of the obligations owed from the day or before, counted two ways in the same statement: per
    (organisation or attributed school) and role kind, owed/signed/overdue on the day (for the tables), and per
    combination of the days that decide a status (for the timeline). Both groupings are bounded by the
    organisations and the calendar, not by the number of people.

    ``queryset`` is ``tally_base`` (the obligation tally: rows bounded by the organisations and the calendar,
    each counting ``n`` obligations) or, for networks, ``obligations_base`` (one row per obligation).

    On PostgreSQL the two groupings are grouping sets of one aggregate over one scan (the counts once came from
    two queries, each scanning and joining every owed obligation); SQLite, which has no grouping sets, groups a
    common table expression twice.
    Returns the statement, its parameters and the database alias.
    """
    day = filters.as_at
    tally = queryset.model is ObligationTally
    columns, owed_on, on_status, weight = _tally_columns() if tally else _obligation_columns(schools)
    owed = owed_on(day)
    flags = {
        "weight": weight,
        "owed_now": _flag(owed, weight),
        "signed_now": _flag(owed & on_status(ObligationStatus.SIGNED, day), weight),
        "overdue_now": _flag(owed & on_status(ObligationStatus.OVERDUE, day), weight),
    }
    rows = queryset.filter(owed_from__lte=day).annotate(**columns, **flags).values(*columns, *flags).order_by()
    inner, params = rows.query.sql_with_params()
    timeline_columns = "t_owed_from, t_ends_on, t_superseded_on, t_signed_on, t_due_on"
    counts = "SUM(weight), SUM(owed_now), SUM(signed_now), SUM(overdue_now)"
    if connections[rows.db].vendor == "postgresql":
        # Both groupings hashed in one pass over the joined rows (a third less than two scans).
        sql = (
            f"SELECT GROUPING(grouped_org), grouped_org, t_role_kind, {timeline_columns}, {counts} FROM ({inner}) owed "
            f"GROUP BY GROUPING SETS ((grouped_org, t_role_kind), ({timeline_columns}))"
        )
    else:  # SQLite has no grouping sets: the same rows grouped twice (it evaluates the common table twice)
        sql = (
            f"WITH owed AS ({inner}) "
            f"SELECT 0, grouped_org, t_role_kind, NULL, NULL, NULL, NULL, NULL, {counts} "
            "FROM owed GROUP BY grouped_org, t_role_kind "
            f"UNION ALL SELECT 1, NULL, NULL, {timeline_columns}, {counts} FROM owed GROUP BY {timeline_columns}"
        )
    return sql, params, rows.db


def _dashboard_groups(queryset: QuerySet, filters: ReportFilters, schools: SchoolMap):
    """Runs ``dashboard_sql``: (the breakdown's rows, the timeline's groups)."""
    sql, params, alias = dashboard_sql(queryset, filters, schools)
    breakdown: list[OwedGroup] = []
    timeline: list[TimelineGroup] = []
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()  # at once: psycopg checks the result again for each row a loop takes
    for timeline_part, org, kind, owed_from, ends_on, superseded_on, signed_on, due_on, n, *now in fetched:
        if timeline_part:
            timeline.append(
                TimelineGroup(
                    owed_from=_as_date(owed_from) or date.min,  # never null: the column is not nullable
                    role__ends_on=_as_date(ends_on),
                    superseded_on=_as_date(superseded_on),
                    signed_on=_as_date(signed_on),  # (the tally's NEVER read back as None, as a null)
                    due_on=_as_date(due_on) or date.min,
                    n=n,
                )
            )
        elif now[0]:  # a role kind owed nothing on the day (superseded, left, not yet owed) is not a row
            breakdown.append(OwedGroup(org, kind, *now))
    return breakdown, timeline


def _as_date(value) -> date | None:
    """A date column read through the cursor (SQLite hands back ISO text outside the ORM); the tally's NEVER
    is None, as an obligation's null."""
    if value is not None and not isinstance(value, date):
        value = date.fromisoformat(str(value)[:10])
    return None if value == NEVER else value


def timeline_days(start: date, end: date, points: int = TIMELINE_POINTS) -> list[date]:
    """Up to ``points`` evenly spaced days from ``start`` to ``end`` inclusive."""
    if start >= end:
        return [end]
    span = (end - start).days
    if span < points:
        return [start + timedelta(days=offset) for offset in range(span + 1)]
    return sorted({start + timedelta(days=round(i * span / (points - 1))) for i in range(points)})


class TimelineGroup(NamedTuple):
    """Obligations sharing the days that decide their status (London dates), and how many they are. A named
    tuple: the dashboard makes one per row of its grouped query (a thousand on a large trust's dashboard), and a
    frozen dataclass's ``__init__`` took three times as long."""

    owed_from: date
    role__ends_on: date | None
    superseded_on: date | None
    signed_on: date | None
    due_on: date
    n: int

    def status_on(self, day: date) -> ObligationStatus | None:
        """``owed_q`` and then the obligations' status on ``day``; None when they are not owed that day."""
        if self.owed_from > day:
            return None
        if self.role__ends_on is not None and self.role__ends_on < day:
            return None
        if self.superseded_on is not None and self.superseded_on <= day:
            return None
        return obligation_status(acknowledged_at=self.signed_on, superseded_at=None, due_on=self.due_on, today=day)

    def sampled_spans(self, days: list[date]) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """The indexes of sorted ``days`` on which these obligations are owed, signed and overdue (``status_on``
        on each of them), as half-open ranges: an obligation's status changes at most at these days."""
        count = len(days)
        owed_from = bisect_left(days, self.owed_from)  # owed from that day
        owed_to = count
        if self.role__ends_on is not None:  # owed through the role's last day
            owed_to = min(owed_to, bisect_right(days, self.role__ends_on))
        if self.superseded_on is not None:  # no longer owed from the day it was superseded
            owed_to = min(owed_to, bisect_left(days, self.superseded_on))
        signed_from = count if self.signed_on is None else bisect_left(days, self.signed_on)
        overdue_from = bisect_right(days, self.due_on)  # overdue from the day after the due day, until signed
        return (
            (owed_from, owed_to),
            (max(owed_from, signed_from), owed_to),
            (max(owed_from, overdue_from), min(owed_to, signed_from)),
        )


def _timeline(groups: list[TimelineGroup], filters: ReportFilters) -> list[TimelinePoint]:
    """Each sampled day counted from the obligations grouped by the days that decide their status (owed from,
    role ended, superseded, signed, due; London dates), as ``_dashboard_groups`` reads them.

    Each group adds its number to the days of each span ``sampled_spans`` gives, through running sums: a group
    costs the same whatever the number of days (a thousand groups times twelve days was a third of the page)."""
    if not groups:
        return []
    days = timeline_days(min(group.owed_from for group in groups), filters.as_at)
    changes = [[0] * (len(days) + 1) for _ in range(3)]  # owed, signed, overdue: + where a span starts, - after
    for group in groups:
        for change, (start, end) in zip(changes, group.sampled_spans(days), strict=True):
            if start < end:
                change[start] += group.n
                change[end] -= group.n
    running = [0, 0, 0]
    points = []
    for index, day in enumerate(days):
        running = [total + change[index] for total, change in zip(running, changes, strict=True)]
        points.append(TimelinePoint(day, Counts(*running)))
    return points


def counted_base(user, filters: ReportFilters, schools: SchoolMap) -> QuerySet:
    """What the dashboard counts: the obligation tally, or for networks (people attributed to schools one by
    one) the obligations themselves."""
    return obligations_base(user, filters, schools) if schools.network else tally_base(user, filters, schools)


def dashboard(user, filters: ReportFilters, schools: SchoolMap | None = None) -> Dashboard:
    """Everything the dashboard shows, in a fixed number of queries (one scan of the tally's rows)."""
    schools = school_map(filters) if schools is None else schools
    rows, groups = _dashboard_groups(counted_base(user, filters, schools), filters, schools)
    totals, by_school, by_role, by_school_role = _breakdown(rows, filters, schools)
    return Dashboard(
        filters=filters,
        totals=totals,
        by_school=by_school,
        by_role=by_role,
        timeline=_timeline(groups, filters),
        schools=schools,
        by_school_role=by_school_role,
    )


def dashboard_tables(user, filters: ReportFilters, schools: SchoolMap, names: list[str]) -> dict[str, list]:
    """Only the dashboard tables named ("schools", "roles", "timeline"), for exports (one scan for any of them)."""
    rows, groups = _dashboard_groups(counted_base(user, filters, schools), filters, schools)
    tables: dict[str, list] = {}
    if {"schools", "roles"} & set(names):
        _totals, tables["schools"], tables["roles"], _by_school_role = _breakdown(rows, filters, schools)
    if "timeline" in names:
        tables["timeline"] = _timeline(groups, filters)
    return {name: tables[name] for name in names}


# ---------------------------------------------------------------------------
# The people behind the numbers (drill-down and detailed exports)
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class PersonRow:
    obligation_id: int
    person_id: int
    name: str
    email: str
    organisation: str
    school: str
    school_key: str  # the school's id as text, or NO_SCHOOL: the key the dashboard's rows use
    role: str
    code: str
    version: str
    owed_from: date
    due_on: date
    status: ObligationStatus
    signed_at: datetime | None
    acknowledgement_id: int | None
    verification_code: str
    on_behalf: bool

    @property
    def status_label(self) -> str:
        return self.status.label


PEOPLE_FIELDS = (
    "pk",
    "person_id",
    "person__full_name",
    "person__email",
    "organisation__name",
    "organisation_id",
    "role__kind",
    "code__title",
    "version__label",
    "owed_from",
    "due_on",
    "acknowledged_at",
    "ack__id",
    "ack__verification_code",
    "ack__recorded_by_id",
)


def owed_rows(user, filters: ReportFilters, schools: SchoolMap, *, listed: bool = False) -> QuerySet[Obligation]:
    """The obligations behind the numbers: owed on the day and, if one is chosen, of that status."""
    return obligations_base(user, filters, schools, listed=listed).filter(
        owed_q(filters.as_at), status_q(filters.status, filters.as_at)
    )


def people(user, filters: ReportFilters, schools: SchoolMap, *, listed: bool = False) -> QuerySet[Obligation]:
    """The obligations behind the numbers, as value rows with the signed record joined (one query)."""
    queryset = owed_rows(user, filters, schools, listed=listed)
    fields = PEOPLE_FIELDS + ((ATTRIBUTED,) if schools.network else ())
    return (
        queryset.annotate(
            # The original acknowledgement of this version (corrections point at it); at most one by constraint.
            ack=FilteredRelation(
                "person__acknowledgements",
                condition=Q(
                    person__acknowledgements__version=F("version"), person__acknowledgements__corrects__isnull=True
                ),
            )
        )
        .values_list(*fields, named=True)
        .order_by("person__full_name", "person_id", "version_id")
    )


def owed_count(user, filters: ReportFilters, schools: SchoolMap) -> int:
    """How many rows ``owed_rows`` holds, summed on the obligation tally (organisation-sized rows, however many
    people); for networks, whose schools are attributed per person, counted on the obligations."""
    if schools.network:
        return owed_rows(user, filters, schools).count()
    day = filters.as_at
    rows = tally_base(user, filters, schools).filter(tally_owed_q(day), tally_status_q(filters.status, day))
    return rows.aggregate(n=Coalesce(Sum("n"), 0))["n"]


def person_row(values, filters: ReportFilters, schools: SchoolMap) -> PersonRow:
    """Turn one value row from ``people`` into what pages and exports show."""
    # ``owed_rows`` has already left out what was superseded by the day.
    status = obligation_status(
        acknowledged_at=values.acknowledged_at, superseded_at=None, due_on=values.due_on, today=filters.as_at
    )
    signed = status == ObligationStatus.SIGNED
    org_for_school = getattr(values, ATTRIBUTED) if schools.network else values.organisation_id
    school_id = schools.school_of(org_for_school)
    return PersonRow(
        obligation_id=values.pk,
        person_id=values.person_id,
        name=values.person__full_name,
        email=values.person__email,
        organisation=values.organisation__name,
        school=schools.label(school_id),
        school_key=str(school_id) if school_id else NO_SCHOOL,
        role=role_label(values.role__kind),
        code=values.code__title,
        version=values.version__label,
        owed_from=values.owed_from,
        due_on=values.due_on,
        status=status,
        # When they signed (for paper signatures, the day on the paper); as at an earlier day, a later one is not shown.
        signed_at=values.acknowledged_at if signed else None,
        acknowledgement_id=values.ack__id if signed else None,
        verification_code=(values.ack__verification_code or "") if signed else "",
        on_behalf=bool(values.ack__recorded_by_id) if signed else False,
    )


def people_rows(user, filters: ReportFilters, schools: SchoolMap, chunk_size: int = 2000) -> Iterator[PersonRow]:
    """Every row, streamed from the database in chunks (flat memory for exports)."""
    for values in people(user, filters, schools).iterator(chunk_size=chunk_size):
        yield person_row(values, filters, schools)


def today() -> date:
    return timezone.localdate()
