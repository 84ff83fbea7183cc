"""Two erasures of one person at the same moment (a double click, two tabs) erase once (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from conduct.models import AuditAction, AuditLogEntry, Person
from core.models import Tombstone
from privacy.erasure import person_erase
from privacy.models import ErasureRecord
from privacy.tests.factories import signed_person

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]


def test_two_erasures_at_once_make_one_record_one_audit_entry_and_one_set_of_tombstones():
    signed = signed_person()
    start = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def erase() -> None:
        try:
            start.wait()
            actor = Person.objects.get(pk=signed.admin.pk)
            record = person_erase(
                actor=actor, person=signed.person, reason="Request of 3 November", basis="erasure_request"
            )
            results.append(record.pk)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=erase) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == 2 and len(set(results)) == 1
    assert ErasureRecord.objects.count() == 1
    assert AuditLogEntry.objects.filter(action=AuditAction.PERSON_ERASED).count() == 1
    assert Tombstone.objects.filter(record_type="acknowledgements.acknowledgement").count() == 1
