"""Time the people directory on the scale data: each page as the trust's admin opens it, through the whole view.

    DATABASE_URL=postgres://… .venv/bin/python manage.py generate_scale_data
    DATABASE_URL=postgres://… .venv/bin/python manage.py benchmark_people --write docs/benchmarks.md

Reads the data set ``generate_scale_data`` made (the trust of 50,000 people and its admin); writes
nothing to it. The requests go through Django's test client in this process with the production
behaviour that matters for speed switched on (``DEBUG`` off: the cached template loader, no query
log) and the benchmark's URLs (``devtools.benchmark_urls``), so a floor, a plain response behind the
same middleware and the same signed-in session, is measured in the same run. Each round requests
every variant of the directory and the floor once, in a shuffled order (a slow moment of a shared
machine touches them all alike); the median, the 95th percentile, the median's ratio to the floor's
and the query count (counted on a separate request, not a timed one) are reported. Target: p95 ≤ 50 ms.

Self-checks: every request must answer 200, and page 200 (of the default sort and of the sort by last sign-in,
a nullable column) must list the same people whether reached by its Next link (the keyset after page 199's last
person), by its Previous link (the keyset before page 201's first person) or by its number (the OFFSET).
"""

from __future__ import annotations

import os
import platform
import random
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from conduct.models import Organisation, OrganisationKind, Person, Role
from devtools.benchmark_pages import percentile
from devtools.benchmark_urls import FLOOR_PATH
from people.selectors import DirectoryFilters, directory

START, END = "<!-- people-directory-benchmark:start -->", "<!-- people-directory-benchmark:end -->"
TARGET_MS = 50.0
FLOOR = "Floor: a plain response behind the same middleware"
PAGE_200 = "Page 200"
PER_PAGE = 50
# A person's row in the directory's table: what the page lists, read from the HTML (no template instrumentation).
ROW = re.compile(r'<th scope="row" class="fw-normal"><a href="[^"]*">([^<]*)</a>')
IN_PROCESS = override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"], ROOT_URLCONF="devtools.benchmark_urls")


@dataclass
class Variant:
    label: str
    path: str
    query: dict[str, str]
    times: list[float] = field(default_factory=list)
    queries: int = 0
    listed: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        return percentile(self.times, 0.95)


class Command(BaseCommand):
    help = "Time the people directory's pages (median, p95, ratio to a floor) for the scale data's trust admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prefix", default="scale", help="The scale data's prefix (the trust measured).")
        parser.add_argument("--rounds", type=int, default=60, help="Interleaved rounds of every variant (default 60).")
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
        people = Role.objects.filter(organisation__path__startswith=trust.path).values("person").distinct().count()
        client = Client()
        # Signing in sets the admin's last sign-in, which moves them in the sort by it: done before page 200's
        # neighbours are read, so its three ways list the same people on the first run against fresh data too.
        client.force_login(admin)
        admin.refresh_from_db()
        variants = _variants(trust, admin)
        load_before = os.getloadavg()[0]
        self.stdout.write(f"Timing {len(variants)} variants x {rounds} rounds for {admin.email} ({people:,} people) …")
        with IN_PROCESS:
            _measure(variants, client, rounds)
        load_after = os.getloadavg()[0]
        _check_page_200(variants)
        table = _markdown(variants, people=people, rounds=rounds, load=(load_before, load_after))
        self.stdout.write(table)
        if write:
            path = write if write.is_absolute() else Path(settings.BASE_DIR) / write
            _write_section(path, table)
            self.stdout.write(self.style.SUCCESS(f"Written to {path}."))


def _variants(trust: Organisation, admin: Person) -> list[Variant]:
    academy = Organisation.objects.filter(parent=trust, kind=OrganisationKind.SCHOOL).order_by("path").first()
    url = reverse("people:directory")
    queries: list[tuple[str, dict[str, str]]] = [
        ("Everyone (current roles), first page", {}),
        ("Search by surname", {"q": "smith"}),
        ("Search by an email's part", {"q": "scale.example"}),
        ("One academy and everything below", {"organisation": str(academy.pk)} if academy else {}),
        ("Role kind: local governors", {"kind": "local_governor"}),
        ("Owes something overdue", {"overdue": "on"}),
        ("Invitation not yet accepted", {"invitation": "pending"}),
        ("Never signed in", {"never_signed_in": "on"}),
        ("All roles, sorted by last sign-in", {"roles": "all", "sort": "-last_login"}),
        *_page_200("", {}, DirectoryFilters(), admin),
        *_page_200(
            ", by last sign-in",
            {"roles": "all", "sort": "-last_login"},
            DirectoryFilters(roles="all", sort="-last_login"),
            admin,
        ),
    ]
    return [Variant(label, url, query) for label, query in queries] + [Variant(FLOOR, f"/{FLOOR_PATH}", {})]


