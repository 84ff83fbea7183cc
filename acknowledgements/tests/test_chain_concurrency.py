"""Many people of one school signing at the same moment append to one evidence chain (PostgreSQL, real
transactions): every signature is chained exactly once, with no gap, and the chain verifies; a signer who finds
the chain's head taken does not wait for it: its entries are signed and queued, verify as pending, and the
sequencer (or the reconciliation sweep) appends them."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from acknowledgements.evidence_records import ACKNOWLEDGEMENT
from acknowledgements.integrity import evidence_chain_backfill, evidence_check, record_evidence
from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.models import Acknowledgement
from acknowledgements.reconcile import sweep_evidence_chain
from acknowledgements.signing import acceptance_statement, acknowledgement_sign
from acknowledgements.verification import verify_code
from conduct.tests.factories import CodeFactory, PersonFactory, RoleFactory, adopt, make_version, trust_tree
from core.evidence_chain import PENDING_FOR, chain_drain
from core.models import ChainHead, ChainQueue, EvidenceLink
from core.request_meta import AuthMethod, RequestMeta

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
# As many as fit: each signer holds its own connection, and the suite's other workers share PostgreSQL's limit.
SIGNERS = 24


def school_owing(count: int):
    """``count`` people of one school who owe its trust's staff code: (their school, them, the version)."""
    orgs = trust_tree("Chain Trust")
    code = CodeFactory.create(owner=orgs["trust"], title="Staff Code of Conduct", audience=["employee"])
    people = [PersonFactory.create() for _ in range(count)]
    for person in people:
        RoleFactory.create(person=person, organisation=orgs["north"], kind="employee", starts_on=date(2020, 9, 1))
    version = make_version(code)
    adopt(version, orgs["board"])
    version.refresh_from_db()
    return orgs["north"], people, version


def sign_now(person, version):
    return acknowledgement_sign(
        person=person,
        version=version,
        typed_name=person.full_name,
        statement=acceptance_statement(version),
        declaration=None,
        request_meta=RequestMeta(ip_address="192.0.2.1", user_agent="test", auth_method=AuthMethod.PASSWORD),
        issue_pdf=False,
    )


def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing can race; CI runs the suite on PostgreSQL")


def test_concurrent_signers_of_one_school_leave_a_gapless_chain_that_verifies():
    needs_postgresql()
    school, people, version = school_owing(SIGNERS)
    barrier = threading.Barrier(SIGNERS)
    created: list[bool] = []
    errors: list[BaseException] = []

    def signer(person) -> None:
        try:
            barrier.wait(timeout=30)
            created.append(sign_now(person, version).created)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=signer, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert created == [True] * SIGNERS
    scope = school.pk
    chain_drain(scope)  # what the signers' own sequencer steps left (each waits a moment for the head, no more)
    assert not ChainQueue.objects.exists()
    assert Acknowledgement.objects.filter(version=version).count() == SIGNERS
    seqs = list(EvidenceLink.objects.filter(scope=scope).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 2 * SIGNERS + 1))  # the record and its event per signature, no gap, no repeat
    chained = set(
        EvidenceLink.objects.filter(scope=scope, record_type="acknowledgements.acknowledgement").values_list(
            "record_id", flat=True
        )
    )
    assert chained == set(Acknowledgement.objects.filter(version=version).values_list("pk", flat=True))
    head = ChainHead.objects.get(scope=scope)
    last = EvidenceLink.objects.get(scope=scope, seq=2 * SIGNERS)
    assert (head.seq, head.head_hash) == (2 * SIGNERS, last.link_hash)
    report = evidence_check()
    assert report.ok, [finding.as_dict() for finding in report.findings]
    assert report.counts["chain entries"] >= 2 * SIGNERS


class HeadHolder:
    """Another transaction holding a chain's head (as a signer between its append and its commit does)."""

    def __init__(self, scope: int) -> None:
        self.scope, self.held, self.release = scope, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        try:
            with transaction.atomic():
                ChainHead.objects.select_for_update().get(scope=self.scope)
                self.held.set()
                self.release.wait(timeout=60)
        finally:
            connections.close_all()

    def __enter__(self) -> HeadHolder:
        self.thread.start()
        assert self.held.wait(timeout=30)
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.thread.join(timeout=30)


