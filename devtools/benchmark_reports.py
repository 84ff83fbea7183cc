"""Measuring reports on a generated data set (``manage.py generate_scale_data``).

Three targets from the issue, measured through the real views (a Django test
client signed in as the trust's admin) or the real job service:

- the whole trust's dashboard: wall time (median of several runs after one
  warm-up) and the number of SQL queries, compared with one academy's;
- the CSV export of every signature owed in the trust (all codes, all
  versions): time to stream every byte, and memory: the peak of Python
  allocations while streaming (tracemalloc, in a separate run because tracing
  slows Python down) next to the same figure for one academy, plus the growth
  of the process's peak RSS;
- the bulk archive of the academy holding the stored PDFs: time to build the ZIP.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from acknowledgements.models import Acknowledgement, SealedPdf
from conduct.models import Code, Organisation, Person
from devtools.benchmarking import captured
from reports.builders import job_run
from reports.jobs import job_request
from reports.models import JobKind, JobStatus, ReportJob
from reports.selectors import ReportFilters, dashboard

START, END = "<!-- reports-benchmark:start -->", "<!-- reports-benchmark:end -->"


@dataclass
class Figure:
    name: str
    target: str
    result: str
    detail: str
    met: bool | None


class NoScaleData(Exception):
    pass


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports kilobytes


def _streamed_chunks(response: StreamingHttpResponse) -> Iterable[bytes]:
    """A streamed body's chunks; the test client hands over a synchronous iterator."""
    content = response.streaming_content
    if not isinstance(content, Iterable):
        raise RuntimeError("The benchmark reads synchronous streams only.")
    return content


