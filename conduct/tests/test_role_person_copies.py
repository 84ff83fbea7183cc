"""A role's copies of its person's sort columns (migration 0013's triggers), which the people directory walks.

Whatever writes a person or a role (the ORM, a bulk update, raw SQL), every role holds its person's name, email,
last sign-in and joining date as they stand, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection, connections, transaction

from conduct.models import Organisation, Person, Role
from conduct.tests.factories import OrganisationFactory, PersonFactory, RoleFactory

pytestmark = pytest.mark.django_db

COPIES = ("person_full_name", "person_email", "person_last_login", "person_date_joined")


def copies(role: Role) -> tuple:
    return tuple(Role.objects.filter(pk=role.pk).values_list(*COPIES).get())


def person_columns(person: Person) -> tuple:
    return tuple(
        Person.objects.filter(pk=person.pk).values_list("full_name", "email", "last_login", "date_joined").get()
    )


def test_a_new_role_takes_its_persons_columns_whatever_the_orm_wrote():
    person = PersonFactory.create(full_name="Ann Able", email="ann@example.org")
    role = RoleFactory.create(person=person)
    assert copies(role) == ("Ann Able", "ann@example.org", None, person.date_joined)
    role.person_full_name = "Somebody Else"
    role.title = "Teacher"
    role.save()  # a full save writes the stale or spoilt copy back: the database puts the person's back
    assert copies(role) == person_columns(person)
    assert Role.objects.get(pk=role.pk).title == "Teacher"


def test_every_change_to_a_persons_columns_reaches_each_of_their_roles():
    person = PersonFactory.create(full_name="Ann Able", email="ann@example.org")
    roles = [RoleFactory.create(person=person), RoleFactory.create(person=person, kind="volunteer")]
    other = RoleFactory.create(person=PersonFactory.create(full_name="Ben Other"))
    person.full_name = "Ann Abel"
    person.save(update_fields=["full_name"])
    Person.objects.filter(pk=person.pk).update(email="ann.abel@example.org")
    signed_in = datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC)
    person.last_login = signed_in
    person.save(update_fields=["last_login"])  # what signing in does
    with connection.cursor() as cursor:  # below the ORM too
        cursor.execute("UPDATE conduct_person SET date_joined = %s WHERE id = %s", [signed_in, person.pk])
    for role in roles:
        assert copies(role) == ("Ann Abel", "ann.abel@example.org", signed_in, signed_in)
    assert copies(other)[0] == "Ben Other"


def test_one_statement_changing_many_people_copies_each_ones_own_columns():
    people = [PersonFactory.create(full_name=f"Person {n}", email=f"p{n}@example.org") for n in range(30)]
    roles = [RoleFactory.create(person=person) for person in people for _ in range(2)]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE conduct_person SET full_name = full_name || ' (checked)', last_login = date_joined")
    for role in roles:
        assert copies(role) == person_columns(role.person)
        assert copies(role)[0].endswith(" (checked)")


def test_a_role_given_to_someone_else_takes_their_columns_and_bulk_created_roles_take_theirs():
    ann, ben = PersonFactory.create(full_name="Ann Able"), PersonFactory.create(full_name="Ben Baker")
    role = RoleFactory.create(person=ann)
    Role.objects.filter(pk=role.pk).update(person=ben)
    assert copies(role) == person_columns(ben)
    organisation = OrganisationFactory.create()
    Role.objects.bulk_create(
        [Role(person=p, organisation=organisation, kind="employee", starts_on=date(2024, 9, 1)) for p in (ann, ben)]
    )
    made = Role.objects.filter(organisation=organisation)
    assert set(made.values_list("person_full_name", flat=True)) == {"Ann Able", "Ben Baker"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_a_role_added_while_the_name_is_being_corrected_takes_the_corrected_name():
    """The correction's transaction has copied the new name to the roles it can see; a role inserted meanwhile by
    another transaction waits for the person's row (FOR SHARE) and then reads the corrected name, instead of the
    old one the correction could never reach."""
    person = PersonFactory.create(full_name="Ann Albe")
    RoleFactory.create(person=person)
    organisation = OrganisationFactory.create()
    inserted = threading.Event()
    errors: list[BaseException] = []

    def add_role() -> None:
        try:
            Role.objects.create(
                person_id=person.pk,
                organisation=Organisation.objects.get(pk=organisation.pk),
                kind="volunteer",
                starts_on=date(2024, 9, 1),
            )
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            inserted.set()
            connections.close_all()

    with transaction.atomic():
        Person.objects.filter(pk=person.pk).update(full_name="Ann Able")
        thread = threading.Thread(target=add_role)
        thread.start()
        assert not inserted.wait(timeout=1.0)  # held back by the correction's lock on the person
    thread.join(timeout=30)
    assert errors == []
    assert set(Role.objects.filter(person=person).values_list("person_full_name", flat=True)) == {"Ann Able"}
