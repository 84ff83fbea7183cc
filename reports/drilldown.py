"""The drill-down's pages: the people behind a number, a page at a time, in the order of ``reports.selectors.people``
(name, person, version).

Next and Previous links carry the boundary row (``after`` / ``before``: an obligation's id, looked up within the
same scoped, filtered rows, so nobody outside them serves as a bookmark) and the page's number, which is only shown:
a keyset page reads its rows from that row on, never through an OFFSET. A page opened by its number alone (or whose
bookmark has since left the rows, say by signing) is read by OFFSET and lists the same rows.

On PostgreSQL a list dense among the database's people is read by walking the people's name index and probing each
person's obligations (a LATERAL subquery behind ``OFFSET 0``, which the planner cannot flatten into a join): the cost
is then a few index probes per row shown, whatever the planner estimates of the status conditions. Left to itself it
estimated an overdue list at 540 rows for 7,546 and, in a database of 15 trusts, sorted all of a trust's 15,000
overdue obligations for every page. A sparse list (few rows among many people) is left to the planner: sorting a few
hundred rows is cheaper than walking the index past thousands of people who are not in it. A page opened by its
number finds the row before it first, in the obligations' own index in the page's order (``_walked_anchor``: each
obligation keeps a copy of its person's name), then reads the page from that row as a Next link would.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.http import urlencode

from conduct.models import Person
from core.db.reads import first_in_one_pass
from reports.selectors import (
    ATTRIBUTED,
    PEOPLE_FIELDS,
    ReportFilters,
    SchoolMap,
    owed_count,
    owed_rows,
    people,
)

# Walk the name index when count² ≥ WALK_RATIO × pages × people, where pages is how many pages the walk passes
# (one from a bookmark; the page's number when opened by it). A walk probes about people × rows / count people (a few
# microseconds each: 837 of 259,650 for a page of the trust's 15,040 overdue, 5 ms), a sort joins and sorts all
# count rows (about as much each: 60-120 ms for those 15,040); WALK_RATIO is a page of 50 and some to spare.
WALK_RATIO = 64
SORT_KEY = ("person__full_name", "person_id", "version_id")
WALK = '"drilldown_walk"'
PERSON_TABLE = Person._meta.db_table


@dataclass(frozen=True)
class Anchor:
    """A row's place in the order: the bookmark a Next (``forward``) or Previous link carries."""

    pk: int
    name: str
    person_id: int
    version_id: int
    forward: bool


@dataclass
class DrilldownPage:
    number: int
    num_pages: int
    count: int
    per_page: int
    object_list: list[Any]
    has_next: bool = False
    anchor: Anchor | None = None  # what this page was read from, if it came by a Next or Previous link

    @property
    def paginator(self) -> DrilldownPage:
        """Where a Django ``Page`` keeps ``count`` and ``num_pages``, for code written against one."""
        return self

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def next_params(self) -> dict[str, str]:
        return {"after": str(self.object_list[-1].pk), "page": str(self.number + 1)} if self.object_list else {}

    @property
    def previous_params(self) -> dict[str, str]:
        if self.number == 2 or not self.object_list:
            return {"page": "1"}  # the first page is read from the start
        return {"before": str(self.object_list[0].pk), "page": str(self.number - 1)}

    @property
    def next_query(self) -> str:
        return urlencode(self.next_params)

    @property
    def previous_query(self) -> str:
        return urlencode(self.previous_params)

    @property
    def own_params(self) -> dict[str, str]:
        """The parameters that read this page again (the remind-now form's way back)."""
        if self.anchor is None:
            return {"page": str(self.number)}
        return {("after" if self.anchor.forward else "before"): str(self.anchor.pk), "page": str(self.number)}


def _whole_number(value: object, default: int, maximum: int) -> int:
    try:
        return min(max(1, int(str(value))), maximum)
    except (TypeError, ValueError):
        return default


def _anchor(rows: QuerySet, value: object, *, forward: bool) -> Anchor | None:
    """The row ``value`` names, if it is among ``rows`` (the scoped, filtered obligations): one query."""
    try:
        pk = int(str(value))
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:
        return None
    found = rows.filter(pk=pk).values_list(*SORT_KEY).first()
    if found is None:
        return None
    name, person_id, version_id = found
    return Anchor(pk, name, person_id, version_id, forward=forward)


