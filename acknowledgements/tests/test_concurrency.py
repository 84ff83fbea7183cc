"""Two requests signing at the same moment leave exactly one acknowledgement (PostgreSQL, real transactions)."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from acknowledgements.models import Acknowledgement, AuditEvent
from acknowledgements.tests.factories import owing, sign
from acknowledgements.tests.test_signing import form_data, sign_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CONCURRENT = 6


def test_concurrent_submissions_leave_one_acknowledgement():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing can race; CI runs the suite on PostgreSQL")
    who = owing(full_name="Ada Lovelace")
    clients = []
    for _ in range(CONCURRENT):
        client = Client()
        client.force_login(who.person)
        clients.append(client)
    barrier = threading.Barrier(CONCURRENT)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def submit(client: Client) -> None:
        try:
            barrier.wait(timeout=30)
            statuses.append(client.post(sign_url(who), form_data(who)).status_code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert statuses == [302] * CONCURRENT  # each one lands on the (single) record
    assert Acknowledgement.objects.filter(person=who.person, version=who.version).count() == 1
    assert AuditEvent.objects.filter(kind="signed").count() == 1


def test_the_database_constraint_refuses_a_second_acknowledgement_even_without_the_lock():
    """The backstop: an insert that skips the service's lock still cannot make a second record."""
    from django.db import IntegrityError, transaction

    who = owing(full_name="Ada Lovelace")
    first = sign(who, issue_pdf=False).acknowledgement
    duplicate = Acknowledgement(
        person=first.person,
        version=first.version,
        organisation=first.organisation,
        roles=first.roles,
        content_hash=first.content_hash,
        statement=first.statement,
        typed_name=first.typed_name,
        signed_at=first.signed_at,
        auth_method=first.auth_method,
        evidence_hash=first.evidence_hash,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    assert Acknowledgement.objects.count() == 1
