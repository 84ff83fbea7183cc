"""manage.py benchmark_exports: the people CSV against COPY and the XLSX job against openpyxl's floor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from devtools.benchmark_exports import Benchmark, NoScaleData, markdown, write_section

COMMAND = (
    "DATABASE_URL=postgres://…/conduct_h_speed_50k .venv/bin/python manage.py generate_scale_data  # once\n"
    "DATABASE_URL=postgres://…/conduct_h_speed_50k .venv/bin/python manage.py benchmark_exports "
    "--write docs/benchmarks.md"
)


class Command(BaseCommand):
    help = "Measure the people exports on data from generate_scale_data (PostgreSQL) and print a Markdown table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prefix", default="scale", help="The --prefix given to generate_scale_data.")
        parser.add_argument("--runs", type=int, default=5, help="Interleaved CSV and COPY runs (medians).")
        parser.add_argument(
            "--xlsx-runs", type=int, default=3, help="Interleaved runs of the XLSX job and the one-process workbook."
        )
        parser.add_argument("--write", metavar="FILE", help="Also write the table into this Markdown file.")

    def handle(self, *args: object, **options: Any) -> None:
        if options["runs"] < 1 or options["xlsx_runs"] < 1:
            raise CommandError("--runs and --xlsx-runs must be at least 1.")
        if connection.vendor != "postgresql":
            raise CommandError(f"The floor is PostgreSQL's COPY; this database is {connection.vendor}.")
        try:
            benchmark = Benchmark(options["prefix"], options["runs"], options["xlsx_runs"])
        except NoScaleData as error:
            raise CommandError(str(error)) from error
        figures = benchmark.run(lambda text: self.stdout.write(f"  {text}"))
        section = markdown(figures, command=COMMAND, when=timezone.now())
        self.stdout.write(section)
        if options["write"]:
            path = Path(options["write"])
            write_section(path if path.is_absolute() else Path(settings.BASE_DIR) / path, section)
            self.stdout.write(self.style.SUCCESS(f"Written to {path}."))
