"""Time the yearly cycle on a large trust, in a throwaway database.

    DATABASE_URL=postgres://… .venv/bin/python manage.py benchmark_adoption [--schools 40 --staff 250]

Loads the demo data, adds a trust's worth of staff to ATT (``schools`` academies
with ``staff`` employees each), then times: starting a draft of the staff code
(the longest code) from the version in force, the clause-level diff, adopting
it for every academy (which opens the whole signing round), and rendering and
sealing the adoption certificate. The database named by DATABASE_URL is not
touched: like the test runner, the command creates a separate database next to
it and drops it afterwards. The figures go into docs/benchmarks.md.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

import django
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from acknowledgements.certificates import adoption_certificate_issue
from acknowledgements.models import Obligation
from conduct import drafting
from conduct.diff import diff_versions
from conduct.models import (
    Adoption,
    Clause,
    Code,
    CodeVersion,
    Meeting,
    Organisation,
    OrganisationKind,
    Person,
    Role,
    RoleKind,
)
from conduct.services import AdoptionRequest, adoption_record
from devtools.benchmarking import analyse, throwaway_database, timed
from devtools.demo_conduct import demo_load

T = TypeVar("T")
BATCH = 5000


class Command(BaseCommand):
    help = "Time drafting, diffing, adopting (opening the signing round) and the certificate on a large trust."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--schools", type=int, default=40, help="Academies added to ATT (default 40).")
        parser.add_argument("--staff", type=int, default=250, help="Employees per academy (default 250).")

    def handle(self, *args, schools: int, staff: int, **options) -> None:
        with throwaway_database("adoption_benchmark", self.stdout):
            self._run(schools, staff)

    def _timed(self, label: str, action: Callable[[], T]) -> T:
        return timed(self.stdout, label, action, width=52, places=3)[0]

    def _run(self, schools: int, staff: int) -> None:

        started = time.perf_counter()
        demo_load()
        people = add_staff(schools=schools, staff=staff)
        self.stdout.write(
            f"Built in {time.perf_counter() - started:.1f} s: demo data plus {schools} academies, {people} employees"
        )
        analyse()
        self.stdout.write(f"Python {platform.python_version()}, Django {django.get_version()}, {connection.vendor}")

        code = Code.objects.get(slug="att-staff-code-of-conduct")
        clerk = Person.objects.get(email="clerk@att.example")
        chair = Person.objects.get(email="chair@att.example")
        current = code.versions.get()
        clauses = Clause.objects.filter(section__version=current).count()
        self.stdout.write(f"Staff code: {clauses} clauses in {current.sections.count()} sections")

        self._timed(
            "start a draft (copy the version in force)", lambda: drafting.draft_start(code=code, created_by=clerk).label
        )
        draft = code.versions.get(status="draft")
        self._timed("reword 20 clauses, one edit each", lambda: reword(draft, clerk, 20))
        self._timed("diff the draft against the version in force", lambda: diff_versions(current, draft).summary())
        with fresh_keys(draft):
            self._timed(
                "diff two unrelated copies (wording matched, no keys)", lambda: diff_versions(current, draft).summary()
            )
        board = Organisation.objects.get(slug="att-board")
        meeting = Meeting.objects.create(
            board=board, held_on=timezone.localdate() - timedelta(days=1), title="Benchmark meeting"
        )
        adopted = self._timed(
            "adopt for every academy (opens the signing round)", lambda: adopt(draft, board, meeting, chair)
        )
        adoption = adopted.adoption
        self.stdout.write(f"    obligations opened: {adopted.opened:,}")
        self._timed(
            "render, seal and store the certificate",
            lambda: f"{adoption_certificate_issue(adoption_id=adoption.pk).size:,} bytes",
        )
        self._timed(
            "issue again (returns the stored PDF)", lambda: adoption_certificate_issue(adoption_id=adoption.pk).pk
        )


def add_staff(*, schools: int, staff: int) -> int:

    trust = Organisation.objects.get(slug="att")
    created = 0
    for n in range(schools):
        school = Organisation.objects.create(
            name=f"Benchmark Academy {n}", slug=f"bench-academy-{n}", kind=OrganisationKind.SCHOOL, parent=trust
        )
        people = Person.objects.bulk_create(
            [Person(email=f"bench{n}-{i}@att.example", full_name=f"Staff {n}-{i}") for i in range(staff)],
            batch_size=BATCH,
        )
        if connection.vendor != "postgresql":  # SQLite's bulk_create does not return primary keys on older versions
            people = list(Person.objects.filter(email__startswith=f"bench{n}-"))
        Role.objects.bulk_create(
            [Role(person=p, organisation=school, kind=RoleKind.EMPLOYEE, starts_on=date(2022, 9, 1)) for p in people],
            batch_size=BATCH,
        )
        created += len(people)
    return created


def reword(draft: CodeVersion, clerk: Person, count: int) -> int:

    clauses = list(Clause.objects.filter(section__version=draft).order_by("section__position", "position")[::7][:count])
    for clause in clauses:
        revision = CodeVersion.objects.values_list("revision", flat=True).get(pk=draft.pk)
        drafting.clause_update(
            clause=clause,
            revision=revision,
            by=clerk,
            content=drafting.ClauseContent(
                text=clause.text + " (Reviewed.)",
                number=clause.number,
                style=clause.style,
                depth=clause.depth,
                term=clause.term,
                roles=tuple(clause.roles),
            ),
        )
    return len(clauses)


@contextmanager
def fresh_keys(version: CodeVersion) -> Iterator[None]:
    """Clause keys that match nothing in the old version, as for two trusts' separate copies of a model code."""

    original = dict(Clause.objects.filter(section__version=version).values_list("pk", "key"))
    Clause.objects.bulk_update([Clause(pk=pk, key=f"unrelated{pk}") for pk in original], ["key"], batch_size=BATCH)
    try:
        yield
    finally:
        Clause.objects.bulk_update([Clause(pk=pk, key=key) for pk, key in original.items()], ["key"], batch_size=BATCH)


@dataclass(frozen=True)
class Adopted:
    adoption: Adoption
    opened: int  # obligations the adoption opened

    def __str__(self) -> str:  # the timing line shows the adoption itself
        return str(self.adoption)


def adopt(draft: CodeVersion, board: Organisation, meeting: Meeting, chair: Person) -> Adopted:

    adoption = adoption_record(
        request=AdoptionRequest(
            version=draft,
            board=board,
            meeting=meeting,
            chair=chair,
            chair_signature=chair.full_name,
            effective_on=meeting.held_on,
            includes_sub_organisations=True,
        ),
        recorded_by=chair,
    )
    return Adopted(adoption, opened=Obligation.objects.filter(adoption=adoption).count())
