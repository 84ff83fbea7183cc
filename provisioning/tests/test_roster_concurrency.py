"""Two roster applies at the same moment (PostgreSQL, real transactions): the batch holds every person it changes."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from conduct.models import Person
from conduct.people import RoleGrant, roles_add_batch
from conduct.tests.factories import PersonFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_batch_holds_every_persons_row_until_it_commits(admin, tree):
    """Not only the first: another transaction cannot take any of them meanwhile (NOWAIT fails at once)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no row lock to see")
    people = [PersonFactory.create() for _ in range(3)]
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def batch() -> None:
        try:
            with transaction.atomic():
                grants = [RoleGrant(p, tree["north"], "volunteer", timezone.localdate()) for p in people]
                roles_add_batch(actor=admin, grants=grants)
                holding.set()
                release.wait(timeout=30)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            holding.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=batch)
    thread.start()
    try:
        assert holding.wait(timeout=60)
        for person in people:
            with pytest.raises(DatabaseError), transaction.atomic():
                Person.objects.select_for_update(nowait=True).get(pk=person.pk)
    finally:
        release.set()
        thread.join(timeout=60)
    assert not errors, errors
    assert all(Person.objects.get(pk=p.pk).roles.filter(kind="volunteer").exists() for p in people)
