"""The people table read from one query (``people_table``) gives the same cells as the row-by-row columns
(``people_columns`` over ``people_rows``), for CSV and XLSX, on SQLite and on PostgreSQL (run with DATABASE_URL).

The row-by-row columns stay the reference: they are the readable definition of every cell, and the query is the
fast way to produce the same thing for 100,000s of rows.
"""

from __future__ import annotations

import csv
import io
import re
import tracemalloc
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from acknowledgements.models import Obligation
from conduct.models import Code, NetworkMembership, Organisation, Person
from conduct.services import role_create
from conduct.tests.factories import CodeFactory, OrganisationFactory, PersonFactory, RoleFactory, adopt, make_version
from reports.exports import (
    Sheet,
    _crlf,
    copied_csv,
    csv_chunks,
    people_columns,
    people_csv_chunks,
    people_sheet,
    people_table,
    table_csv_chunks,
    xlsx_file,
)
from reports.selectors import NO_SCHOOL, ReportFilters, people_rows, school_map
from reports.tests.conftest import officer
from reports.tests.factories import days_ago, sign

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NEEDS_COPY = "Needs PostgreSQL: COPY … TO STDOUT (FORMAT csv) is PostgreSQL's (CI runs these on PostgreSQL)"


def row_by_row_csv(user, filters: ReportFilters) -> str:
    return "".join(csv_chunks(people_columns(), people_rows(user, filters, school_map(filters))))


def from_sql_csv(user, filters: ReportFilters) -> str:
    return "".join(people_csv_chunks(user, filters, school_map(filters)))


def row_by_row_cells(user, filters: ReportFilters) -> list[list]:
    columns = people_columns()
    return [[column.for_xlsx(row) for column in columns] for row in people_rows(user, filters, school_map(filters))]


def from_sql_cells(user, filters: ReportFilters) -> list[list]:
    return [list(values) for values in people_sheet(user, filters, school_map(filters)).values()]