def drilldown_page(
    user, filters: ReportFilters, schools: SchoolMap, per_page: int, params: Mapping[str, Any]
) -> DrilldownPage:
    """The page ``params`` asks for: ``page`` (a number), and ``after`` or ``before`` (a Next or Previous link's
    boundary row). On PostgreSQL three queries (count, the table's size, rows) and one more for a bookmark."""
    count = owed_count(user, filters, schools)  # the obligation tally's, not a count over the rows' joins
    num_pages = max(1, -(-count // per_page))
    number = _whole_number(params.get("page"), 1, num_pages)
    anchor = None
    scoped = owed_rows(user, filters, schools)  # lazy: read only for a bookmark or a page opened by its number
    if number > 1:
        anchor = _anchor(scoped, params.get("after"), forward=True) or _anchor(
            scoped, params.get("before"), forward=False
        )
    page = DrilldownPage(number, num_pages, count, per_page, [], anchor=anchor)
    if count == 0:
        return page
    queryset = people(user, filters, schools).values_list(*_fields(schools), named=True)

    def walked() -> QuerySet:
        """What a walk reads: the same rows, the organisation's subtree named by id (``reports.selectors._scoped``);
        built only for a page that is walked."""
        return people(user, filters, schools, listed=True).values_list(*_fields(schools), named=True)

    if anchor is None and number > 1:  # by its number: the same rows, past an OFFSET
        offset = (number - 1) * per_page
        if _walks(count, pages=number):
            # The row before the page found by a narrow walk (ids only), then the page read from it as from a
            # bookmark: the wide row (its joins for the record, school and code) is built for the page alone.
            before = _walked_anchor(owed_rows(user, filters, schools, listed=True), offset - 1)
            rows = [] if before is None else _walked(walked(), before, per_page + 1)
        else:
            rows = list(queryset[offset : offset + per_page + 1])
    elif _walks(count, pages=1):
        rows = _walked(walked(), anchor, per_page + 1)
    elif anchor is not None:
        rows = _keyset(queryset, anchor, per_page + 1)
    else:
        rows = list(queryset[: per_page + 1])
    if anchor is not None and not anchor.forward:
        # Read backwards from the bookmark: one row more than a page says whether another page comes before.
        page.object_list, page.has_next = rows[-per_page:], True
    else:
        page.object_list, page.has_next = rows[:per_page], len(rows) > per_page
    return page


def _fields(schools: SchoolMap) -> tuple[str, ...]:
    return (*PEOPLE_FIELDS, "version_id", *((ATTRIBUTED,) if schools.network else ()))


def _walks(count: int, pages: int) -> bool:
    """Whether walking the name index past ``pages`` pages (one for a bookmark's page; the page's number when it
    is opened by its number, whose OFFSET the walk passes too) costs less than sorting all ``count`` rows."""
    if connection.vendor != "postgresql":
        return False
    people_in_database = _people_in_database()
    return people_in_database is not None and count * count >= WALK_RATIO * pages * people_in_database


def _people_in_database() -> int | None:
    """PostgreSQL's own estimate of the people table's size (kept up by autovacuum), or None if the table was never
    analysed or was empty when it was (then the planner is left to it, as before the walk): no count of the table.
    An estimate of 0 people made every count "worth walking" (0 ≥ 0), whatever the rows."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [PERSON_TABLE])
        row = cursor.fetchone()
    return None if row is None or row[0] <= 0 else int(row[0])


def _keyset(queryset: QuerySet, anchor: Anchor, limit: int) -> list[Any]:
    """The rows beyond ``anchor`` in the order (before it, for a Previous link), left to the planner."""
    name, person, version = (anchor.name, anchor.person_id, anchor.version_id)
    way = "gt" if anchor.forward else "lt"
    beyond = (
        Q(**{f"person__full_name__{way}": name})
        | Q(person__full_name=name, **{f"person_id__{way}": person})
        | Q(person__full_name=name, person_id=person, **{f"version_id__{way}": version})
    )
    rows = queryset.filter(beyond)
    if anchor.forward:
        return list(rows[:limit])
    return list(reversed(rows.reverse()[:limit]))


def _walked(queryset: QuerySet, anchor: Anchor | None, limit: int) -> list[Any]:
    """The rows from ``anchor`` on (or from the start), walking the people's name index (PostgreSQL only)."""
    inner = queryset.filter(person_id=RawSQL(f"{WALK}.id", ())).order_by()
    inner_sql, inner_params = inner.query.sql_with_params()
    forward = anchor is None or anchor.forward
    direction = "ASC" if forward else "DESC"
    where, params = "", list[Any]()
    if anchor is not None:
        compare, beyond = (">=", ">") if forward else ("<=", "<")
        # The bound on the walk's columns starts the index scan at the bookmark's person; the rest skips the
        # bookmark itself (and that person's other versions on the wrong side of it).
        where = (
            f"WHERE ({WALK}.full_name, {WALK}.id) {compare} (%s, %s)"
            f' AND ({WALK}.id <> %s OR "row".version_id {beyond} %s)'
        )
        params = [anchor.name, anchor.person_id, anchor.person_id, anchor.version_id]
    people_table = connection.ops.quote_name(PERSON_TABLE)
    sql = (
        f'SELECT "row".* FROM {people_table} {WALK} CROSS JOIN LATERAL ({inner_sql} OFFSET 0) "row" {where} '
        f'ORDER BY {WALK}.full_name {direction}, {WALK}.id {direction}, "row".version_id {direction} LIMIT %s'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*inner_params, *params, limit))
        names = tuple(column.name for column in cursor.description)
        row_type = _row_type(names)
        rows = [row_type(*values) for values in cursor.fetchall()]
    return rows if forward else rows[::-1]


def _walked_anchor(rows: QuerySet, index: int) -> Anchor | None:
    """The row at ``index`` (from 0) of ``rows`` (the scoped, filtered obligations) in the page's order, as a
    forward bookmark; None past the end. Ordered by the obligations' own copy of the person's name
    (``Obligation.person_full_name``), so PostgreSQL walks one index of the obligations in that order, reading only
    what the filters need from it, rather than walking the people and probing each one's obligations."""
    ordered = rows.order_by("person_full_name", "person_id", "version_id")
    found = ordered.values_list("pk", "person_full_name", "person_id", "version_id")[index : index + 1]
    values = first_in_one_pass(found)
    if values is None:
        return None
    pk, name, person_id, version_id = values
    return Anchor(pk, name, person_id, version_id, forward=True)


@lru_cache(maxsize=8)
def _row_type(names: tuple[str, ...]):
    return namedtuple("Row", names)  # the same attributes as ``people``'s named value rows
