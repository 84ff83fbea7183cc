"""Report tables as files: CSV (streamed), XLSX (openpyxl) and the column definitions both use.

Every table has one list of ``Column`` objects: the header, what it means
(shown on the dashboard and in docs/reports.md), its spreadsheet width and how
to read the value from a row. CSV and XLSX are written from the same list, so
they always agree.

Cells are neutralised against formula injection: a text value starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
apostrophe, so a spreadsheet shows it as text and never runs it.
"""

from __future__ import annotations

import codecs
import csv
import io
import pickle
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any
from zipfile import ZIP_DEFLATED, ZipFile
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections
from django.db.models import CharField, DateTimeField, Expression, F, Func, Q, QuerySet, Value
from django.db.models.expressions import Case, When
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Substr
from django.db.models.lookups import In
from django.urls import NoReverseMatch, reverse

from acknowledgements.models import Obligation
from conduct.models import RoleKind, role_label
from reports.selectors import (
    ATTRIBUTED,
    NO_SCHOOL_LABEL,
    STATUSES,
    Counts,
    ReportFilters,
    Row,
    SchoolMap,
    TimelinePoint,
    people,
    signed_q,
    status_q,
)

FORMULA_TRIGGERS = frozenset(("=", "+", "-", "@", "\t", "\r"))
CSV_BATCH_ROWS = 500
CSV_BLOCK_CHARS = 64 * 1024  # a streamed CSV's chunks from COPY: about this many characters each
SITE_ZONE = ZoneInfo(settings.TIME_ZONE)  # fixed for exports: cheaper than asking Django per cell


def either(words: Sequence[str]) -> str:
    """Alternatives in a sentence: "Signed, Outstanding (not yet due) or Overdue"."""
    return " or ".join(filter(None, [", ".join(words[:-1]), *words[-1:]]))


STATUS_WORDS = either(list(STATUSES.values()))


def neutralise(value: Any) -> Any:
    """Make a text cell safe to open in a spreadsheet; other values pass through unchanged."""
    if value.__class__ is str and value[:1] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def local_iso(moment: datetime | None) -> str:
    """A time as ISO 8601 in Europe/London with its offset, e.g. 2026-10-05T14:03:22+01:00."""
    return moment.astimezone(SITE_ZONE).isoformat(timespec="seconds") if moment else ""


def local_naive(moment: datetime | None) -> datetime | None:
    """Spreadsheets have no time zones: London wall-clock time (the column header says so)."""
    return moment.astimezone(SITE_ZONE).replace(tzinfo=None) if moment else None


@dataclass(frozen=True)
class Column:
    header: str
    meaning: str
    width: int
    value: Callable[[Any], Any]  # for CSV (text, numbers) and XLSX alike
    xlsx_value: Callable[[Any], Any] | None = None  # when a spreadsheet wants a richer type (dates)

    def for_csv(self, row: Any) -> Any:
        value = self.value(row)
        kind = value.__class__
        if kind is str:
            return "'" + value if value[:1] in FORMULA_TRIGGERS else value
        if value is None:
            return ""
        if kind is date or kind is datetime:
            return value.isoformat()
        return value

    def for_xlsx(self, row: Any) -> Any:
        """The cell's value for a spreadsheet; a blank is no cell at all (openpyxl writes nothing for None, and an
        empty text element for "", which reads back as an empty cell: the same cell, written for nothing)."""
        value = neutralise((self.xlsx_value or self.value)(row))
        return None if value.__class__ is str and not value else value


def record_url_parts(*, absolute: bool = True) -> tuple[str, str] | None:
    """What comes before and after the id in a link to an acknowledgement record (None: no record page)."""
    marker = 987654321
    try:
        template = reverse("acknowledgements:record", args=[marker])
    except NoReverseMatch:  # the record page belongs to the signing app; without it there is nothing to link
        return None
    if absolute:
        template = settings.SITE_URL + template
    head, tail = template.split(str(marker), 1)
    return head, tail


def record_url_builder(*, absolute: bool = True) -> Callable[[int | None], str]:
    """Links to acknowledgement records, without a reverse() per row (exports have 100,000s)."""
    parts = record_url_parts(absolute=absolute)
    if parts is None:
        return lambda pk: ""
    head, tail = parts
    return lambda pk: f"{head}{pk}{tail}" if pk else ""


def _percent(counts: Counts) -> float | str:
    return "" if counts.percent is None else counts.percent


