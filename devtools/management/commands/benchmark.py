"""manage.py benchmark (what ``make benchmark`` runs): every benchmark that builds its own data, one after another.

Each builds its data in a throwaway database (or a rolled-back transaction) and
prints its figures; docs/benchmarks.md explains them. The reports benchmark needs
the large data set from ``generate_scale_data`` first, so it runs only when that
data is present (``--with-reports``), and says so otherwise.
"""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from devtools.benchmark_reports import Benchmark, NoScaleData

# (command, options) in the order they run: quickest first, so a broken setup shows at once.
SELF_CONTAINED = [
    ("benchmark_verify_upload", {}),
    ("benchmark_pdf", {"runs": 5}),
    ("benchmark_adoption", {}),
    ("benchmark_reminders", {}),
]


class Command(BaseCommand):
    help = "Run every self-contained benchmark (and the reports benchmark when the scale data exists)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--with-reports", action="store_true", help="Also run benchmark_reports (needs generate_scale_data)."
        )
        parser.add_argument("--only", choices=[name for name, _ in SELF_CONTAINED], help="Run just this one.")

    def handle(self, *args, **options) -> None:
        chosen = [(name, kwargs) for name, kwargs in SELF_CONTAINED if options["only"] in (None, name)]
        for name, kwargs in chosen:
            self.stdout.write(self.style.MIGRATE_HEADING(f"== {name}"))
            call_command(name, stdout=self.stdout, stderr=self.stderr, **kwargs)
        if not options["with_reports"]:
            self.stdout.write("benchmark_reports skipped: run generate_scale_data, then benchmark --with-reports.")
            return
        try:
            Benchmark("scale", 1)
        except NoScaleData as error:
            raise CommandError(f"benchmark_reports needs the scale data: {error}") from error
        self.stdout.write(self.style.MIGRATE_HEADING("== benchmark_reports"))
        call_command("benchmark_reports", stdout=self.stdout, stderr=self.stderr)
