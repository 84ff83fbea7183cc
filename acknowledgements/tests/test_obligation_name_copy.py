"""An obligation's copy of its person's name (migration 0017's triggers), which the drill-down walks in order.

Whatever writes a person or an obligation (the services, a bulk update, raw SQL), every obligation holds its
person's name as it stands, on SQLite and PostgreSQL alike; the obligation tally is not moved by it.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections, transaction

from acknowledgements.models import Obligation, ObligationTally
from acknowledgements.tests.factories import owing
from conduct.models import Person, Role
from conduct.services import role_create
from conduct.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def names(person: Person) -> set[str | None]:
    return set(Obligation.objects.filter(person=person).values_list("person_full_name", flat=True))


def tally() -> list[tuple]:
    return sorted(ObligationTally.objects.values_list("organisation_id", "role_kind", "due_on", "n"))


def test_an_obligation_opened_for_someone_takes_their_name():
    who = owing(full_name="Ann Able")
    assert Obligation.objects.filter(person=who.person).count() == 1
    assert names(who.person) == {"Ann Able"}


def test_a_corrected_name_reaches_every_obligation_and_moves_nothing_in_the_tally():
    who = owing(full_name="Ann Albe")
    other = PersonFactory.create(full_name="Ben Baker")
    role_create(person=other, organisation=who.orgs["north"], kind="employee", starts_on=date(2021, 9, 1))
    before = tally()
    who.person.full_name = "Ann Able"
    who.person.save(update_fields=["full_name"])
    assert names(who.person) == {"Ann Able"} and names(other) == {"Ben Baker"}
    with connection.cursor() as cursor:  # below the ORM, several people in one statement
        cursor.execute("UPDATE conduct_person SET full_name = full_name || ' (checked)'")
    assert names(who.person) == {"Ann Able (checked)"} and names(other) == {"Ben Baker (checked)"}
    assert tally() == before


def test_whatever_a_write_puts_in_the_copy_is_replaced_by_the_persons_name():
    who = owing(full_name="Ann Able")
    obligation = Obligation.objects.get(person=who.person)
    obligation.person_full_name = "Somebody Else"
    obligation.save()
    assert names(who.person) == {"Ann Able"}
    Obligation.objects.filter(pk=obligation.pk).update(person_full_name=None)
    assert names(who.person) == {"Ann Able"}
    ben = PersonFactory.create(full_name="Ben Baker")
    Role.objects.filter(pk=obligation.role_id).update(person=ben)
    Obligation.objects.filter(pk=obligation.pk).update(person=ben)
    assert names(ben) == {"Ben Baker"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_an_obligation_opened_while_the_name_is_being_corrected_takes_the_corrected_name():
    who = owing(full_name="Ann Albe")
    opened = threading.Event()
    errors: list[BaseException] = []

    first = Obligation.objects.get(person=who.person)
    fields = {
        name: getattr(first, name)
        for name in ("person_id", "version_id", "code_id", "role_id", "organisation_id", "adoption_id", "owed_from")
    }
    fields["due_on"] = first.due_on
    first.delete()  # opened again below, by the other transaction, as the services open one

    def open_again() -> None:
        try:
            Obligation.objects.create(**fields)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            opened.set()
            connections.close_all()

    with transaction.atomic():
        Person.objects.filter(pk=who.person.pk).update(full_name="Ann Able")
        thread = threading.Thread(target=open_again)
        thread.start()
        assert not opened.wait(timeout=1.0)  # held back by the correction's lock on the person
    thread.join(timeout=30)
    assert errors == []
    assert Obligation.objects.filter(person=who.person).exists()
    assert names(who.person) == {"Ann Able"}