def count_columns(first: Column) -> list[Column]:
    return [
        first,
        Column(
            "Owe",
            "How many people owe a signature on the day (leavers and superseded versions excluded).",
            8,
            lambda r: _counts(r).owe,
        ),
        Column("Signed", "How many of them had signed by the end of the day.", 8, lambda r: _counts(r).signed),
        Column("Outstanding", "Not signed and not yet due.", 12, lambda r: _counts(r).outstanding),
        Column("Overdue", "Not signed and past the due date.", 9, lambda r: _counts(r).overdue),
        Column(
            "% signed",
            "Signed as a percentage of those who owe, to one decimal place (blank when no one owes).",
            10,
            lambda r: _percent(_counts(r)),
        ),
    ]


def _counts(row: Row | TimelinePoint) -> Counts:
    return row.counts


def people_columns(record_url: Callable[[int | None], str] | None = None) -> list[Column]:
    record_url = record_url or record_url_builder()
    return [
        Column("Name", "Full name as on record.", 28, lambda r: r.name),
        Column("Email", "Email address they sign in with.", 32, lambda r: r.email),
        Column(
            "School", 'The school the signature counts for (see "By school"), or "No school".', 28, lambda r: r.school
        ),
        Column(
            "Organisation",
            "Where the role it is owed for is held (school, board, trust or hub).",
            28,
            lambda r: r.organisation,
        ),
        Column("Role", "The role it is owed for.", 18, lambda r: r.role),
        Column("Code", "The code of conduct.", 30, lambda r: r.code),
        Column("Version", "The version owed.", 12, lambda r: r.version),
        Column(
            "Owed from", "The day they started to owe it (adoption, or the day they joined).", 12, lambda r: r.owed_from
        ),
        Column("Due on", "The day it is due.", 12, lambda r: r.due_on),
        Column(
            "Status",
            f"{STATUS_WORDS}, as at the report's day.",
            24,
            lambda r: r.status_label,
        ),
        Column(
            "Signed at (Europe/London)",
            "When they signed, London time (ISO 8601 with its UTC offset in CSV); "
            "blank if not signed by the report's day.",
            22,
            lambda r: local_iso(r.signed_at),
            xlsx_value=lambda r: local_naive(r.signed_at),
        ),
        Column(
            "Recorded on behalf",
            "Yes when a clerk or admin recorded a paper signature for them.",
            10,
            lambda r: "Yes" if r.on_behalf else ("No" if r.signed_at else ""),
        ),
        Column(
            "Verification code",
            "The code printed on the signed PDF; anyone can check it on the verification page.",
            22,
            lambda r: r.verification_code,
        ),
        Column("Record", "Link to the signed record (sign-in needed).", 40, lambda r: record_url(r.acknowledgement_id)),
    ]


TABLES: dict[str, tuple[str, Callable[[], list[Column]]]] = {
    "schools": (
        "By school",
        lambda: count_columns(Column("School", "The school (or 'No school').", 32, lambda r: r.label)),
    ),
    "roles": (
        "By role",
        lambda: count_columns(Column("Role", "The role the signature is owed for.", 24, lambda r: r.label)),
    ),
    "timeline": (
        "Over time",
        lambda: count_columns(Column("Date", "The day the numbers are as at.", 12, lambda r: r.day)),
    ),
    "people": ("People", people_columns),
}


def column_docs() -> dict[str, list[tuple[str, str]]]:
    """Header and meaning of every column of every table (for the page and docs/reports.md)."""
    return {title: [(column.header, column.meaning) for column in factory()] for title, factory in TABLES.values()}


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def csv_header(columns: Sequence[Column]) -> str:
    """A CSV's first chunk: a byte-order mark, so spreadsheet programs read UTF-8 names correctly, and the header."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([column.header for column in columns])
    return "\ufeff" + buffer.getvalue()


def csv_chunks(columns: Sequence[Column], rows: Iterable[Any], batch: int = CSV_BATCH_ROWS) -> Iterator[str]:
    """The CSV as text chunks of ``batch`` rows: what a StreamingHttpResponse sends.

    Starts with a byte-order mark so spreadsheet programs read UTF-8 names correctly.
    Memory stays flat: only one batch of rows exists at a time.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    yield csv_header(columns)
    pending = 0
    cells = [column.for_csv for column in columns]
    for row in rows:
        writer.writerow([cell(row) for cell in cells])
        pending += 1
        if pending == batch:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


