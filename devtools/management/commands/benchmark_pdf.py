"""Benchmark: a signed acknowledgement PDF against a bare WeasyPrint render of the same HTML.

    python manage.py benchmark_pdf [--runs 7] [--markdown]

The target: issuing the signed PDF of the ~10-page staff code costs no
more than 1.2x rendering the same HTML with WeasyPrint and nothing else.

"Signed PDF" is everything an issue does except storing the bytes: build the
HTML (the version's body comes from the cache after the first time), render
PDF/A-3b with the evidence JSON embedded and the metadata set, and seal it with
the instance key. "Bare" is ``weasyprint.HTML(string=html).write_pdf()`` on the
very same HTML. Each is run ``--runs`` times, interleaved, after one warm-up; the medians of
their CPU time are compared (elapsed time is shown too).

Uses the demo data's staff-code signatures, loading the demo data inside a
transaction that is rolled back if the database does not have it, so running
the benchmark never changes the database.
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from acknowledgements.issuing import acknowledgement_document, acknowledgement_pdf_render
from acknowledgements.models import Acknowledgement
from core.pdf import _font_config
from devtools.demo_conduct import demo_load

TARGET = 1.2
STAFF_CODE = "att-staff-code-of-conduct"


class Rollback(Exception):
    pass


@dataclass
class Timings:
    cpu: list[float] = field(default_factory=list)  # this process's CPU time: what the work costs
    wall: list[float] = field(default_factory=list)  # elapsed time: what a person waits, noisy on a busy machine


def _timed(works: dict[str, Callable[[], bytes]], runs: int) -> tuple[dict[str, Timings], dict[str, int]]:
    """Run each piece of work ``runs`` times, interleaved (A, B, C, A, B, C …) after one warm-up each,
    so a busy machine slows them all alike rather than whichever happened to run during the spike.

    CPU time is the figure compared: rendering is CPU-bound and single-threaded, and CPU time is not
    inflated by other processes on a shared machine the way elapsed time is.
    """
    sizes = {name: len(work()) for name, work in works.items()}  # warm-up: imports, fonts, caches
    times = {name: Timings() for name in works}
    for _ in range(runs):
        for name, work in works.items():
            cpu, wall = time.process_time(), time.perf_counter()
            work()
            times[name].cpu.append(time.process_time() - cpu)
            times[name].wall.append(time.perf_counter() - wall)
    return times, sizes


class Command(BaseCommand):
    help = "Time a signed acknowledgement PDF of the staff code against a bare WeasyPrint render of the same HTML."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=7, help="Timed runs of each (after one warm-up).")
        parser.add_argument("--markdown", action="store_true", help="Print the result as a Markdown table row too.")
        parser.add_argument(
            "--code", default=STAFF_CODE, help="Slug of the code whose signed PDF is timed (default: the staff code)."
        )

    def handle(self, *args, runs: int, markdown: bool, code: str, **options):
        try:
            with transaction.atomic():
                self._run(runs, markdown, code)
                raise Rollback
        except Rollback:
            pass

    def _run(self, runs: int, markdown: bool, code: str) -> None:
        from weasyprint import HTML

        ack = self._acknowledgement(Acknowledgement, code)
        html = acknowledgement_document(ack).html
        base_url = str(settings.BASE_DIR)
        times, sizes = _timed(
            {
                "bare": lambda: HTML(string=html, base_url=base_url).write_pdf(),
                # Reusing one font configuration, as render_pdf does: isolates the cost of PDF/A, evidence and seal.
                "shared": lambda: HTML(string=html, base_url=base_url).write_pdf(font_config=_font_config()),
                "signed": lambda: acknowledgement_pdf_render(ack),
            },
            runs,
        )
        bare, shared, signed = (statistics.median(times[name].cpu) for name in ("bare", "shared", "signed"))
        walls = {name: statistics.median(times[name].wall) for name in times}
        ratio, overhead = signed / bare, signed / shared
        pages = self._pages(acknowledgement_pdf_render(ack))
        verdict = "within" if ratio <= TARGET else "OVER"
        self.stdout.write(
            f"{ack.version.code.title} acknowledgement: {pages} pages, HTML {len(html):,} characters, {runs} runs each "
            "(median CPU time; elapsed time in brackets)"
        )
        self.stdout.write(
            f"  bare WeasyPrint render              : {bare:.3f}s ({walls['bare']:.3f}s), {sizes['bare']:,} bytes"
        )
        self.stdout.write(f"  bare, sharing one font configuration: {shared:.3f}s ({walls['shared']:.3f}s)")
        self.stdout.write(
            f"  signed PDF (HTML built, PDF/A-3b, evidence embedded, sealed): {signed:.3f}s ({walls['signed']:.3f}s), "
            f"{sizes['signed']:,} bytes"
        )
        self.stdout.write(f"  signed / bare                       : {ratio:.2f} ({verdict} the {TARGET}x target)")
        self.stdout.write(
            f"  signed / bare sharing fonts         : {overhead:.2f} (the cost of PDF/A, evidence and seal alone)"
        )
        if markdown:
            self.stdout.write(
                f"| {time.strftime('%Y-%m-%d')} | Python {platform.python_version()} | {pages} | {runs} | "
                f"{bare:.3f} s | {shared:.3f} s | {signed:.3f} s | {ratio:.2f} | {overhead:.2f} |"
            )

    def _acknowledgement(self, model, code: str):
        def find():
            return model.objects.filter(version__code__slug=code, recorded_by__isnull=True).order_by("pk").first()

        ack = find()
        if ack is None and code == STAFF_CODE:
            self.stdout.write(
                "No staff-code signature in the database: loading the demo data (rolled back afterwards)."
            )
            demo_load()
            ack = find()
        if ack is None:
            raise CommandError(f"No one has signed the code “{code}” yet; sign it once, or load the demo data.")
        return ack

    @staticmethod
    def _pages(pdf: bytes) -> int:
        import io

        from pypdf import PdfReader

        return len(PdfReader(io.BytesIO(pdf)).pages)