def _page_200(
    label: str, query: dict[str, str], filters: DirectoryFilters, admin: Person
) -> list[tuple[str, dict[str, str]]]:
    """Page 200 three ways: by its Next link (keyset after page 199's last person), by its Previous link (keyset
    before page 201's first person) and by its number (the OFFSET); ``_check_page_200`` requires the same people."""
    people = directory(admin, filters).values_list("pk", flat=True)
    try:
        last_of_199, first_of_201 = people[199 * PER_PAGE - 1], people[200 * PER_PAGE]
    except IndexError:
        raise CommandError(f"Fewer than {200 * PER_PAGE + 1:,} people in the trust: no page 200 to time.") from None
    page = {**query, "page": "200"}
    return [
        (f"{PAGE_200}{label} by its Next link (keyset)", {**page, "after": str(last_of_199)}),
        (f"{PAGE_200}{label} by its Previous link (keyset)", {**page, "before": str(first_of_201)}),
        (f"{PAGE_200}{label} by its number (OFFSET 9,950)", page),
    ]


def _measure(variants: list[Variant], client: Client, rounds: int) -> None:
    for variant in variants:  # warm up: connections, templates, query plans; then count the queries of one request
        client.get(variant.path, variant.query)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(variant.path, variant.query)
        _require_ok(variant, response.status_code)
        variant.queries = len(captured)
        variant.listed = ROW.findall(response.content.decode())
    order = list(variants)
    shuffle = random.Random(2026)
    for _round in range(rounds):
        shuffle.shuffle(order)
        for variant in order:
            started = time.perf_counter()
            response = client.get(variant.path, variant.query)
            variant.times.append((time.perf_counter() - started) * 1000)
            _require_ok(variant, response.status_code)


def _require_ok(variant: Variant, status: int) -> None:
    if status != 200:
        raise CommandError(f"{variant.label}: status {status}")


def _check_page_200(variants: list[Variant]) -> None:
    """Each page 200 lists 50 people, the same whether reached by its Next link, its Previous link or its number."""
    pages = [v for v in variants if v.label.startswith(PAGE_200)]
    for by_next, by_previous, by_number in zip(pages[::3], pages[1::3], pages[2::3], strict=True):
        if len(by_number.listed) != PER_PAGE or not by_next.listed == by_previous.listed == by_number.listed:
            raise CommandError(f"{by_number.label} does not list the people its Next and Previous links list.")


def _markdown(variants: list[Variant], *, people: int, rounds: int, load: tuple[float, float]) -> str:
    floor = next(v for v in variants if v.label == FLOOR)
    pages = [v for v in variants if v is not floor]
    worst = max(v.p95 for v in pages)
    server = connection.cursor().connection.info.server_version if connection.vendor == "postgresql" else ""
    lines = [
        START,
        "## People directory",
        "",
        f"Measured {timezone.localtime():%-d %B %Y, %H:%M %Z} on {connection.vendor} ({server}) with the scale "
        f"data's trust ({people:,} people with a role in it), as its admin, through Django's test client in one "
        "process (middleware, view, queries, template) with DEBUG off (the cached template loader, no query log) and "
        f"the benchmark's URLs; {rounds} rounds, each requesting every variant and the floor once in a shuffled "
        f"order; Python {platform.python_version()}, Django {django.get_version()}, a machine with {os.cpu_count()} "
        f"CPUs shared with other work, **load average {load[0]:.1f} at the start and {load[1]:.1f} at the end**. "
        "The floor is a plain response behind the same middleware and session (what any page costs before its "
        "view); the query count is of one request, counted apart from the timed ones. Reproduce with:",
        "",
        "```sh",
        "DATABASE_URL=postgres://… .venv/bin/python manage.py migrate",
        "DATABASE_URL=postgres://… .venv/bin/python manage.py generate_scale_data",
        "DATABASE_URL=postgres://… .venv/bin/python manage.py benchmark_people --write docs/benchmarks.md",
        "```",
        "",
        f"Target: p95 ≤ {TARGET_MS:.0f} ms for every variant; the query count does not grow with the data. "
        f"Worst p95: {worst:.1f} ms {'✓ (met)' if worst <= TARGET_MS else '✗ (over the target)'}.",
        "",
        "| directory page | people on the page | median | p95 | median ÷ floor's | queries |",
        "|---|---|---|---|---|---|",
    ]
    for v in pages:
        mark = "✓" if v.p95 <= TARGET_MS else "✗"
        lines.append(
            f"| {v.label} | {len(v.listed):,} | {v.median:.1f} ms | {v.p95:.1f} ms {mark} | "
            f"{v.median / floor.median:.1f}× | {v.queries} |"
        )
    lines.append(f"| {floor.label} | – | {floor.median:.1f} ms | {floor.p95:.1f} ms | 1.0× | {floor.queries} |")
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