# ---------------------------------------------------------------------------
# The people table in SQL: the cells come out of the database ready to write
# ---------------------------------------------------------------------------
#
# ``people_columns`` says what each cell is, row by row in Python (``PersonRow``). At 100,000s of rows that
# is most of an export's time, so the CSV and the spreadsheet read the same cells from one query instead:
# text already formatted, statuses and role names from the same Python definitions as CASE expressions,
# formula triggers escaped. reports/tests/test_exports_sql.py checks both give the same cells.

SIGNED_AT = 10  # the position of "Signed at" in ``people_columns``


class SimpleCase(Expression):
    """``CASE subject WHEN key THEN value … ELSE default END``: the subject evaluated once (it may be a subquery)."""

    def __init__(self, subject: Any, mapping: Mapping[Any, str], default: Any) -> None:
        super().__init__(output_field=CharField())
        self.subject = subject
        self.mapping = dict(mapping)
        self.default = default

    def get_source_expressions(self) -> list[Any]:
        return [self.subject, self.default]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.subject, self.default = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        subject, subject_params = compiler.compile(self.subject)
        default, default_params = compiler.compile(self.default)
        if not self.mapping:
            return default, tuple(default_params)
        whens = " ".join("WHEN %s THEN %s" for _ in self.mapping)
        pairs = [item for pair in self.mapping.items() for item in pair]
        return f"CASE {subject} {whens} ELSE {default} END", (*subject_params, *pairs, *default_params)


class IsoDate(Func):
    """A date as text, 2026-09-01 (SQLite already stores it so)."""

    template = "%(expressions)s"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        return self.as_sql(compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM-DD')", **extra)


class LocalTime(Func):
    """PostgreSQL: a moment as London wall-clock time (what ``local_naive`` gives, microseconds and all)."""

    output_field = DateTimeField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) AT TIME ZONE %s)", (*params, settings.TIME_ZONE)


class LocalIso(Func):
    """PostgreSQL: a moment as ``local_iso`` writes it, 2026-10-05T14:03:22+01:00 (seconds cut, not rounded).

    The session's time zone stays UTC: Django reads every timestamp back as if it were (a changed one would shift
    the times read after it in the same transaction), so the offset is London time less UTC time.
    """

    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        local, local_params = f"(({sql}) AT TIME ZONE %s)", (*params, settings.TIME_ZONE)
        offset = f"to_char({local} - (({sql}) AT TIME ZONE 'UTC'), 'HH24:MI')"  # 01:00, or -05:00 west of UTC
        text = f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || replace('+' || {offset}, '+-', '-')"
        return text, (*local_params, *local_params, *params)


@contextmanager
def _copied_out(queryset: QuerySet, options: str = "") -> Iterator[Any]:
    """PostgreSQL: ``COPY (the query) TO STDOUT`` with ``options``, logged as Django logs its own queries (so query
    counts, and tests, see it). A reader that stops early (a download abandoned) leaves the rest read, so the copy
    ends as usual: psycopg would cancel it instead, which aborts any transaction around it."""
    sql, params = queryset.query.sql_with_params()
    connection = connections[queryset.db]
    statement = f"COPY ({sql}) TO STDOUT{options}"
    if connection.queries_logged:
        connection.queries_log.append({"sql": statement, "time": "0.000"})
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        try:
            yield copy
        finally:
            for _block in copy:
                pass


def copied_rows(queryset: QuerySet, columns: int) -> Iterator[tuple]:
    """PostgreSQL: the rows of a query of ``columns`` text cells, through COPY (NULL as None)."""
    with _copied_out(queryset) as copy:
        copy.set_types(["text"] * columns)
        yield from copy.rows()