def parsed(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def hostile(oak) -> None:
    """Text a user typed that starts with each formula trigger, in every column that holds typed text."""
    Person.objects.filter(pk=oak.people["north-0"].pk).update(full_name="=HYPERLINK(1)")  # signed
    Person.objects.filter(pk=oak.people["north-5"].pk).update(full_name="\tTabbed", email="-minus@example.org")
    Organisation.objects.filter(pk=oak.orgs["south"].pk).update(name="+South Academy")  # a school: the School column
    Code.objects.filter(pk=oak.code.pk).update(title="@Staff code")
    # An adopted version's label cannot change: a second code for volunteers, adopted under a hostile label.
    code = CodeFactory.create(owner=oak.orgs["trust"], title="Volunteers' code", audience=["volunteer"])
    adopt(make_version(code, label="-2026-2027"), oak.orgs["board"], held_on=timezone.localdate() - timedelta(days=20))


def on_the_edges(oak) -> None:
    """A paper signature recorded by the admin, and one a microsecond before a second ends (cut, not rounded)."""
    unsigned = Obligation.objects.filter(version=oak.version, acknowledged_at__isnull=True, role__ends_on__isnull=True)
    paper, late = unsigned.select_related("role", "organisation", "person", "version").order_by("pk")[:2]
    sign(paper, at=days_ago(4), recorded_by=oak.admin)
    sign(late, at=datetime(2026, 7, 1, 9, 30, 59, 999_999, tzinfo=LONDON))


def filter_variants(oak) -> dict[str, ReportFilters]:
    trust, today = oak.orgs["trust"], timezone.localdate()
    return {
        "whole trust, every code": ReportFilters(organisation=trust, as_at=today),
        "one version, overdue": ReportFilters(organisation=trust, as_at=today, version=oak.version, status="overdue"),
        "one school": ReportFilters(organisation=trust, as_at=today, school=str(oak.orgs["south"].pk)),
        "no school": ReportFilters(organisation=trust, as_at=today, school=NO_SCHOOL),
        "as at 30 days ago": ReportFilters(organisation=trust, as_at=today - timedelta(days=30)),
        "a school's own admin": ReportFilters(organisation=oak.orgs["north"], as_at=today),
    }


def test_csv_from_sql_is_the_row_by_row_csv_byte_for_byte(oak, elm):
    hostile(oak)
    on_the_edges(oak)
    for name, filters in filter_variants(oak).items():
        user = oak.school_admin if filters.organisation == oak.orgs["north"] else oak.admin
        expected = row_by_row_csv(user, filters)
        assert from_sql_csv(user, filters) == expected, name
        assert len(parsed(expected)) > 1, name  # each variant has rows, so the comparison compares something
    rows = parsed(from_sql_csv(oak.admin, filter_variants(oak)["whole trust, every code"]))
    header, body = rows[0], rows[1:]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    assert by_name["'=HYPERLINK(1)"]["Status"] == "Signed"
    assert by_name["'\tTabbed"]["Email"] == "'-minus@example.org"
    assert {row[2] for row in body} >= {"'+South Academy", "No school"}
    assert {row[5] for row in body} == {"'@Staff code", "Volunteers' code"}
    assert {row[6] for row in body} == {"2026-2027", "'-2026-2027"}
    assert not any("Elm" in row[0] for row in body)  # the other trust's people are not in this one's export
    signed = [row for row in body if row[9] == "Signed"]
    assert {row[11] for row in signed} == {"Yes", "No"} and {row[11] for row in body if row[9] != "Signed"} == {""}
    times = {row[10] for row in signed}
    assert "2026-07-01T09:30:59+01:00" in times  # summer time, the microseconds cut
    assert any(value.endswith("+00:00") for value in times)  # and a signature in winter time


def test_spreadsheet_cells_from_sql_are_the_row_by_row_cells(oak, elm):
    hostile(oak)
    on_the_edges(oak)
    for name, filters in filter_variants(oak).items():
        user = oak.school_admin if filters.organisation == oak.orgs["north"] else oak.admin
        expected = row_by_row_cells(user, filters)
        assert from_sql_cells(user, filters) == expected and expected, name
    cells = from_sql_cells(oak.admin, filter_variants(oak)["whole trust, every code"])
    assert all(isinstance(row[7], date) and isinstance(row[8], date) for row in cells)
    signed_at = [row[10] for row in cells if row[9] == "Signed"]
    assert datetime(2026, 7, 1, 9, 30, 59, 999_999) in signed_at  # London wall-clock time, as local_naive gives
    assert all(isinstance(value, datetime) and value.tzinfo is None for value in signed_at)


def test_the_workbooks_hold_the_same_values(oak):
    hostile(oak)
    filters = filter_variants(oak)["whole trust, every code"]
    schools = school_map(filters)
    rows = people_rows(oak.admin, filters, schools)
    reference = load_workbook(xlsx_file([Sheet("People", people_columns(), rows)]))["People"]
    written = load_workbook(xlsx_file([people_sheet(oak.admin, filters, schools)]))["People"]
    values = [list(row) for row in written.iter_rows(values_only=True)]
    assert values == [list(row) for row in reference.iter_rows(values_only=True)]
    assert (
        len(values)
        == 1
        + Obligation.objects.filter(organisation__path__startswith=oak.orgs["trust"].path)
        .exclude(role__ends_on__lt=filters.as_at)
        .count()
    )
    names = [cell for row in written.iter_rows(min_row=2) for cell in row[:1]]
    hostile_cell = next(cell for cell in names if cell.value == "'=HYPERLINK(1)")
    assert hostile_cell.data_type == "s"  # text, never a formula


def test_a_network_attributes_people_to_member_schools_the_same_way(oak, elm):
    today = timezone.localdate()
    network = OrganisationFactory.create(name="Partners Network", slug="partners", kind="network")
    hub = OrganisationFactory.create(name="Thames Hub", slug="thames-hub", kind="hub", parent=network)
    board = OrganisationFactory.create(
        name="Partners Board", slug="partners-board", kind="board", parent=network, governs=network
    )
    NetworkMembership.objects.create(network=hub, school=oak.orgs["north"], joined_on=date(2023, 9, 1))
    NetworkMembership.objects.create(network=hub, school=elm.orgs["south"], joined_on=date(2023, 9, 1))
    code = CodeFactory.create(owner=network, title="Partners Code", audience=["reviewer"])
    places = [[oak.orgs["north"]], [elm.orgs["south"], oak.orgs["north"]], [], [elm.orgs["north"]]]
    for index, schools in enumerate(places):
        person = PersonFactory.create(full_name=f"Reviewer {index}")
        RoleFactory.create(person=person, organisation=hub, kind="reviewer", starts_on=date(2025, 9, 1))
        for offset, place in enumerate(schools):
            RoleFactory.create(person=person, organisation=place, kind="employee", starts_on=date(2018 + offset, 9, 1))
    version = make_version(code)
    adopt(version, board, held_on=today - timedelta(days=40))
    first = Obligation.objects.select_related("role", "organisation", "person", "version").get(
        version=version, person__full_name="Reviewer 0"
    )
    sign(first, at=days_ago(3))
    admin = officer(network)
    for school in ("", str(elm.orgs["south"].pk), NO_SCHOOL):
        filters = ReportFilters(organisation=network, as_at=today, school=school)
        expected = row_by_row_csv(admin, filters)
        assert from_sql_csv(admin, filters) == expected and len(parsed(expected)) > 1, school
        assert from_sql_cells(admin, filters) == row_by_row_cells(admin, filters), school
    attributed = {
        row[0]: row[2] for row in parsed(from_sql_csv(admin, ReportFilters(organisation=network, as_at=today)))
    }
    assert attributed == {
        "Name": "School",
        "Reviewer 0": oak.orgs["north"].name,
        "Reviewer 1": elm.orgs["south"].name,  # the earliest started of their school roles
        "Reviewer 2": "No school",
        "Reviewer 3": "No school",  # their school is not a member
    }


def test_cells_holding_commas_quotes_and_line_breaks_are_the_row_by_row_csv_byte_for_byte(oak):
    """The CSV PostgreSQL's COPY writes (``copied_csv``) quotes and ends rows as ``csv.writer`` does: a line break
    inside a cell is kept as it is, each row's end is \\r\\n, and an empty cell is empty (not \"\")."""
    names = {
        "north-0": 'Jo "JJ" Smith, Jr.\nSecond line',  # a comma, quotes and a line break in one cell
        "north-5": "Carriage\r\nreturn",
        "south-0": '"',
        "south-1": 'Trailing quote"',
    }
    for key, name in names.items():
        Person.objects.filter(pk=oak.people[key].pk).update(full_name=name)
    Organisation.objects.filter(pk=oak.orgs["north"].pk).update(name='North, "the old school"')
    filters = filter_variants(oak)["whole trust, every code"]
    expected = row_by_row_csv(oak.admin, filters)
    text = from_sql_csv(oak.admin, filters)
    assert text == expected
    rows = parsed(text)
    assert {row[0] for row in rows} >= set(names.values())
    assert re.search(r",,|,\r\n", text) and not re.search(r'(^|,)""(,|\r\n)', text, re.M)  # empty cells empty
    assert text.count("\r\n") == len(rows) + 1  # every row's end, and the one line break a cell holds as \r\n


def test_row_ends_are_found_however_the_text_is_cut():
    """``copied_csv`` converts PostgreSQL's text as it arrives: any cut gives the same text as converting it whole."""
    text = 'a,"b\nc",d\n"e ""f""\ng",,h\n"",x\n"\n"\nlast\n'
    whole, quoted = _crlf(text, False)
    assert whole == 'a,"b\nc",d\r\n"e ""f""\ng",,h\r\n"",x\r\n"\n"\r\nlast\r\n' and not quoted
    for cut in range(len(text) + 1):
        first, inside = _crlf(text[:cut], False)
        second, after = _crlf(text[cut:], inside)
        assert (first + second, after) == (whole, False), cut
    for first_cut in range(len(text) + 1):
        for second_cut in range(first_cut, len(text) + 1):
            parts, state = [], False
            for piece in (text[:first_cut], text[first_cut:second_cut], text[second_cut:]):
                converted, state = _crlf(piece, state)
                parts.append(converted)
            assert "".join(parts) == whole, (first_cut, second_cut)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="Needs PostgreSQL: COPY … TO STDOUT (FORMAT csv) is PostgreSQL's"
)
def test_the_copied_csv_is_one_statement_and_stays_flat(oak):
    filters = filter_variants(oak)["whole trust, every code"]

    def copied(block_chars: int) -> tuple[int, int, int]:
        queryset = people_table(oak.admin, filters, school_map(filters)).queryset
        tracemalloc.start()
        try:
            with CaptureQueriesContext(connection) as context:
                rows = sum(block.count("\r\n") for block in copied_csv(queryset, block_chars=block_chars))
            return rows, len(context.captured_queries), tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    copied(2000)  # warm
    few, queries, small = min(copied(2000) for _ in range(2))
    add_staff(oak, 200)
    many, queries_after, large = min(copied(2000) for _ in range(2))
    everything, _queries, holding = copied(10**9)  # one block: every row held
    assert many == few + 200 == everything and queries == queries_after == 1
    assert large - small < (holding - small) / 3, (small, large, holding)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="Needs PostgreSQL: COPY … TO STDOUT (FORMAT csv) is PostgreSQL's"
)
def test_a_copied_csv_abandoned_halfway_leaves_the_connection_usable(oak):
    add_staff(oak, 30)
    filters = filter_variants(oak)["whole trust, every code"]
    blocks = copied_csv(people_table(oak.admin, filters, school_map(filters)).queryset, block_chars=1)
    assert next(blocks).count("\r\n") == 1 and next(blocks).count("\r\n") == 1
    blocks.close()
    assert Person.objects.filter(pk=oak.admin.pk).exists()
    chunks = people_csv_chunks(oak.admin, filters, school_map(filters))
    assert next(chunks).startswith("\ufeffName,")
    chunks.close()  # before its copy began
    assert Person.objects.filter(pk=oak.admin.pk).exists()


