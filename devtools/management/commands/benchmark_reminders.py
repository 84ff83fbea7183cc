"""Time the daily reminder planner on a large data set, built in a throwaway database.

    DATABASE_URL=postgres://… .venv/bin/python manage.py benchmark_reminders [--obligations 100000]

The database named by DATABASE_URL is not touched: like the test runner, the
command creates a separate database next to it (``<name>_reminder_benchmark``
on PostgreSQL, in memory on SQLite), migrates it, fills it, measures and drops
it. The figures go into docs/benchmarks.md.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar

import django
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from acknowledgements.models import Declaration, Obligation
from conduct.models import Code, Organisation, Person, Role
from conduct.services import role_create, version_create_from_content
from core.academic_year import academic_year_start
from devtools.benchmarking import analyse, throwaway_database, timed
from devtools.builders import adopt_at_meeting
from reminders.models import ReminderLog
from reminders.planning import reminders_plan
from reminders.sending import reminders_ready

T = TypeVar("T")
BATCH = 5000


class Command(BaseCommand):
    help = "Build N owed acknowledgements in a throwaway database and time the daily reminder planner on them."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--obligations", type=int, default=100_000, help="Open obligations to plan for (default 100000)."
        )
        parser.add_argument("--schools", type=int, default=40, help="Schools in the trust (default 40).")

    def handle(self, *args, obligations: int, schools: int, **options) -> None:
        self.verbosity = options["verbosity"]
        with throwaway_database("reminder_benchmark", self.stdout):
            self._run(obligations, schools)

    def _timed(self, label: str, action: Callable[[], T]) -> T:
        result, elapsed, queries = timed(self.stdout, label, action)
        if self.verbosity > 1:  # where the time goes: the database, and its slowest statements
            in_database = sum(float(query["time"]) for query in queries.captured_queries)
            self.stdout.write(f"      {in_database:.2f} s in the database, {elapsed - in_database:.2f} s in Python")
            by_statement: dict[str, float] = {}
            for query in queries.captured_queries:
                verb = query["sql"].split(None, 1)[0].upper() if query["sql"] else "?"
                by_statement[verb] = by_statement.get(verb, 0.0) + float(query["time"])
            self.stdout.write("      " + ", ".join(f"{verb} {seconds:.2f} s" for verb, seconds in by_statement.items()))
            for query in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:5]:
                self.stdout.write(f"      {float(query['time']):.3f} s  {query['sql'][:300]}")
        return result

    def _run(self, obligations: int, schools: int) -> None:

        today = timezone.localdate()
        started = time.perf_counter()
        summary = build_data_set(obligations=obligations, schools=schools, today=today)
        analyse()
        self.stdout.write(f"Built in {time.perf_counter() - started:.1f} s: {summary}")
        self.stdout.write(f"Python {platform.python_version()}, Django {django.get_version()}, {_server_version()}")
        self.stdout.write("Planner (reminders_plan):")
        self._timed("first run (every subject needs a reminder)", lambda: reminders_plan(today=today).total)
        self._timed("same day again (nothing new)", lambda: reminders_plan(today=today).total)
        self._timed("next day", lambda: reminders_plan(today=today + timedelta(days=1)).total)
        self._timed("listing the ids to queue (reminders_ready)", lambda: len(reminders_ready(today=today)))
        self.stdout.write(f"Reminder rows: {ReminderLog.objects.count()}")


def _server_version() -> str:
    query = "SELECT version()" if connection.vendor == "postgresql" else "SELECT 'SQLite ' || sqlite_version()"
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0].split(" on ")[0]


def build_data_set(*, obligations: int, schools: int, today: date) -> str:
    """One trust, ``schools`` schools, ``obligations`` open obligations spread over four months of joining
    dates (so every step occurs: invitations, 7 days before, due today, overdue, escalated), plus signed
    ones and leavers the planner must skip, officers, governors and declarations."""

    trust = Organisation.objects.create(name="Benchmark Trust", slug="benchmark-trust", kind="trust")
    board = Organisation.objects.create(
        name="Benchmark Trust Board", slug="benchmark-board", kind="board", parent=trust, governs=trust
    )
    school_list = [
        Organisation.objects.create(
            name=f"Benchmark Academy {n}", slug=f"benchmark-academy-{n}", kind="school", parent=trust
        )
        for n in range(schools)
    ]
    boards = [
        Organisation.objects.create(
            name=f"Benchmark Academy {n} LGB", slug=f"benchmark-lgb-{n}", kind="board", parent=board, governs=school
        )
        for n, school in enumerate(school_list)
    ]
    code = Code.objects.create(
        owner=trust,
        title="Benchmark staff code",
        slug="benchmark-staff-code",
        audience=["employee"],
        signing_due_days=30,
    )
    version = version_create_from_content(
        code=code, label="benchmark", sections=[{"number": "1", "title": "Duty", "clauses": [{"text": "Be kind."}]}]
    )
    chair = Person.objects.create_user(email="chair@bench.example", full_name="Benchmark Chair")
    role_create(person=chair, organisation=board, kind="chair", starts_on=today - timedelta(days=3650))
    adoption = adopt_at_meeting(
        version, board, chair=chair, held_on=today - timedelta(days=330), review_due_on=today + timedelta(days=30)
    )
    signed, leavers = obligations // 10, obligations // 50
    total = obligations + signed + leavers
    Person.objects.bulk_create(
        (Person(email=f"person{n}@bench.example", full_name=f"Person {n}", password="!") for n in range(total)),
        batch_size=BATCH,
    )
    person_ids = list(
        Person.objects.filter(email__endswith="@bench.example")
        .exclude(pk=chair.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Role.objects.bulk_create(
        (
            Role(
                person_id=person_id,
                organisation=school_list[n % schools],
                kind="employee",
                starts_on=today - timedelta(days=400),
                ends_on=today - timedelta(days=5) if n >= obligations + signed else None,
            )
            for n, person_id in enumerate(person_ids)
        ),
        batch_size=BATCH,
    )
    roles = Role.objects.filter(kind="employee", person_id__in=person_ids).order_by("person_id")
    rows = []
    for n, (role_id, person_id, organisation_id) in enumerate(roles.values_list("pk", "person_id", "organisation_id")):
        owed_from = today - timedelta(days=n % 120)
        rows.append(
            Obligation(
                person_id=person_id,
                version=version,
                code=code,
                role_id=role_id,
                organisation_id=organisation_id,
                adoption=adoption,
                owed_from=owed_from,
                due_on=owed_from + timedelta(days=30),
                acknowledged_at=timezone.now() if obligations <= n < obligations + signed else None,
            )
        )
    Obligation.objects.bulk_create(rows, batch_size=BATCH)
    # Officers (a clerk and admin per school, the trust's admins) and governors, half of whom have declared.
    Role.objects.bulk_create(
        [
            Role(
                person_id=person_ids[n],
                organisation=school_list[n],
                kind="admin",
                starts_on=today - timedelta(days=900),
            )
            for n in range(schools)
        ]
        + [
            Role(person_id=person_ids[n], organisation=boards[n], kind="clerk", starts_on=today - timedelta(days=900))
            for n in range(schools)
        ]
        + [
            Role(
                person_id=person_ids[schools + n],
                organisation=trust,
                kind="admin",
                starts_on=today - timedelta(days=900),
            )
            for n in range(3)
        ]
        + [
            Role(
                person_id=person_ids[-1 - n],
                organisation=boards[n % schools],
                kind="local_governor",
                starts_on=today - timedelta(days=700),
            )
            for n in range(schools * 10)
        ],
        batch_size=BATCH,
    )
    Declaration.objects.bulk_create(
        [
            Declaration(
                person_id=person_ids[-1 - n],
                organisation=boards[n % schools],
                nothing_to_declare=True,
                academic_year_start=academic_year_start(today),
            )
            for n in range(0, schools * 10, 2)
        ],
        batch_size=BATCH,
    )
    return (
        f"{obligations} open obligations, {signed} signed and {leavers} of leavers (skipped), "
        f"{schools} schools, {schools * 10} governors"
    )