def copied_csv(queryset: QuerySet, block_chars: int = CSV_BLOCK_CHARS) -> Generator[str, None, None]:
    """PostgreSQL: the rows of a query of text cells as CSV, written by ``COPY … TO STDOUT (FORMAT csv)`` itself, in
    blocks of about ``block_chars`` characters (flat memory).

    What ``csv.writer`` (``table_csv_chunks``) writes for the same cells, byte for byte: PostgreSQL quotes a cell
    holding a comma, a quote or a line break and doubles its quotes, as ``csv.writer``'s minimal quoting does; a
    null is written empty, as ``csv.writer`` writes None (the cells are ``NULLIF(…, '')``, since PostgreSQL writes a
    non-null empty cell as ``""``); and each row's end, a ``\\n`` from PostgreSQL, becomes ``\\r\\n`` (``_crlf``).
    Without a tuple built and written again for each row, the export costs about what the COPY does.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    quoted, pending, size = False, [], 0
    with _copied_out(queryset, " (FORMAT csv)") as copy:
        for data in copy:
            text, quoted = _crlf(decoder.decode(data), quoted)
            pending.append(text)
            size += len(text)
            if size >= block_chars:
                yield "".join(pending)
                pending, size = [], 0
        pending.append(decoder.decode(b"", final=True))  # nothing: PostgreSQL sends whole characters
        if rest := "".join(pending):
            yield rest


def _crlf(text: str, quoted: bool) -> tuple[str, bool]:
    """``text`` of PostgreSQL's CSV with each row's ``\\n`` made ``\\r\\n``, and whether it ends inside a quoted
    cell (``quoted``: whether it starts in one). A line break inside a quoted cell is the cell's own and is kept
    as it is, as ``csv.writer`` keeps it: the quotes split the text into stretches outside and inside cells in
    turn (a doubled quote inside a cell leaves an empty stretch "outside" between its two halves)."""
    if '"' not in text:
        return (text if quoted else text.replace("\n", "\r\n")), quoted
    parts = text.split('"')
    for index in range(1 if quoted else 0, len(parts), 2):
        parts[index] = parts[index].replace("\n", "\r\n")
    return '"'.join(parts), quoted != (len(parts) % 2 == 0)


@contextmanager
def planned_for_every_row(using: str) -> Iterator[None]:
    """Plan a server-side cursor's query for every row rather than for the first tenth (the default: a plan that
    avoids sorting and is slower in total), for this connection until the block ends."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_setting('cursor_tuple_fraction')")
        (before,) = cursor.fetchone()
        cursor.execute("SELECT set_config('cursor_tuple_fraction', '1.0', false)")
    try:
        yield
    finally:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT set_config('cursor_tuple_fraction', %s, false)", [before])


def escaped(expression: Any) -> Case:
    """``neutralise`` in SQL: a leading apostrophe before a formula trigger. Only for text a user typed (names,
    titles): the other cells are words of ours, dates, generated codes and links."""
    return Case(
        When(In(Substr(expression, 1, 1), sorted(FORMULA_TRIGGERS)), then=Concat(Value("'"), expression)),
        default=expression,
        output_field=CharField(),
    )


@dataclass(frozen=True)
class PeopleTable:
    """The people table's cells for one export: the query, and any cell the database could not format."""

    queryset: QuerySet
    columns: int
    spreadsheet: bool  # dates and times as values, or as text (CSV)
    in_python: tuple[tuple[int, Callable[[Any], Any]], ...] = ()  # SQLite: (position, how to finish the cell)

    @property
    def in_sql(self) -> bool:
        return not self.in_python

    def rows(self, chunk_size: int = 2000) -> Iterator[tuple]:
        """Every row as a tuple of cells, streamed (flat memory).

        CSV on PostgreSQL: through ``COPY … TO STDOUT``, which sends rows while Python writes the ones before
        (a cursor's server waits for each FETCH), every cell text. The spreadsheet reports progress between rows,
        which a connection busy copying cannot do, so it reads from a server-side cursor (as SQLite does).
        """
        if self.in_sql and not self.spreadsheet:
            yield from copied_rows(self.queryset, self.columns)
            return
        rows = self.queryset.iterator(chunk_size=chunk_size)
        if not self.in_sql:
            yield from map(self._finish, rows)
            return
        with planned_for_every_row(self.queryset.db):
            yield from rows

    def csv_text(self) -> Generator[str, None, None] | None:
        """The rows as CSV text written by PostgreSQL (``copied_csv``), for the CSV on PostgreSQL; else None (the
        rows are written by ``table_csv_chunks``)."""
        if self.in_sql and not self.spreadsheet:
            return copied_csv(self.queryset)
        return None

    def _finish(self, row: tuple) -> tuple:
        cells = list(row)
        for position, finish in self.in_python:
            cells[position] = finish(cells[position])
        return tuple(cells)