def test_a_signer_who_finds_the_head_taken_is_queued_verifies_as_pending_and_is_chained_after():
    needs_postgresql()
    school, (first, second), version = school_owing(2)
    sign_now(first, version)  # makes the chain's head: 2 entries
    with HeadHolder(school.pk):
        # Had it waited for the head, it would still be waiting (the holder lets go only below) and then have
        # appended at once; queued entries show it went on without the head. Its own sequencer step gives up.
        ack = sign_now(second, version).acknowledgement
        queued = list(ChainQueue.objects.order_by("id").values_list("record_type", "record_id"))
        assert queued == [("acknowledgements.acknowledgement", ack.pk), ("acknowledgements.auditevent", queued[1][1])]
        assert not EvidenceLink.objects.filter(record_type="acknowledgements.acknowledgement", record_id=ack.pk)
        evidence = record_evidence(ACKNOWLEDGEMENT, ack)
        assert evidence.ok and evidence.queued is not None and evidence.link is None
        report = evidence_check()
        assert report.ok, [finding.as_dict() for finding in report.findings]
        assert report.counts["waiting for their chain"] == 2
    # /verify/ by code (its PDF issued meanwhile, chained at once: the head is free again) says it is pending.
    acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False)
    verification = verify_code(ack.verification_code)
    assert verification.verified, verification.reasons
    assert any("waiting for its place in its organisation's evidence chain" in check for check in verification.checks)
    assert chain_drain(school.pk) == 2
    assert not ChainQueue.objects.exists()
    seqs = list(EvidenceLink.objects.filter(scope=school.pk).order_by("seq").values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4, 5, 6]  # the PDF's entry, and its event, went in before the queued pair
    verification = verify_code(ack.verification_code)
    assert verification.verified and not any("waiting" in check for check in verification.checks)
    assert (
        ChainHead.objects.get(scope=school.pk).head_hash == EvidenceLink.objects.get(scope=school.pk, seq=6).link_hash
    )
    assert record_evidence(ACKNOWLEDGEMENT, ack).link is not None
    report = evidence_check()
    assert report.ok and report.counts["waiting for their chain"] == 0


def test_an_entry_left_queued_too_long_is_reported_then_chained_by_the_sweep():
    needs_postgresql()
    school, (first, second), version = school_owing(2)
    sign_now(first, version)
    with HeadHolder(school.pk):
        ack = sign_now(second, version).acknowledgement
    ChainQueue.objects.update(created_at=timezone.now() - PENDING_FOR - timedelta(minutes=1))  # its step was lost
    problems = {finding.item: finding.problem for finding in evidence_check().findings}
    assert "waited for its place in chain" in problems[f"acknowledgement {ack.pk}"]
    assert sweep_evidence_chain(timezone.now()) == 2
    assert evidence_check().ok and not ChainQueue.objects.exists()


def test_a_queued_entry_changed_before_it_is_chained_is_caught():
    needs_postgresql()
    school, (first, second), version = school_owing(2)
    sign_now(first, version)
    with HeadHolder(school.pk):
        ack = sign_now(second, version).acknowledgement
    row = ChainQueue.objects.get(record_type="acknowledgements.acknowledgement")
    ChainQueue.objects.filter(pk=row.pk).update(payload=row.payload.replace(ack.content_hash, "f" * 64))
    evidence = record_evidence(ACKNOWLEDGEMENT, ack)
    assert not evidence.ok
    assert any("signature is not valid" in problem for problem in evidence.problems)
    assert any("no longer matches what was signed (content_hash)" in problem for problem in evidence.problems)
    assert not evidence_check().ok


def test_the_backfill_leaves_queued_entries_to_the_sequencer():
    needs_postgresql()
    school, (first, second), version = school_owing(2)
    sign_now(first, version)
    with HeadHolder(school.pk):
        ack = sign_now(second, version).acknowledgement
    evidence_chain_backfill()
    assert not EvidenceLink.objects.filter(record_type="acknowledgements.acknowledgement", record_id=ack.pk).exists()
    assert chain_drain(school.pk) == 2  # the drain does not meet an entry the backfill made meanwhile
    assert evidence_check().ok and not ChainQueue.objects.exists()
