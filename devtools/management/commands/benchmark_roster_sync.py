"""Time a roster sync from a 10,000-row file (preview, apply, the same file again), in a throwaway database.

    DATABASE_URL=postgres://… .venv/bin/python manage.py benchmark_roster_sync [--rows 10000 --schools 40]

Loads the demo data (ATT, whose staff code is in force in its academies), adds ``schools``
academies and a roster of people already there (``rows`` minus a tenth, bulk-created), then
builds the MIS file: 90% of the rows are people already on the roster (one in nine of them with a
corrected name, one in eighteen with a new job title), 10% are new people, and 5% of those on the
roster are missing (leavers, since the file is "the whole roster"). Then it times the preview
(``roster_plan``), applying it (``roster_apply``, through the batch forms of the people services:
each new person is invited and owes the staff code, each name corrected, each leaver's roles end,
every change audited and chained), and the same file again (preview and apply, which change
nothing). Targets: preview < 10 s, apply < 30 s on PostgreSQL.

The floor, measured in the same run, is the least any apply could cost on this machine at this
moment: inserting as many people as the file has rows in one statement, then rolling it back. The
apply's ratio to it says how much of a slow figure is the machine's load and how much the work.
The database named by DATABASE_URL is not touched. The figures go into docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
from datetime import timedelta

import django
from django.core.management.base import BaseCommand
from django.db import connection, reset_queries, transaction
from django.utils import timezone

from acknowledgements.models import Obligation
from conduct.models import Organisation, OrganisationKind, Person, Role, RoleKind
from devtools.benchmarking import analyse, throwaway_database, timed
from devtools.demo_conduct import demo_load
from provisioning.roster import roster_apply, roster_plan, roster_upload_create

BATCH = 5000
PREVIEW_TARGET, APPLY_TARGET = 10.0, 30.0


class _RolledBack(Exception):
    pass


class Command(BaseCommand):
    help = "Time previewing and applying a 10,000-row roster file on a large trust."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rows", type=int, default=10_000, help="Rows in the file (default 10,000).")
        parser.add_argument("--schools", type=int, default=40, help="Academies added to ATT (default 40).")

    def handle(self, *args, rows: int, schools: int, **options) -> None:
        with throwaway_database("roster_benchmark", self.stdout):
            self._run(rows, schools)

    def _run(self, rows: int, schools: int) -> None:
        today = timezone.localdate()
        self.stdout.write("Loading the demo and building the roster …")
        demo_load()
        trust = Organisation.objects.get(slug="att")
        admin = Person.objects.get(email="admin@att.example")
        academies = [
            Organisation.objects.create(
                name=f"Benchmark Academy {i:02d}", slug=f"bench-{i:02d}", kind=OrganisationKind.SCHOOL, parent=trust
            )
            for i in range(schools)
        ]
        existing = rows - rows // 10
        people = [
            Person(email=f"staff{i:05d}@bench.example", full_name=f"Staff Member {i:05d}") for i in range(existing)
        ]
        for person in people:
            person.set_unusable_password()
        Person.objects.bulk_create(people, batch_size=BATCH)
        people = list(Person.objects.filter(email__endswith="@bench.example").order_by("email"))
        started = today - timedelta(days=365)
        Role.objects.bulk_create(
            [
                Role(
                    person=p,
                    organisation=academies[i % schools],
                    kind=RoleKind.EMPLOYEE,
                    starts_on=started,
                    title="Teacher",
                )
                for i, p in enumerate(people)
            ],
            batch_size=BATCH,
        )
        analyse()
        leavers = existing // 20
        lines = ["name,email,role,organisation,start date,title,external id"]
        for i, person in enumerate(people[leavers:], start=leavers):
            name = person.full_name + (" Corrected" if i % 9 == 0 else "")
            title = "Head of Year" if i % 18 == 1 else "Teacher"
            lines.append(
                f"{name},{person.email},Employee,bench-{i % schools:02d},{started:%d/%m/%Y},{title},MIS{i:05d}"
            )
        new = rows - (len(lines) - 1)
        for i in range(new):
            lines.append(
                f"New Starter {i:05d},new{i:05d}@bench.example,Employee,bench-{i % schools:02d},{today:%Y-%m-%d},,"
            )
        data = ("\n".join(lines) + "\n").encode("utf-8")
        self.stdout.write(
            f"{len(lines) - 1:,} rows ({len(data) / 1e6:.1f} MB): {existing - leavers:,} already on the roster, "
            f"{new:,} new, {leavers:,} on the roster but not in the file; {schools} academies"
        )

        def preview() -> str:
            plan = roster_plan(actor=admin, organisation=trust, data=data, whole_roster=True, leavers_on=today)
            return (
                f"{len(plan.additions)} additions, {len(plan.person_changes)} people and {len(plan.role_changes)} "
                f"roles changed, {len(plan.leavers)} leavers, {len(plan.rejected)} rejected, {plan.unchanged} unchanged"
            )

        def apply() -> str:
            upload = roster_upload_create(
                actor=admin, organisation=trust, data=data, file_name="mis.csv", whole_roster=True, leavers_on=today
            )
            plan = roster_apply(actor=admin, upload=upload)
            return f"{plan.change_count} changes applied"

        def step(label: str, action) -> float:
            reset_queries()  # each step's query count on its own (Django keeps at most 9,000)
            return timed(self.stdout, label, action)[1]

        def floor() -> str:
            try:
                with transaction.atomic():
                    Person.objects.bulk_create(
                        [Person(email=f"floor{i:05d}@bench.example", full_name="Floor") for i in range(rows)],
                        batch_size=BATCH,
                    )
                    raise _RolledBack
            except _RolledBack:
                pass
            return f"{rows:,} people inserted in one statement, rolled back"

        obligations_before = Obligation.objects.count()
        self.stdout.write(f"\n{connection.vendor}, Python {platform.python_version()}, Django {django.get_version()}")
        floor_seconds = step("floor (one bulk insert)", floor)
        preview_seconds = step("preview (first sync)", preview)
        apply_seconds = step("apply (first sync)", apply)
        opened = Obligation.objects.count() - obligations_before
        self.stdout.write(f"  ({opened:,} obligations opened for the new starters)")
        analyse()
        again_preview = step("preview (same file again)", preview)
        again_apply = step("apply (same file again)", apply)
        verdict = preview_seconds < PREVIEW_TARGET and apply_seconds < APPLY_TARGET
        self.stdout.write(
            f"\nTargets: preview < {PREVIEW_TARGET:.0f} s, apply < {APPLY_TARGET:.0f} s: "
            + ("met" if verdict else "NOT met")
            + f" (again: {again_preview:.1f} s / {again_apply:.1f} s); apply / floor = "
            + f"{apply_seconds / floor_seconds:.0f}×, load average {os.getloadavg()[0]:.1f}"
        )
        if Person.objects.filter(email__startswith="new", email__endswith="@bench.example").count() != new:
            raise SystemExit("The new starters were not all created.")
        if Role.objects.filter(ends_on=today, person__email__endswith="@bench.example").count() != leavers:
            raise SystemExit("The leavers' roles did not all end.")