def people_table(user, filters: ReportFilters, schools: SchoolMap, *, spreadsheet: bool = False) -> PeopleTable:
    """``people_columns`` of ``reports.selectors.people`` as one query: text for CSV, or with dates and times as
    spreadsheet values (London wall-clock time) when ``spreadsheet``. Same rows, order and permission scope."""
    in_sql = connections[Obligation.objects.db].vendor == "postgresql"
    signed = signed_q(filters.as_at)
    moment = Case(When(signed, then=F("acknowledged_at")), default=None, output_field=DateTimeField())
    owed_from: Expression
    due_on: Expression
    finish: Callable[[datetime | None], Any]
    if spreadsheet:
        owed_from, due_on = F("owed_from"), F("due_on")  # type: ignore[assignment]  # F resolves like one
        local = Case(When(signed, then=LocalTime("acknowledged_at")), default=None, output_field=DateTimeField())
        finish = local_naive
    else:
        owed_from, due_on = IsoDate("owed_from"), IsoDate("due_on")
        local = Case(When(signed, then=LocalIso("acknowledged_at")), default=Value(""), output_field=CharField())
        finish = local_iso
    signed_at = local if in_sql else moment  # SQLite has no time zones: Python finishes that cell
    blank = Value(None, output_field=CharField()) if spreadsheet else Value("")  # as ``Column.for_xlsx`` gives
    cells: list[Any] = [
        escaped(F("person__full_name")),
        escaped(F("person__email")),
        school_label(schools),
        escaped(F("organisation__name")),
        SimpleCase(F("role__kind"), {kind.value: role_label(kind.value) for kind in RoleKind}, F("role__kind")),
        escaped(F("code__title")),
        escaped(F("version__label")),
        owed_from,
        due_on,
        status_words(filters),
        signed_at,
        Case(
            When(signed & Q(ack__recorded_by__isnull=False), then=Value("Yes")),
            When(signed, then=Value("No")),
            default=blank,
        ),
        Case(When(signed, then=Coalesce(F("ack__verification_code"), blank)), default=blank),
        record_link(signed, blank),
    ]
    if in_sql and not spreadsheet:  # every cell text: empty ones null, as ``copied_csv`` needs (None reads as "")
        cells = [NullIf(cell, Value("")) for cell in cells]
    queryset = people(user, filters, schools).values_list(*cells)
    return PeopleTable(queryset, len(cells), spreadsheet, () if in_sql else ((SIGNED_AT, finish),))


def school_label(schools: SchoolMap) -> SimpleCase:
    """``SchoolMap.label(SchoolMap.school_of(…))``, from the organisation or (in a network) the attributed one."""
    subject = F(ATTRIBUTED) if schools.network else F("organisation_id")
    labels = {org_id: neutralise(schools.label(school_id)) for org_id, school_id in schools.of_org.items() if school_id}
    return SimpleCase(subject, labels, Value(NO_SCHOOL_LABEL))


def status_words(filters: ReportFilters) -> Case:
    """``PersonRow.status_label``: the words of ``STATUSES`` on the conditions ``status_q`` gives them."""
    whens = [When(status_q(status, filters.as_at), then=Value(words)) for status, words in STATUSES.items()]
    return Case(*whens, default=Value(""), output_field=CharField())


def record_link(signed: Q, blank: Value) -> Expression:
    parts = record_url_parts()
    if parts is None:
        return blank
    head, tail = parts
    link = Concat(Value(head), Cast("ack__id", CharField()), Value(tail), output_field=CharField())
    return Case(When(signed & Q(ack__id__isnull=False), then=link), default=blank, output_field=CharField())


