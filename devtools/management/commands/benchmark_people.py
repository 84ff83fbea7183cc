"""Time the people directory on the scale data: each page as the trust's admin opens it, through the whole view.

    DATABASE_URL=postgres://… .venv/bin/python manage.py generate_scale_data
    DATABASE_URL=postgres://… .venv/bin/python manage.py benchmark_people --write docs/benchmarks.md

Reads the data set ``generate_scale_data`` made (the trust of 50,000 people and its admin); writes
nothing to it. Each variant of the directory (no filter, a search, an academy, a role kind, something
overdue, invitations, never signed in, a late page, a sort) is requested ``--rounds`` times with
Django's test client (the middleware, the view, its queries and the template), interleaved, and its
median and 95th percentile are reported with its query count. Target: p95 ≤ 50 ms.
"""

from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.urls import reverse
from django.utils import timezone

from conduct.models import Organisation, OrganisationKind, Person, Role

START, END = "<!-- people-directory-benchmark:start -->", "<!-- people-directory-benchmark:end -->"
TARGET_MS = 50.0


class Command(BaseCommand):
    help = "Time the people directory's pages (p95) for the scale data's trust admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prefix", default="scale", help="The scale data's prefix (the trust measured).")
        parser.add_argument("--rounds", type=int, default=40, help="Requests of each variant (default 40).")
        parser.add_argument("--write", type=Path, help="Write the table into this Markdown file (its own section).")

    def handle(self, *args: object, prefix: str, rounds: int, write: Path | None, **options: Any) -> None:
        if rounds < 5:
            raise CommandError("--rounds must be at least 5.")
        trust = Organisation.objects.filter(slug__in=[f"{prefix}-trust-0", prefix], kind=OrganisationKind.TRUST).first()
        admin = (
            Person.objects.filter(roles__organisation=trust, roles__kind="admin").order_by("pk").first()
            if trust
            else None
        )
        if trust is None or admin is None:
            raise CommandError(f"No trust “{prefix}” with an admin: run generate_scale_data first.")
        academy = Organisation.objects.filter(parent=trust, kind=OrganisationKind.SCHOOL).order_by("path").first()
        people = Role.objects.filter(organisation__path__startswith=trust.path).values("person").distinct().count()
        variants: list[tuple[str, dict[str, str]]] = [
            ("Everyone (current roles), first page", {}),
            ("Search by surname", {"q": "smith"}),
            ("Search by an email's part", {"q": "scale.example"}),
            ("One academy and everything below", {"organisation": str(academy.pk)} if academy else {}),
            ("Role kind: local governors", {"kind": "local_governor"}),
            ("Owes something overdue", {"overdue": "on"}),
            ("Invitation not yet accepted", {"invitation": "pending"}),
            ("Never signed in", {"never_signed_in": "on"}),
            ("All roles, sorted by last sign-in", {"roles": "all", "sort": "-last_login"}),
            ("Page 200", {"page": "200"}),
        ]
        setup_test_environment()  # the test client's host and its response.context
        client = Client()
        client.force_login(admin)
        url = reverse("people:directory")
        for _label, query in variants:  # warm up: connections, caches, query plans
            client.get(url, query)
        times: dict[str, list[float]] = {label: [] for label, _q in variants}
        queries: dict[str, int] = {}
        matches: dict[str, int] = {}
        self.stdout.write(f"Timing {len(variants)} variants x {rounds} rounds for {admin.email} ({people:,} people) …")
        for _round in range(rounds):
            for label, query in variants:
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url, query)
                    times[label].append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise CommandError(f"{label}: status {response.status_code}")
                queries[label] = len(captured)
                matches[label] = len(response.context["rows"])
        rows = []
        for label, _query in variants:
            ordered = sorted(times[label])
            p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
            rows.append((label, statistics.median(ordered), p95, queries[label], matches[label]))
        table = self._markdown(rows, people=people, rounds=rounds)
        self.stdout.write(table)
        if write:
            path = write if write.is_absolute() else Path(settings.BASE_DIR) / write
            _write_section(path, table)
            self.stdout.write(self.style.SUCCESS(f"Written to {path}."))

    def _markdown(self, rows: list[tuple[str, float, float, int, int]], *, people: int, rounds: int) -> str:
        worst = max(p95 for _l, _m, p95, _q, _n in rows)
        lines = [
            START,
            "## People directory",
            "",
            f"Measured {timezone.localdate():%-d %B %Y} on {connection.vendor} "
            f"({connection.cursor().connection.info.server_version if connection.vendor == 'postgresql' else ''}) "
            f"with the scale data's trust ({people:,} people with a role in it), as its admin, through Django's test "
            f"client (middleware, view, queries, template); {rounds} interleaved requests of each variant, "
            f"Python {platform.python_version()}, Django {django.get_version()}, a machine with 2 CPUs shared with "
            "other work. Reproduce with:",
            "",
            "```sh",
            "DATABASE_URL=postgres://… .venv/bin/python manage.py migrate",
            "DATABASE_URL=postgres://… .venv/bin/python manage.py generate_scale_data",
            "DATABASE_URL=postgres://… .venv/bin/python manage.py benchmark_people --write docs/benchmarks.md",
            "```",
            "",
            f"Target: p95 ≤ {TARGET_MS:.0f} ms for every variant; the query count does not grow with the data. "
            f"Worst p95: {worst:.1f} ms {'✓' if worst <= TARGET_MS else '✗ (over the target)'}.",
            "",
            "| directory page | people on the page | median | p95 | queries |",
            "|---|---|---|---|---|",
        ]
        for label, median, p95, count, matched in rows:
            mark = "✓" if p95 <= TARGET_MS else "✗"
            lines.append(f"| {label} | {matched:,} | {median:.1f} ms | {p95:.1f} ms {mark} | {count} |")
        lines += ["", END]
        return "\n".join(lines)


def _write_section(path: Path, table: str) -> None:
    """Replace this benchmark's section of the Markdown file (between its markers), or add it at the end."""
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        before, rest = text.split(START, 1)
        _old, after = rest.split(END, 1)
        text = before + table + after
    else:
        text = text.rstrip("\n") + "\n\n" + table + "\n"
    path.write_text(text)
