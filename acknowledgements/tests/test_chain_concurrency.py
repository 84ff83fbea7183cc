"""Many people of one school signing at the same moment append to one evidence chain (PostgreSQL, real
transactions): every signature is chained exactly once, with no gap, and the chain verifies."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections

from acknowledgements.integrity import evidence_check
from acknowledgements.models import Acknowledgement
from acknowledgements.signing import acceptance_statement, acknowledgement_sign
from conduct.tests.factories import CodeFactory, PersonFactory, RoleFactory, adopt, make_version, trust_tree
from core.models import ChainHead, EvidenceLink
from core.request_meta import AuthMethod, RequestMeta

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
# As many as fit: each signer holds its own connection, and the suite's other workers share PostgreSQL's limit.
SIGNERS = 24


def test_concurrent_signers_of_one_school_leave_a_gapless_chain_that_verifies():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing can race; CI runs the suite on PostgreSQL")
    orgs = trust_tree("Chain Trust")
    code = CodeFactory.create(owner=orgs["trust"], title="Staff Code of Conduct", audience=["employee"])
    people = [PersonFactory.create() for _ in range(SIGNERS)]
    for person in people:
        RoleFactory.create(person=person, organisation=orgs["north"], kind="employee", starts_on=date(2020, 9, 1))
    version = make_version(code)
    adopt(version, orgs["board"])
    version.refresh_from_db()
    statement = acceptance_statement(version)
    meta = RequestMeta(ip_address="192.0.2.1", user_agent="test", auth_method=AuthMethod.PASSWORD)
    barrier = threading.Barrier(SIGNERS)
    created: list[bool] = []
    errors: list[BaseException] = []

    def signer(person) -> None:
        try:
            barrier.wait(timeout=30)
            result = acknowledgement_sign(
                person=person,
                version=version,
                typed_name=person.full_name,
                statement=statement,
                declaration=None,
                request_meta=meta,
                issue_pdf=False,
            )
            created.append(result.created)
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
    scope = orgs["north"].pk
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