def table_csv_chunks(
    columns: Sequence[Column], rows: Iterator[tuple], batch: int = CSV_BATCH_ROWS
) -> Generator[str, None, None]:
    """``csv_chunks`` for rows that are already the cells: ``csv.writer`` writes each batch in one call."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    yield csv_header(columns)
    try:
        while chunk := list(islice(rows, batch)):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(chunk)
            yield buffer.getvalue()
    finally:  # a download abandoned: the rows end now (the connection's copy or cursor with them), not when collected
        if isinstance(rows, Generator):
            rows.close()


def people_csv_chunks(user, filters: ReportFilters, schools: SchoolMap) -> Generator[str, None, None]:
    """The people CSV, streamed: its rows written by PostgreSQL's COPY where it can (``copied_csv``), else by
    ``csv.writer``; the same bytes either way."""
    table = people_table(user, filters, schools)
    text = table.csv_text()
    if text is None:
        return table_csv_chunks(people_columns(), table.rows())
    return _with_header(people_columns(), text)


def _with_header(columns: Sequence[Column], text: Generator[str, None, None]) -> Generator[str, None, None]:
    """``csv_header``, then ``text``; closing this closes ``text`` (a download abandoned ends the copy at once)."""
    try:
        yield csv_header(columns)
        yield from text
    finally:
        text.close()


def people_sheet(
    user,
    filters: ReportFilters,
    schools: SchoolMap,
    progress: Callable[[int], None] | None = None,
    every: int = 1000,
    helpers: int = 0,
) -> Sheet:
    """The people list as a workbook's sheet; ``progress`` is told how many rows were read, every ``every`` rows;
    ``helpers`` processes write them (``xlsx_helpers``)."""
    rows = people_table(user, filters, schools, spreadsheet=True).rows()
    counted = rows if progress is None else _counted(rows, progress, every)
    return Sheet("People", people_columns(), counted, cells=True, helpers=helpers)


def _counted(rows: Iterator[tuple], progress: Callable[[int], None], every: int) -> Iterator[tuple]:
    done = 0
    while chunk := list(islice(rows, every)):
        yield from chunk
        done += len(chunk)
        progress(done)


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------


XLSX_HELPERS = 2  # processes writing a long sheet's rows beside the one reading them (2 CPUs here)
# Below this, starting them (about 0.2 s) costs more than they save: constant rows of the people sheet's types
# took 0.17 s in this process and 0.34 s by the helpers at 10,000 rows, 0.38 s either way at 20,000, 1.97 s and
# 1.45 s at 142,000 (3 December); the whole trust's job 4.7–5.0 s in this process, 4.2–4.3 s with helpers.
XLSX_HELPERS_FROM_ROWS = 20_000
XLSX_HELPER_BATCH = 2000  # rows written at a time (sent to a helper): a few MB in flight at most
XLSX_COMPRESSION = 1  # zlib level: a 115 MB sheet takes 0.4 CPU-seconds instead of 1.1 (level 6), 18% larger


def xlsx_helpers(rows: int) -> int:
    """How many helper processes should write a sheet of ``rows`` rows (0: this process writes it)."""
    return XLSX_HELPERS if rows >= XLSX_HELPERS_FROM_ROWS else 0


@dataclass
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Iterable[Any]
    cells: bool = False  # the rows are already the cells' values, in column order (``PeopleTable.rows``)
    helpers: int = 0  # processes writing the rows (``reports.xlsx_rows``); only for rows that are cells
    # Rows that are cells are written by ``reports.xlsx_rows.RowWriter`` (in this process, or in the helpers);
    # this sends each through openpyxl's own ``append`` instead: the reference tests and benchmarks compare with.
    by_openpyxl: bool = False

    def values(self) -> Iterable[Sequence[Any]]:
        if self.cells:
            return self.rows
        return ([column.for_xlsx(row) for column in self.columns] for row in self.rows)


def xlsx_file(sheets: Sequence[Sheet]) -> tempfile.SpooledTemporaryFile:
    """A workbook with a bold, frozen header row and set column widths, in a temporary file.

    Written in openpyxl's write-only mode, so rows stream from the iterable to
    disk rather than building the whole sheet in memory. A sheet whose rows are
    cells has them written in openpyxl's bytes by ``reports.xlsx_rows.RowWriter``
    (by ``helpers`` processes, or by this one), straight into the workbook's ZIP
    as they come.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    from reports.xlsx_rows import header_cells, styles_registered

    workbook = Workbook(write_only=True)
    handle = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - the caller closes it
    try:
        with SheetArchive(handle) as archive:
            for number, sheet in enumerate(sheets, start=1):
                worksheet = workbook.create_sheet(title=sheet.title[:31])
                worksheet.freeze_panes = "A2"
                for index, column in enumerate(sheet.columns, start=1):
                    worksheet.column_dimensions[get_column_letter(index)].width = column.width
                headers = [column.header for column in sheet.columns]
                styles = styles_registered(worksheet, headers)  # the helpers number their styles the same way
                worksheet.append(header_cells(worksheet, headers))
                if sheet.cells and not sheet.by_openpyxl:
                    # the name openpyxl gives the n-th sheet's part as it saves (its ``_id`` is its position)
                    stream = archive.sheet_stream(f"xl/worksheets/sheet{number}.xml")
                    rows_streamed(worksheet, headers, styles, iter(sheet.rows), sheet.helpers, stream)
                else:
                    for values in sheet.values():
                        worksheet.append(values)
            workbook.properties.modified = datetime.now(tz=UTC).replace(tzinfo=None)  # as openpyxl's save does
            ExcelWriter(workbook, archive).write_data()
    except BaseException:
        sheet_files_remove(workbook)
        handle.close()
        raise
    handle.seek(0)
    return handle


