"""manage.py benchmark_pages: the heaviest pages, the sign POST and 200 concurrent signers under gunicorn, beside a
floor view, for two (or more) data sizes; see devtools/benchmark_pages.py for the method and docs/benchmarks.md."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from devtools.benchmark_pages import (
    END,
    SCALING_END,
    SCALING_START,
    START,
    markdown,
    measure_sizes,
    restored_database,
    write_section,
)


class Command(BaseCommand):
    help = (
        "Serve the app under gunicorn with the production settings and measure the heaviest pages, the sign POST "
        "and concurrent signing against a floor view, for each --database (label=postgres://…, with scale data)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database",
            action="append",
            required=True,
            metavar="LABEL=URL",
            help="A labelled PostgreSQL database holding generate_scale_data's data; give two (e.g. 5,000 and 50,000).",
        )
        parser.add_argument("--prefix", default="scale", help="The scale data's prefix (the trust measured).")
        parser.add_argument(
            "--port",
            type=int,
            default=8300,
            help="Where gunicorn listens (127.0.0.1); the second database's on the next port, and so on.",
        )
        parser.add_argument("--rounds", type=int, default=60, help="Interleaved rounds of every page per size.")
        parser.add_argument("--readers", type=int, default=20, help="Readers rotated on the reading page.")
        parser.add_argument("--signers", type=int, default=20, help="Sign POSTs timed one at a time.")
        parser.add_argument("--concurrent", type=int, default=200, help="Signers at once (0 to skip).")
        parser.add_argument(
            "--exports", action="store_true", help="Also time the CSV against COPY, its memory and the XLSX job."
        )
        parser.add_argument("--write", type=Path, help="Write the table into this Markdown file (its own section).")
        parser.add_argument(
            "--scaling", action="store_true", help="Title and markers of docs/scaling.md's measurement instead."
        )

    def handle(self, *args: object, **options: Any) -> None:
        if not 1024 <= options["port"] <= 65535:
            raise CommandError("--port must be between 1024 and 65535.")
        for name in ("rounds", "readers", "signers"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1.")
        if options["concurrent"] < 0:
            raise CommandError("--concurrent cannot be negative.")
        databases = []
        for given in options["database"]:
            label, sep, url = given.partition("=")
            if not sep or not url.startswith(("postgres://", "postgresql://")):
                raise CommandError(f"--database {given!r}: give LABEL=postgres://… (PostgreSQL only).")
            databases.append((label, url))
        if connection.vendor != "postgresql":
            raise CommandError(
                "Run it with DATABASE_URL set to a PostgreSQL database (for example the first --database): "
                "the page queries are counted in this process, against each database in turn."
            )
        with restored_database():
            try:
                results = measure_sizes(
                    databases,
                    prefix=options["prefix"],
                    port=options["port"],
                    rounds=options["rounds"],
                    readers=options["readers"],
                    signers=options["signers"],
                    concurrent=options["concurrent"],
                    stdout=self.stdout,
                    with_exports=options["exports"],
                )
            except RuntimeError as error:
                raise CommandError(str(error)) from error
        command = ".venv/bin/python manage.py benchmark_pages " + " ".join(shlex.quote(a) for a in sys.argv[2:])
        if options["scaling"]:
            title, markers = (
                "Measurement: one trust alone, and among others in one database",
                (SCALING_START, SCALING_END),
            )
            growth_target = 1.2  # the same trust's pages among other trusts, over the trust alone
        else:
            title, markers = "Pages and signing under gunicorn, against the floor", (START, END)
            growth_target = 1.3  # from 5,000 to 50,000 people
        table = markdown(
            results, command=command, when=timezone.now(), title=title, markers=markers, growth_target=growth_target
        )
        self.stdout.write(table)
        if options["write"]:
            path = options["write"] if options["write"].is_absolute() else Path(settings.BASE_DIR) / options["write"]
            write_section(path, table, markers)
            self.stdout.write(self.style.SUCCESS(f"Written to {path}."))