class Benchmark:
    def __init__(self, prefix: str, runs: int):
        self.prefix = prefix
        self.runs = runs
        trust = Organisation.objects.filter(slug=f"{prefix}-trust-0").first()
        if trust is None:
            raise NoScaleData(f"No scale data with the prefix '{prefix}': run manage.py generate_scale_data first.")
        self.trust = trust
        self.admin = Person.objects.get(email=f"admin@{prefix}.example")
        self.code = Code.objects.get(slug=f"{prefix}-staff-code")
        version = self.code.versions.order_by("-adopted_at").first()
        if version is None:
            raise NoScaleData(f"The scale data's code {self.code.slug} has no version; generate it again.")
        self.version = version
        # The archive is measured where the generator stored the signed PDFs: one academy, one version.
        home = (
            SealedPdf.objects.filter(acknowledgement__version__code=self.code)
            .values("acknowledgement__organisation", "acknowledgement__version")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        if home is None:
            raise NoScaleData("The scale data has no stored PDFs; generate it with --pdfs above 0.")
        self.academy = Organisation.objects.get(pk=home["acknowledgement__organisation"])
        self.archive_version = self.code.versions.get(pk=home["acknowledgement__version"])
        self.client = Client()
        self.client.force_login(self.admin)

    def _get(self, url: str) -> tuple[float, int, int]:
        """Seconds, bytes and status of one request, reading a streamed body to the end."""
        started = time.perf_counter()
        response = self.client.get(url)
        if isinstance(response, StreamingHttpResponse):
            size = sum(len(chunk) for chunk in _streamed_chunks(response))
        else:
            size = len(response.content)
        return time.perf_counter() - started, size, response.status_code

    def _queries(self, url: str) -> int:
        with captured() as queries:
            self._get(url)
        return len(queries)

    def dashboard(self) -> Figure:
        params = {"organisation": self.trust.pk, "code": self.code.pk, "version": self.version.pk}
        url = f"{reverse('reports:dashboard')}?{urlencode(params)}"
        small = f"{reverse('reports:dashboard')}?{urlencode({**params, 'organisation': self.academy.pk})}"
        self._get(url)  # warm-up: connections, templates, caches
        times = []
        for _ in range(self.runs):
            seconds, _size, status = self._get(url)
            if status != 200:
                raise RuntimeError(f"The dashboard answered {status}.")
            times.append(seconds * 1000)
        median = statistics.median(times)
        whole, one = self._queries(url), self._queries(small)
        owed = dashboard(
            self.admin,
            ReportFilters(organisation=self.trust, as_at=timezone.localdate(), code=self.code, version=self.version),
        ).totals.owe
        return Figure(
            "Dashboard, whole trust (current staff code version)",
            "< 300 ms; queries independent of size",
            f"{median:.0f} ms median ({min(times):.0f}–{max(times):.0f} ms over {self.runs} runs)",
            f"{whole} queries for the whole trust ({owed:,} owing), {one} for one academy",
            median < 300 and whole == one,
        )

    def csv_export(self) -> list[Figure]:
        everything: dict[str, int | str] = {"organisation": self.trust.pk, "code": "", "version": ""}
        export = reverse("reports:export", args=["people", "csv"])
        url = f"{export}?{urlencode(everything)}"
        small = f"{export}?{urlencode({**everything, 'organisation': self.academy.pk})}"
        rss_before = _rss_mb()
        seconds, size, status = self._get(url)
        if status != 200:
            raise RuntimeError(f"The CSV export answered {status}.")
        rss_growth = _rss_mb() - rss_before
        rows = self._rows(url)
        big_peak = self._traced_peak(url)
        small_rows = self._rows(small)
        small_peak = self._traced_peak(small)
        return [
            Figure(
                "CSV export, every signature owed in the trust (all codes and versions), streamed",
                "< 5 s",
                f"{seconds:.2f} s",
                f"{rows:,} rows, {size / 1_048_576:.1f} MB",
                seconds < 5,
            ),
            Figure(
                "Memory while streaming that CSV",
                "flat (does not grow with rows)",
                f"{big_peak:.1f} MB peak Python allocations for {rows:,} rows",
                f"{small_peak:.1f} MB for {small_rows:,} rows (one academy); process peak RSS grew {rss_growth:.0f} MB",
                big_peak < 2 * small_peak + 5,
            ),
        ]

    def _rows(self, url: str) -> int:
        response = self.client.get(url)
        if not isinstance(response, StreamingHttpResponse):
            raise RuntimeError(f"The CSV export answered {response.status_code} without streaming.")
        return sum(chunk.count(b"\r\n") for chunk in _streamed_chunks(response)) - 1

    def _traced_peak(self, url: str) -> float:
        tracemalloc.start()
        try:
            self._get(url)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return peak / 1_048_576

    def archive(self) -> Figure:
        filters = ReportFilters(
            organisation=self.academy, as_at=timezone.localdate(), code=self.code, version=self.archive_version
        )
        seconds, summary, size = self._job(JobKind.ARCHIVE, filters)
        return Figure(
            f"Bulk archive of stored signed PDFs ({self.academy.name}, {self.archive_version.label})",
            "< 10 s for 1,000 PDFs",
            f"{seconds:.2f} s",
            f"{summary['pdfs']:,} PDFs ({size / 1_048_576:.1f} MB ZIP), "
            f"manifest of {summary['acknowledgements']:,} acknowledgements",
            seconds < 10 if summary["pdfs"] >= 1000 else None,
        )

    def spreadsheet(self) -> Figure:
        """The whole trust's people list as XLSX, which runs as a background job (no target: for information)."""
        filters = ReportFilters(organisation=self.trust, as_at=timezone.localdate())
        seconds, summary, size = self._job(JobKind.SPREADSHEET, filters)
        rows = summary["rows"]
        return Figure(
            "XLSX of the same list (a background job above 10,000 rows)",
            "none (for information)",
            f"{seconds:.1f} s",
            f"{rows:,} rows, {size / 1_048_576:.1f} MB",
            None,
        )

    def _job(self, kind: JobKind, filters: ReportFilters) -> tuple[float, dict[str, Any], int]:
        """Seconds to build a report job here (no worker), its summary and file size; the job and file are removed."""
        job, _created = job_request(user=self.admin, kind=kind, filters=filters, enqueue=False)
        started = time.perf_counter()
        finished = job_run(job.pk)
        seconds = time.perf_counter() - started
        if finished is None or finished.status != JobStatus.DONE:
            raise RuntimeError(f"The {kind.label} job did not finish: {finished and finished.error}")
        if finished.file.name:
            finished.file.storage.delete(finished.file.name)
        ReportJob.objects.filter(pk=finished.pk).delete()
        return seconds, finished.summary, finished.size

    def run(self) -> list[Figure]:
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            return [self.dashboard(), *self.csv_export(), self.spreadsheet(), self.archive()]

    def describe_data(self) -> str:
        people = Person.objects.filter(roles__organisation__path__startswith=self.trust.path).distinct().count()
        acks = Acknowledgement.objects.filter(organisation__path__startswith=self.trust.path).count()
        every = Acknowledgement.objects.filter(version__code__slug__startswith=f"{self.prefix}-").count()
        schools = self.trust.children.filter(kind="school").count()
        return (
            f"{schools} academies, {people:,} people and {acks:,} acknowledgements in the trust "
            f"({every:,} in the data set, with the network's)"
        )


def markdown(figures: list[Figure], *, data: str, database: str, command: str, when: datetime) -> str:
    lines = [
        START,
        "## Compliance reports",
        "",
        f"Measured {when:%-d %B %Y} on {database} with {data}, on a machine with {os.cpu_count()} CPUs "
        f"(load average {os.getloadavg()[0]:.1f} at the end of the run). Reproduce with:",
        "",
        "```sh",
        command,
        "```",
        "",
        "| measurement | target | result | detail |",
        "|---|---|---|---|",
    ]
    for figure in figures:
        mark = "" if figure.met is None else (" ✓" if figure.met else " ✗")
        lines.append(f"| {figure.name} | {figure.target} | {figure.result}{mark} | {figure.detail} |")
    lines += ["", END]
    return "\n".join(lines)


def write_section(path, section: str) -> None:
    """Replace this benchmark's section in the file (other sections are left as they are)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _old, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
