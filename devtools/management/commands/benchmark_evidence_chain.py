"""manage.py benchmark_evidence_chain: 200 signers of one organisation at once, and how long each holds its chain.

Every signature of an organisation appends to the same chain, whose head row is the chain's only lock
(docs/evidence.md). This builds one trust with ``--signers`` people owing its code, all in one school
(one chain, the worst case), then has them sign through ``acknowledgement_sign`` from ``--processes``
processes at once (each its own database connection, as web workers have; PostgreSQL's connection
limit caps them).
A signer takes the head only if it is free (SKIP LOCKED) and then holds it to its commit; one that finds it
taken queues its signed entries and runs the sequencer after its commit. For each signature this records
which it did, how long a signer held the head (row lock to commit), each sequencer batch (how long it
waited for the head, held it, and how many entries it appended) and the whole signature. It then checks
that the chain is gapless and verifies. Figures go into docs/benchmarks.md by hand.
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

from core.evidence_chain import chain_drain, chain_findings
from core.evidence_keys import verification_keys
from core.models import ChainHead, EvidenceLink
from devtools.benchmarking import throwaway_database

RESERVE = "core_chainhead"  # the salts' insert with the head's reservation (SKIP LOCKED on PostgreSQL)
QUEUE = 'INSERT INTO "core_chainqueue"'
DRAIN_LOCK = "SELECT seq, head_hash FROM core_chainhead WHERE scope = %s FOR UPDATE"
DRAIN_TAKE = "DELETE FROM core_chainqueue"
_JOB: dict = {}  # what the forked signers share: the version and its acceptance statement


def _sign(person_id: int) -> dict:
    """One signer, in its own process and connection: whether it appended at once or was queued, how long it
    held the head (lock → commit), and every sequencer batch it ran after its commit (wait, hold, size)."""
    from acknowledgements.signing import acknowledgement_sign
    from conduct.models import Person
    from core.request_meta import AuthMethod, RequestMeta

    times: dict = {"queued": False, "drains": []}

    def watch(execute, sql, params, many, context):
        now = time.perf_counter()
        result = execute(sql, params, many, context)
        after = time.perf_counter()
        if sql.startswith(DRAIN_LOCK):
            drain = {"asked": now, "locked": after, "size": 0}
            times["drains"].append(drain)
            transaction.on_commit(lambda: drain.__setitem__("committed", time.perf_counter()))
        elif sql.startswith(DRAIN_TAKE):
            times["drains"][-1]["size"] = context["cursor"].rowcount
        elif sql.startswith(QUEUE):
            times["queued"] = True
        elif RESERVE in sql:  # the reservation, and (head taken) making it or waiting a moment for it
            if "asked" not in times:
                times["asked"] = now
                transaction.on_commit(lambda: times.setdefault("committed", time.perf_counter()))
            times["locked"] = after
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
    if not values:
        return "none"
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
        inline = [r for r in results if not r["queued"]]
        held = [(r["committed"] - r["locked"]) * 1000 for r in inline]
        drains = [d for r in results for d in r["drains"] if "committed" in d]
        batches = [d for d in drains if d["size"]]
        total = [(r["end"] - r["start"]) * 1000 for r in results]
        leftover = chain_drain(orgs["north"].pk)  # what every sequencer step left (none expected)
        head = ChainHead.objects.get(scope=orgs["north"].pk)
        links = EvidenceLink.objects.filter(scope=orgs["north"].pk).count()
        signed = Acknowledgement.objects.filter(version=version).count()
        report = chain_findings(
            head.scope, EvidenceLink.objects.filter(scope=head.scope).order_by("seq"), head, verification_keys()
        )
        out = self.stdout.write
        out(f"  signatures                  {signed} of {signers} in {wall:.2f} s ({signed / wall:.0f}/s)")
        out(f"  chain entries / head seq    {links} / {head.seq} (2 per signature: the record and its event)")
        out(f"  chain verifies              {'yes' if not report.findings else report.findings[:3]}")
        out(f"  appended at once / queued   {len(inline)} / {signers - len(inline)} signatures")
        out(f"  signer waited for the head  {_ms([(r['locked'] - r['asked']) * 1000 for r in inline])}")
        out(f"  head held by a signer       {_ms(held)}  (lock → commit)")
        if batches:
            sizes = sorted(d["size"] for d in batches)
            out(
                f"  sequencer batches           {len(batches)} with entries ({len(drains) - len(batches)} found none); "
                f"entries per batch median {statistics.median(sizes):.0f}, max {sizes[-1]}"
            )
            out(f"  head held by the sequencer  {_ms([(d['committed'] - d['locked']) * 1000 for d in batches])}")
            out(f"  sequencer waited for head   {_ms([(d['locked'] - d['asked']) * 1000 for d in drains])}")
        out(f"  left for the sweep          {leftover} entries")
        out(f"  whole signature             {_ms(total)}  (with its sequencer step after the commit)")
        if signed != signers or head.seq != links or links != 2 * signers or report.findings:
            raise CommandError("Not every signature was chained exactly once.")
