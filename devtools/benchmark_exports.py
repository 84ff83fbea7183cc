"""The whole trust's people list as CSV and XLSX, each beside its floor measured in the same run.

- CSV: the streamed export (``reports.exports.people_csv_chunks``, encoded as the response sends it) against
  PostgreSQL's ``COPY … TO STDOUT (FORMAT csv)`` of the same query, interleaved, medians;
- memory: the peak of Python's allocations (tracemalloc) while streaming the whole trust and one academy;
- XLSX: the background job as a worker runs it (``reports.builders.job_run``, its rows written by helper
  processes, ``reports.xlsx_rows``), beside the same workbook written by this process alone with openpyxl's own
  row writer (what the job did before), the time to read the rows alone, and the floors of both writers: a
  write-only workbook of as many rows of constant cells of the same types, written by openpyxl in this process,
  and by the helpers.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from django.db import connections
from django.utils import timezone

from conduct.models import Organisation, OrganisationKind, Person
from reports.exports import (
    XLSX_HELPERS,
    people_columns,
    people_csv_chunks,
    people_sheet,
    people_table,
    xlsx_file,
)
from reports.selectors import ReportFilters, school_map

START, END = "<!-- exports-benchmark:start -->", "<!-- exports-benchmark:end -->"
TARGET_CSV_RATIO = 2.0
TARGET_XLSX_S = 10.0


class NoScaleData(Exception):
    pass


T = TypeVar("T")


@dataclass(frozen=True)
class Run:
    """One timed run: seconds, and CPU seconds used meanwhile by this process and its helpers (``ours``) and by
    everything else on the machine (``others``: other people's work, and PostgreSQL's for our query)."""

    wall: float
    ours: float
    others: float

    def __str__(self) -> str:
        return f"{self.wall:.2f} (CPU: ours {self.ours:.1f} s, others {self.others:.1f} s)"


def own_cpu() -> float:
    times = os.times()  # children: the helper processes, once waited for
    return times.user + times.system + times.children_user + times.children_system


def machine_busy() -> float:
    """CPU seconds every CPU of the machine has been busy since it started (Linux's /proc/stat; 0 elsewhere)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:9]]
    except OSError:
        return 0.0
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle and waiting for I/O


def measured(work: Callable[[], T]) -> tuple[T, Run]:
    busy, ours, started = machine_busy(), own_cpu(), time.perf_counter()
    result = work()
    wall, ours = time.perf_counter() - started, own_cpu() - ours
    return result, Run(wall, ours, max(0.0, machine_busy() - busy - ours))


@dataclass
class Figures:
    rows: int = 0
    csv_s: list[float] = field(default_factory=list)
    copy_s: list[float] = field(default_factory=list)
    csv_mb: float = 0.0
    peak_mb: float = 0.0
    small_peak_mb: float = 0.0
    small_rows: int = 0
    xlsx_runs: list[Run] = field(default_factory=list)  # the job, interleaved with the one-process workbook
    xlsx_rows: int = 0
    one_process_runs: list[Run] = field(default_factory=list)
    xlsx_read_s: float = 0.0
    openpyxl_floor_s: float = 0.0
    openpyxl_helpers_floor_s: float = 0.0
    xlsxwriter_floor_s: float | None = None  # only where XlsxWriter can be imported (not a dependency)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def xlsx_s(self) -> float:
        return statistics.median(run.wall for run in self.xlsx_runs)

    @property
    def xlsx_one_process_s(self) -> float:
        return statistics.median(run.wall for run in self.one_process_runs)

    @property
    def ratio(self) -> float:
        return statistics.median(self.csv_s) / statistics.median(self.copy_s)


@dataclass
class Benchmark:
    prefix: str
    runs: int
    xlsx_runs: int = 1

    def __post_init__(self) -> None:
        try:
            self.trust = Organisation.objects.get(slug=f"{self.prefix}-trust-0")
            self.admin = Person.objects.get(email=f"admin@{self.prefix}.example")
        except (Organisation.DoesNotExist, Person.DoesNotExist) as error:
            raise NoScaleData(f"No data from generate_scale_data --prefix {self.prefix} here.") from error
        academy = Organisation.objects.filter(parent=self.trust, kind=OrganisationKind.SCHOOL).order_by("pk").first()
        if academy is None:
            raise NoScaleData("The generated trust has no academy.")
        self.academy = academy

    def filters(self, organisation: Organisation) -> ReportFilters:
        return ReportFilters(organisation=organisation, as_at=timezone.localdate())

    def run(self, say: Callable[[str], None]) -> Figures:
        figures = Figures(load_before=os.getloadavg())
        say(f"CSV against COPY, {self.runs} interleaved runs")
        for _ in range(self.runs):
            started = time.perf_counter()
            figures.rows, size = self.csv(self.trust)
            figures.csv_s.append(time.perf_counter() - started)
            figures.csv_mb = size / 1_048_576
            started = time.perf_counter()
            self.copy()
            figures.copy_s.append(time.perf_counter() - started)
        say("peak memory, whole trust and one academy")
        figures.peak_mb, _rows = self.peak(self.trust)
        figures.small_peak_mb, figures.small_rows = self.peak(self.academy)
        say(f"XLSX: the job, and the same workbook written by this process alone, {self.xlsx_runs} interleaved runs")
        for _ in range(self.xlsx_runs):
            figures.xlsx_rows, run = measured(self.xlsx_job)
            figures.xlsx_runs.append(run)
            _none, run = measured(self.xlsx_one_process)
            figures.one_process_runs.append(run)
        say("XLSX floor: the rows alone, and constant rows written by openpyxl alone, then by the helpers")
        figures.xlsx_read_s = self.read_spreadsheet_rows()
        figures.openpyxl_floor_s = openpyxl_floor(figures.xlsx_rows)
        figures.openpyxl_helpers_floor_s = openpyxl_floor(figures.xlsx_rows, helpers=XLSX_HELPERS)
        figures.xlsxwriter_floor_s = xlsxwriter_floor(figures.xlsx_rows)
        figures.load_after = os.getloadavg()
        return figures

    def csv(self, organisation: Organisation) -> tuple[int, int]:
        """Rows and bytes of the export, encoded as StreamingHttpResponse encodes each chunk."""
        filters = self.filters(organisation)
        size = lines = 0
        for chunk in people_csv_chunks(self.admin, filters, school_map(filters)):
            size += len(chunk.encode())
            lines += chunk.count("\r\n")
        return lines - 1, size

    def copy(self) -> int:
        filters = self.filters(self.trust)
        queryset = people_table(self.admin, filters, school_map(filters)).queryset
        sql, params = queryset.query.sql_with_params()
        size = 0
        with (
            connections[queryset.db].cursor() as cursor,
            cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", params) as stream,
        ):
            for data in stream:
                size += len(data)
        return size

    def peak(self, organisation: Organisation) -> tuple[float, int]:
        tracemalloc.start()
        try:
            rows, _size = self.csv(organisation)
            return tracemalloc.get_traced_memory()[1] / 1_048_576, rows
        finally:
            tracemalloc.stop()

    def xlsx_job(self) -> int:
        from reports.builders import job_run
        from reports.jobs import job_request
        from reports.models import JobKind, ReportJob

        filters = self.filters(self.trust)
        job, _created = job_request(user=self.admin, kind=JobKind.SPREADSHEET, filters=filters, enqueue=False)
        finished = job_run(job.pk)
        if finished is None or not finished.file.name:
            raise RuntimeError("The spreadsheet job did not finish.")
        finished.file.storage.delete(finished.file.name)
        ReportJob.objects.filter(pk=finished.pk).delete()
        return int(finished.summary.get("rows", 0))

    def xlsx_one_process(self) -> None:
        filters = self.filters(self.trust)
        sheet = people_sheet(self.admin, filters, school_map(filters))
        sheet.by_openpyxl = True
        with xlsx_file([sheet]):
            pass

    def read_spreadsheet_rows(self) -> float:
        filters = self.filters(self.trust)
        started = time.perf_counter()
        for _values in people_sheet(self.admin, filters, school_map(filters)).values():
            pass
        return time.perf_counter() - started


def constant_rows(count: int) -> Iterator[tuple]:
    """Cells of the people sheet's types (text, two dates, a time), the same for every row."""
    row = (
        "Aisha Ahmed",
        "p001336@scale.example",
        "Scale Academy 16",
        "Scale Academy 16",
        "Employee",
        "Scale Trust Staff Code of Conduct",
        "2026-2027",
        dt.date(2026, 9, 17),
        dt.date(2026, 10, 17),
        "Signed",
        dt.datetime(2026, 10, 2, 11, 7),
        "No",
        "AUMN-3QJE-JWD8-EM6B",
        "http://127.0.0.1:8000/records/117559/",
    )
    for _ in range(count):
        yield row


def openpyxl_floor(rows: int, helpers: int = 0) -> float:
    """The same workbook code (header, widths) writing ``rows`` constant rows: by openpyxl alone in this process,
    or by ``helpers`` helper processes (``reports.xlsx_rows``)."""
    from reports.exports import Sheet

    started = time.perf_counter()
    sheet = Sheet("People", people_columns(), constant_rows(rows), cells=True, helpers=helpers, by_openpyxl=not helpers)
    with xlsx_file([sheet]):
        pass
    return time.perf_counter() - started


def xlsxwriter_floor(rows: int) -> float | None:
    """The same constant rows through XlsxWriter's constant_memory mode, for comparison, if it is importable."""
    try:
        import xlsxwriter  # type: ignore[import-not-found]  # not a dependency: only for this comparison
    except ImportError:
        return None
    started = time.perf_counter()
    with tempfile.TemporaryFile() as handle:
        workbook = xlsxwriter.Workbook(handle, {"constant_memory": True})
        worksheet = workbook.add_worksheet("People")
        day, moment = (
            workbook.add_format({"num_format": "yyyy-mm-dd"}),
            workbook.add_format({"num_format": "yyyy-mm-dd h:mm:ss"}),
        )
        formats = [
            moment if isinstance(v, dt.datetime) else day if isinstance(v, dt.date) else None
            for v in next(constant_rows(1))
        ]
        for number, row in enumerate(constant_rows(rows)):
            for column, (value, style) in enumerate(zip(row, formats, strict=True)):
                worksheet.write(number, column, value, style)
        workbook.close()
    return time.perf_counter() - started


def markdown(figures: Figures, *, command: str, when: dt.datetime) -> str:
    ratio = figures.ratio
    csv_ok = "✓" if ratio <= TARGET_CSV_RATIO else "✗ not met"
    xlsx_ok = "✓" if figures.xlsx_s <= TARGET_XLSX_S else "✗ not met"
    floor_ok = "within" if figures.openpyxl_floor_s <= TARGET_XLSX_S else "over"
    csv_times, copy_times = seconds(figures.csv_s), seconds(figures.copy_s)
    load = " / ".join(f"{value:.2f}" for value in figures.load_before)
    load_after = " / ".join(f"{value:.2f}" for value in figures.load_after)
    return "\n".join(
        [
            START,
            "## Exports of the whole trust's people list (CSV and XLSX)",
            "",
            f"Measured {when:%-d %B %Y %H:%M} UTC on PostgreSQL, in one process, on a machine with "
            f"{os.cpu_count()} CPUs shared with other work: load average (1 / 5 / 15 min) {load} before and "
            f"{load_after} after. Reproduce with:",
            "",
            "```sh",
            command,
            "```",
            "",
            "| measurement | target | measured |",
            "|---|---|---:|",
            f"| rows (every code and version owed in the trust) |  | "
            f"{figures.rows:,} ({figures.csv_mb:.1f} MB of CSV) |",
            f"| CSV streamed / COPY of the same query, medians of {len(figures.csv_s)} interleaved | ≤ "
            f"{TARGET_CSV_RATIO:.0f}× | {statistics.median(figures.csv_s):.2f} s / "
            f"{statistics.median(figures.copy_s):.2f} s = **{ratio:.2f}×** {csv_ok} |",
            f"| peak Python allocations while streaming: whole trust / one academy | flat | "
            f"{figures.peak_mb:.1f} MB / {figures.small_peak_mb:.1f} MB ({figures.small_rows:,} rows) |",
            f"| XLSX as the background job builds it (openpyxl write-only; rows by {XLSX_HELPERS} helper processes, "
            "in openpyxl's bytes), "
            f"median of {len(figures.xlsx_runs)} | "
            f"≤ {TARGET_XLSX_S:.0f} s | **{figures.xlsx_s:.1f} s** for {figures.xlsx_rows:,} rows {xlsx_ok} |",
            f"| the same workbook written by openpyxl alone, in this process |  | {figures.xlsx_one_process_s:.1f} s |",
            f"| its floor: reading the same rows alone |  | {figures.xlsx_read_s:.1f} s |",
            f"| its floor: openpyxl writing {figures.xlsx_rows:,} constant rows of the same cell types, one process |"
            f"  | {figures.openpyxl_floor_s:.1f} s ({floor_ok} the target) |",
            f"| its floor: the same constant rows written by the job's {XLSX_HELPERS} helper processes |  | "
            f"{figures.openpyxl_helpers_floor_s:.1f} s |",
            *(
                [
                    f"| for comparison: XlsxWriter (constant_memory; not a dependency) writing the same rows |  | "
                    f"{figures.xlsxwriter_floor_s:.1f} s |"
                ]
                if figures.xlsxwriter_floor_s is not None
                else []
            ),
            "",
            f"CSV runs (s): {csv_times}; COPY runs (s): {copy_times}. XLSX job runs (s): "
            f"{'; '.join(map(str, figures.xlsx_runs))}. One process (s): "
            f"{'; '.join(map(str, figures.one_process_runs))}.",
            END,
        ]
    )


def seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section in the file (other sections are left as they are)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _old, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
