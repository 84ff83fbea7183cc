"""manage.py benchmark_reports: dashboard, CSV export and archive timings on the generated data set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from devtools.benchmark_reports import Benchmark, NoScaleData, markdown, write_section

COMMAND = (
    "DATABASE_URL=postgres://… .venv/bin/python manage.py migrate\n"
    "DATABASE_URL=postgres://… .venv/bin/python manage.py generate_scale_data\n"
    "DATABASE_URL=postgres://… .venv/bin/python manage.py benchmark_reports --write docs/benchmarks.md"
)


class Command(BaseCommand):
    help = "Measure the reports on data from generate_scale_data (meant for PostgreSQL) and print a Markdown table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prefix", default="scale", help="The --prefix given to generate_scale_data.")
        parser.add_argument("--runs", type=int, default=7, help="Timed dashboard requests (after one warm-up).")
        parser.add_argument(
            "--write", metavar="FILE", help="Also write the table into this Markdown file (its own section)."
        )

    def handle(self, *args: object, **options: Any) -> None:
        if options["runs"] < 1:
            raise CommandError("--runs must be at least 1.")
        if connection.vendor != "postgresql":
            self.stderr.write(
                self.style.WARNING(f"The targets are for PostgreSQL; this database is {connection.vendor}.")
            )
        try:
            benchmark = Benchmark(options["prefix"], options["runs"])
        except NoScaleData as error:
            raise CommandError(str(error)) from error
        figures = benchmark.run()
        database = (
            f"PostgreSQL {connection.get_database_version()[0]}"  # the major version, as pg_version // 10000
            if connection.vendor == "postgresql"
            else connection.vendor
        )
        section = markdown(
            figures, data=benchmark.describe_data(), database=database, command=COMMAND, when=timezone.localtime()
        )
        self.stdout.write(section)
        if options["write"]:
            path = Path(options["write"])
            if not path.is_absolute():
                path = Path(settings.BASE_DIR) / path
            write_section(path, section)
            self.stdout.write(self.style.SUCCESS(f"Written to {path}."))
        missed = [figure.name for figure in figures if figure.met is False]
        if missed:
            self.stderr.write(self.style.WARNING("Targets missed: " + "; ".join(missed)))