class SheetArchive(ZipFile):
    """A workbook's ZIP, deflated at ``XLSX_COMPRESSION`` (openpyxl's save always uses zlib's default, 6), into
    which a long sheet is written while its rows come; openpyxl's own file of that sheet (its header row alone)
    is then left out as openpyxl adds the sheets."""

    def __init__(self, handle: IO[bytes]) -> None:
        super().__init__(handle, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=XLSX_COMPRESSION)
        self.streamed: set[str] = set()

    def sheet_stream(self, name: str) -> IO[bytes]:
        self.streamed.add(name)
        return self.open(name, "w")

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        if arcname not in self.streamed:
            super().write(filename, arcname, *args, **kwargs)


def sheet_files_remove(workbook: Any) -> None:
    """The sheets' XML files a failed workbook leaves (openpyxl removes them only as it saves, or at exit)."""
    for worksheet in workbook.worksheets:
        writer = worksheet._writer
        if writer is not None and Path(writer.out).exists():
            writer.cleanup()


def rows_streamed(
    worksheet: Any, headers: list[str], styles: Any, rows: Iterator[Sequence[Any]], helpers: int, out: IO[bytes]
) -> None:
    """The sheet's rows, in order after its header row, into ``out``: written by ``helpers`` helper processes, or
    by this process if none (``reports.xlsx_rows.RowWriter`` either way).

    openpyxl first writes the sheet with its header alone (its head, the header row and its tail); ``out`` gets
    that head, the rows as they are written (deflated meanwhile, while any helpers work), then the tail.
    """
    from reports.xlsx_rows import RowWriter

    worksheet.close()
    head, tail = sheet_data_split(Path(worksheet._writer.out).read_bytes())
    batches = numbered_batches(rows, XLSX_HELPER_BATCH, first=2)
    with out:
        out.write(head)
        if helpers:
            with RowHelpers(helpers, headers, styles) as writers:
                for xml in writers.written(batches):
                    out.write(xml)
        else:
            writer = RowWriter(headers)
            if writer.styles != styles:
                raise RuntimeError("The row writer numbers its styles differently from this workbook.")
            for first, batch in batches:
                out.write(writer.rows_xml(first, batch))
        out.write(tail)


def sheet_data_split(xml: bytes) -> tuple[bytes, bytes]:
    """A sheet's XML before and from its ``</sheetData>`` (there is one: it holds the header row)."""
    end = b"</sheetData>"
    if xml.count(end) != 1:
        raise ValueError("The sheet's XML does not have exactly one end of its rows.")
    head, tail = xml.split(end)
    return head, end + tail


def numbered_batches(rows: Iterator[Sequence[Any]], size: int, *, first: int) -> Iterator[tuple[int, list]]:
    """``(row number of the first, rows)`` for consecutive batches of ``size`` rows."""
    number = first
    while chunk := list(islice(rows, size)):
        yield number, chunk
        number += len(chunk)


