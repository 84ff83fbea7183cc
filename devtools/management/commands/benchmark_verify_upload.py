"""manage.py benchmark_verify_upload: the memory and time /verify/ spends on hostile uploads.

For each upload (an issued, sealed PDF; FlateDecode bombs of one and two
layers, alone or appended to a sealed PDF; thousands of embedded files; an
array of millions of numbers, slow to parse) a fresh Python process warms up
(Django, pyHanko and a check of the issued PDF), then runs what /verify/ runs on a file it
did not issue (``check_seal`` and ``embedded_files``), and reports the growth
of its peak resident memory and the wall time. The target: growth at most
10 x the upload's size plus a constant (CONSTANT_MB), whatever the upload.
Figures in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

CONSTANT_MB = 64
RATIO = 10

CHILD = r"""
import json, os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from core.pdf import PdfTooComplex, check_seal, embedded_files
def peak_kb():  # this process's high-water mark (ru_maxrss would carry the parent's across exec)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
warm = open(sys.argv[2], "rb").read()
check_seal(warm), embedded_files(warm)
data = open(sys.argv[1], "rb").read()
before = peak_kb()
started = time.perf_counter()
seal = check_seal(data)
try:
    outcome = f"{len(embedded_files(data))} file(s) read"
except PdfTooComplex as exc:
    outcome = f"refused: {exc}"
seconds = time.perf_counter() - started
after = peak_kb()
print(json.dumps({"growth_kb": after - before, "seconds": seconds, "seal": seal.problem or "sealed", "files": outcome}))
"""


def _cases() -> list[tuple[str, bytes]]:
    from core.pdf import Attachment, render_pdf, seal_pdf
    from devtools.hostile_pdfs import flate_bomb_pdf, many_files_pdf, slow_parse_pdf

    issued = seal_pdf(
        render_pdf(
            "<h1>Staff Code of Conduct</h1>" + "<p>We must all act fairly and with integrity.</p>" * 400,
            title="t",
            author="a",
            subject="s",
            attachments=[Attachment("evidence.json", b'{"verification_code": "K7QX-M2PD-9RTW-HB4N"}' * 50)],
        ),
        reason="benchmark",
    )
    return [
        ("issued sealed PDF", issued),
        ("FlateDecode bomb, 1 GB in 1 layer", flate_bomb_pdf(1024**3)),
        ("FlateDecode bomb, 4 GB in 2 layers", flate_bomb_pdf(4 * 1024**3, layers=2)),
        ("sealed PDF + 1 GB bomb appended", issued + flate_bomb_pdf(1024**3)),
        ("20,000 embedded files of 1 MB each", many_files_pdf(20_000, each_decoded=1024 * 1024)),
        ("an array of 4.5 million numbers", slow_parse_pdf(4_500_000)),
    ]


class Command(BaseCommand):
    help = "Peak memory growth and time of /verify/'s PDF checks on hostile uploads (each in a fresh process)."

    def handle(self, *args, **options) -> None:
        self.stdout.write("Building the uploads …")
        cases = _cases()
        failures = []
        self.stdout.write(f"{'upload':<40} {'size':>10} {'growth':>10} {'limit':>10} {'time':>7}  outcome")
        with tempfile.TemporaryDirectory() as directory:
            warm_up = Path(directory) / "warm-up.pdf"
            warm_up.write_bytes(cases[0][1])
            for label, data in cases:
                path = Path(directory) / "upload.pdf"
                path.write_bytes(data)
                run = subprocess.run(
                    [sys.executable, "-c", CHILD, str(path), str(warm_up)],
                    capture_output=True,
                    text=True,
                    env={**os.environ, "DEBUG": os.environ.get("DEBUG", "1")},
                    check=False,
                )
                if run.returncode:
                    raise CommandError(f"{label}: the check failed:\n{run.stderr[-2000:]}")
                figures = json.loads(run.stdout.strip().splitlines()[-1])
                growth_mb = figures["growth_kb"] / 1024
                limit_mb = RATIO * len(data) / 1024**2 + CONSTANT_MB
                if growth_mb > limit_mb:
                    failures.append(label)
                self.stdout.write(
                    f"{label:<40} {len(data) / 1024:>8,.0f}KB {growth_mb:>8.1f}MB {limit_mb:>8.1f}MB "
                    f"{figures['seconds']:>6.2f}s  seal: {figures['seal']} / {figures['files']}"
                )
        if failures:
            raise CommandError(f"Over {RATIO} x the upload + {CONSTANT_MB} MB: {', '.join(failures)}")
        self.stdout.write(self.style.SUCCESS(f"Every upload stayed within {RATIO} x its size + {CONSTANT_MB} MB."))
