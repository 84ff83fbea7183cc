"""manage.py benchmark_evidence_chain: 200 signers of one organisation at once, and how long each holds its chain.

Every signature of an organisation appends to the same chain, whose head row is the chain's only lock
(docs/evidence.md). This builds one trust with ``--signers`` people owing its code, all in one school
(one chain, the worst case), then has them sign through ``acknowledgement_sign`` from ``--processes``
processes at once (each its own database connection, as web workers have; PostgreSQL's connection
limit caps them).
For each signature it records how long it waited for the head row, how long it held it (from the
row lock to the commit) and the whole signature. Figures go into docs/benchmarks.md by hand.
Needs PostgreSQL (``DATABASE_URL``); runs in a throwaway database.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import override_settings

from core.models import ChainHead, EvidenceLink
from devtools.benchmarking import throwaway_database

RESERVE = "INSERT INTO core_chainhead"
_JOB: dict = {}  # what the forked signers share: the version and its acceptance statement


def _sign(person_id: int) -> dict[str, float]:
    """One signer, in its own process and connection: the times it asked for, got and let go of the head."""
    from acknowledgements.signing import acknowledgement_sign
    from conduct.models import Person
    from core.request_meta import AuthMethod, RequestMeta

    times: dict[str, float] = {}

    def watch(execute, sql, params, many, context):
        if sql.startswith(RESERVE):
            times["asked"] = time.perf_counter()
            result = execute(sql, params, many, context)
            times["locked"] = time.perf_counter()
            transaction.on_commit(lambda: times.__setitem__("committed", time.perf_counter()))
            return result
        result = execute(sql, params, many, context)
        if sql.startswith('INSERT INTO "core_evidencelink"'):
            times["inserted"] = time.perf_counter()
        return result

    person = Person.objects.get(pk=person_id)
    meta = RequestMeta(ip_address="192.0.2.1", user_agent="benchmark", auth_method=AuthMethod.PASSWORD)
    start = time.perf_counter()
    with connection.execute_wrapper(watch):
        acknowledgement_sign(
            person=person,
            version=_JOB["version"],
            typed_name=person.full_name,
            statement=_JOB["statement"],
            declaration=None,
            request_meta=meta,
            issue_pdf=False,
        )
    times["end"], times["start"] = time.perf_counter(), start
    return times


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):7.2f} ms · p95 {p95:7.2f} ms · max {ordered[-1]:7.2f} ms"


class Command(BaseCommand):
    help = "Sign concurrently in one organisation and measure how long each signature holds the chain's head."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--signers", type=int, default=200)
        parser.add_argument("--processes", type=int, default=32, help="Signatures in flight at once (connections).")

    def handle(self, *args, signers: int, processes: int, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Needs PostgreSQL: set DATABASE_URL (SQLite writes one transaction at a time).")
        # Making the people with the production password hasher would take longer than signing.
        fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
        with throwaway_database("chainbench", self.stdout), fast:
            self._run(signers, processes)

    def _run(self, signers: int, processes: int) -> None:
        from acknowledgements.models import Acknowledgement
        from acknowledgements.signing import acceptance_statement
        from conduct.tests.factories import CodeFactory, PersonFactory, RoleFactory, adopt, make_version, trust_tree

        orgs = trust_tree("Benchmark Trust")
        code = CodeFactory.create(owner=orgs["trust"], title="Benchmark Code of Conduct", audience=["employee"])
        people = [PersonFactory.create() for _ in range(signers)]
        for person in people:
            RoleFactory.create(person=person, organisation=orgs["north"], kind="employee", starts_on=date(2020, 9, 1))
        version = make_version(code)
        adopt(version, orgs["board"])
        version.refresh_from_db()
        statement = acceptance_statement(version)
        ids = [person.pk for person in people]
        self.stdout.write(f"{signers} people of one school owe {code.title}; {processes} processes sign at once …")

        _JOB.update(version=version, statement=statement)
        connection.close()  # each process opens its own connection after the fork
        wall = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(processes=processes) as pool:
            results = pool.map(_sign, ids, chunksize=1)
        wall = time.perf_counter() - wall
        held = [(r["committed"] - r["locked"]) * 1000 for r in results]
        waited = [(r["locked"] - r["asked"]) * 1000 for r in results]
        committing = [(r["committed"] - r["inserted"]) * 1000 for r in results]
        total = [(r["end"] - r["start"]) * 1000 for r in results]
        head = ChainHead.objects.get(scope=orgs["north"].pk)
        links = EvidenceLink.objects.filter(scope=orgs["north"].pk).count()
        signed = Acknowledgement.objects.filter(version=version).count()
        self.stdout.write(
            f"  signatures                  {signed} of {signers} in {wall:.2f} s ({signed / wall:.0f}/s)"
        )
        self.stdout.write(
            f"  chain entries / head seq    {links} / {head.seq} (2 per signature: the record and its event)"
        )
        self.stdout.write(f"  head held (lock → commit)   {_ms(held)}")
        self.stdout.write(f"  … of which the commit       {_ms(committing)}")
        self.stdout.write(f"  waited for the head         {_ms(waited)}")
        self.stdout.write(f"  whole signature             {_ms(total)}")
        if signed != signers or head.seq != links:
            raise CommandError("Not every signature was chained exactly once.")