class RowHelpers:
    """Helper processes (``python -m reports.xlsx_rows``), each given a batch at a time, answered in order.

    A batch goes only to a helper that has answered its last one, and the next batch is read before waiting for
    an answer, so a helper never waits on its pipe for the parent, and the parent reads the next rows from the
    database while they write. They start while the first batch is read (about 0.2 s each).
    """

    def __init__(self, count: int, headers: list[str], styles: Any) -> None:
        self.styles = styles
        self.processes: list[subprocess.Popen] = []
        try:
            for _ in range(count):
                process = subprocess.Popen(
                    [sys.executable, "-m", "reports.xlsx_rows"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    cwd=settings.BASE_DIR,
                )
                self.processes.append(process)
                self._send(process, headers)
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> RowHelpers:
        return self

    def __exit__(self, kind: Any, *_exc: Any) -> None:
        if kind is None:
            self.finish()
        else:
            self.stop()

    def written(self, batches: Iterable[tuple[int, list]]) -> Iterator[bytes]:
        """The XML of every batch, in the batches' order."""
        idle: deque[subprocess.Popen] = deque()
        busy: deque[subprocess.Popen] = deque()
        for batch in batches:
            if not idle and not busy:  # the first batch is read: the helpers have started meanwhile
                self._check_styles()
                idle.extend(self.processes)
            if idle:
                process = idle.popleft()
                self._send(process, batch)
                busy.append(process)
                continue
            process = busy.popleft()
            xml = self._answer(process)
            self._send(process, batch)  # before the caller writes the XML, so this helper starts at once
            busy.append(process)
            yield xml
        while busy:
            yield self._answer(busy.popleft())

    def _check_styles(self) -> None:
        for process in self.processes:
            if self._answer(process) != self.styles:
                raise RuntimeError("A spreadsheet helper numbers its styles differently from this workbook.")

    @staticmethod
    def _send(process: subprocess.Popen, message: Any) -> None:
        assert process.stdin is not None
        pickle.dump(message, process.stdin, pickle.HIGHEST_PROTOCOL)
        process.stdin.flush()

    @staticmethod
    def _answer(process: subprocess.Popen) -> Any:
        assert process.stdout is not None
        try:
            ok, payload = pickle.load(process.stdout)
        except EOFError:
            raise RuntimeError(f"A spreadsheet helper ended (exit code {process.wait()}).") from None
        if not ok:
            raise RuntimeError(f"A spreadsheet helper failed: {payload}")
        return payload

    def finish(self) -> None:
        """Every batch answered: tell the helpers to end, and wait for them."""
        for process in self.processes:
            self._send(process, None)
        for process in self.processes:
            process.stdin.close()  # type: ignore[union-attr]
            process.stdout.close()  # type: ignore[union-attr]
            process.wait()

    def stop(self) -> None:
        """An error (the job lost, a failed helper): end them now, whatever they were doing."""
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


# ---------------------------------------------------------------------------
# The register of interests: one row per declared interest (or one for the person if none)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterRow:
    body: str
    entry: Any  # reports.register.Entry
    interest: Any  # reports.register.InterestEntry | None


REGISTER_COLUMNS = [
    Column("Body", "The trust's members, the trust board or a local governing board.", 34, lambda r: r.body),
    Column("Full name", "As on record.", 26, lambda r: r.entry.full_name),
    Column(
        "Category",
        "Appointed, parent, staff, co-opted, foundation, ex officio or member.",
        14,
        lambda r: r.entry.category,
    ),
    Column("Appointed by", "The body that appointed them.", 26, lambda r: r.entry.appointed_by),
    Column(
        "Date of appointment",
        "The start of their first governance role on this body.",
        14,
        lambda r: r.entry.appointed_on,
    ),
    Column(
        "Term of office ends",
        "When the current term ends (blank if no fixed term is recorded).",
        14,
        lambda r: r.entry.term_ends_on,
    ),
    Column("Date stepped down", "Blank while they still serve.", 14, lambda r: r.entry.stepped_down_on),
    Column(
        "Role on the board", "Chair, vice-chair, trustee, local governor, member …", 20, lambda r: r.entry.role_on_board
    ),
    Column(
        "Meetings attended",
        "Board meetings of the last academic year (1 September–31 August) they were present at.",
        10,
        lambda r: r.entry.meetings_attended if r.entry.meetings_held else "",
    ),
    Column("Meetings held", "Board meetings held in that year while they served.", 10, lambda r: r.entry.meetings_held),
    Column(
        "Declaration",
        "'Nothing to declare' with its date, the date of their declaration, or 'No declaration recorded'.",
        30,
        lambda r: r.entry.declaration_summary,
    ),
    Column(
        "Business or body",
        "Name of the business or body they have an interest in.",
        26,
        lambda r: r.interest.business if r.interest else "",
    ),
    Column(
        "Nature of business or body",
        "What kind of interest it is (business or financial, other governance role, close relationship …).",
        24,
        lambda r: r.interest.business_nature if r.interest else "",
    ),
    Column(
        "Nature of interest", "The nature of their interest.", 30, lambda r: r.interest.nature if r.interest else ""
    ),
    Column("Interest start date", "When the interest began.", 14, lambda r: r.interest.starts_on if r.interest else ""),
    Column(
        "Interest end date",
        "When it ended, if it has (interests that ended over 12 months ago are not listed).",
        14,
        lambda r: r.interest.ends_on if r.interest else "",
    ),
]


def register_rows(register) -> Iterator[RegisterRow]:
    for body in register.bodies:
        body_name = body_label(body.organisation)
        for entry in body.entries:
            if not entry.interests:
                yield RegisterRow(body_name, entry, None)
            for interest in entry.interests:
                yield RegisterRow(body_name, entry, interest)


def body_label(organisation) -> str:
    """A trust's own governance roles are its members; a board is named as itself."""
    return f"Members of {organisation.name}" if organisation.kind in ("trust", "network") else organisation.name