def add_staff(oak, count: int) -> None:
    for index in range(count):
        person = PersonFactory.create(full_name=f"Extra Employee {index:03d}")
        role_create(person=person, organisation=oak.orgs["south"], kind="employee", starts_on=date(2019, 9, 1))


@pytest.mark.parametrize("spreadsheet", [False, True])
def test_the_query_count_does_not_grow_with_rows(oak, spreadsheet):
    filters = filter_variants(oak)["whole trust, every code"]

    def queries() -> tuple[int, int]:
        table = people_table(oak.admin, filters, school_map(filters), spreadsheet=spreadsheet)
        with CaptureQueriesContext(connection) as context:
            rows = sum(1 for _ in table.rows(chunk_size=5))
        return len(context.captured_queries), rows

    before, few = queries()
    add_staff(oak, 30)
    after, many = queries()
    assert many == few + 30 and before >= 1
    # One query (SQLite; COPY for PostgreSQL's CSV); a PostgreSQL cursor also fetches once per chunk of 5 rows.
    fetches = (many - few) // 5 if spreadsheet and connection.vendor == "postgresql" else 0
    assert after - fetches <= before


def csv_peak(oak, filters: ReportFilters, *, hold: bool = False) -> tuple[int, int]:
    """Peak bytes Python allocated while streaming the CSV in small batches (or after holding every row first, the
    cost flat memory avoids), and the rows written."""
    table = people_table(oak.admin, filters, school_map(filters))
    tracemalloc.start()
    try:
        rows = table.rows(20)
        chunks = table_csv_chunks(people_columns(), iter(list(rows)) if hold else rows, batch=20)
        lines = sum(chunk.count("\r\n") for chunk in chunks)
        return tracemalloc.get_traced_memory()[1], lines - 1
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_as_rows_grow(oak):
    filters = filter_variants(oak)["whole trust, every code"]
    # More than two batches of 20 already, so the rows added below do not also fill the first batch (a step of
    # about 50 kB, once, which a run under load had counted as growth).
    add_staff(oak, 40)
    csv_peak(oak, filters)  # warm: compiled regexes, cached labels
    (small, few), _again = sorted(csv_peak(oak, filters) for _ in range(2))  # the lower of two: less noise
    add_staff(oak, 160)
    (large, many), _again = sorted(csv_peak(oak, filters) for _ in range(2))
    holding, _rows = csv_peak(oak, filters, hold=True)
    assert few > 40 and many == few + 160
    # 160 more rows held cost about 110 kB here; streamed, the peak stays within a small part of that.
    assert large - small < (holding - small) / 8, (small, large, holding)


@pytest.mark.parametrize("spreadsheet", [False, True])
def test_a_download_abandoned_halfway_leaves_the_connection_usable(oak, spreadsheet):
    """A client that goes away closes the stream mid-copy (or mid-cursor); the next query on the connection works."""
    add_staff(oak, 30)
    filters = filter_variants(oak)["whole trust, every code"]
    rows = people_table(oak.admin, filters, school_map(filters), spreadsheet=spreadsheet).rows(chunk_size=2)
    chunks = table_csv_chunks(people_columns(), rows, batch=2)
    assert next(chunks).startswith("\ufeffName,") and next(chunks).count("\r\n") == 2
    chunks.close()
    assert Person.objects.filter(pk=oak.admin.pk).exists()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('cursor_tuple_fraction')")
            assert cursor.fetchone() == ("0.1",)  # the spreadsheet's planning setting was put back
