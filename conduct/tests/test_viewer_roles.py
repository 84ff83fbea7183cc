"""The signed-in user's current roles, read in the user's own statement: grants and reach answered with no query,
the same as the queries that answer them for a user read otherwise."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conduct.branding import signed_in_user
from conduct.models import Organisation, Person
from conduct.permissions import (
    GRANTS_CACHE_ATTRIBUTE,
    VIEWER_ROLES_ATTRIBUTE,
    grants_for,
    role_kinds_under,
    with_viewer_roles,
)
from conduct.tests.factories import PersonFactory, RoleFactory, trust_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    """People with every shape of role: officers of a trust, of a board that governs a trust and of a local board,
    staff, someone with an ended role and one not yet begun, two trusts at once, and nobody at all."""
    oak, elm = trust_tree("Oak Trust"), trust_tree("Elm Trust")
    today = timezone.localdate()
    shapes: dict[str, list[tuple[Organisation, str, date | None]]] = {
        "trust admin": [(oak["trust"], "admin", None)],
        "board chair": [(oak["board"], "chair", None), (oak["board"], "trustee", None)],
        "local clerk": [(oak["north_lgb"], "clerk", None)],
        "teacher": [(oak["north"], "employee", None)],
        "ended": [(oak["south"], "employee", today - timedelta(days=1)), (oak["south"], "admin", today)],
        "two trusts": [(oak["south"], "employee", None), (elm["north_lgb"], "local_governor", None)],
        "nobody": [],
    }
    found = {}
    for label, roles in shapes.items():
        person = PersonFactory.create(full_name=label.title())
        for organisation, kind, ends_on in roles:
            RoleFactory.create(
                person=person, organisation=organisation, kind=kind, starts_on=date(2020, 9, 1), ends_on=ends_on
            )
        found[label] = person
    RoleFactory.create(person=found["teacher"], organisation=oak["south"], kind="admin", starts_on=today + timedelta(1))
    return found, oak, elm


def _signed_in(person: Person) -> Person:
    user = signed_in_user(person.pk)
    assert user is not None
    return user


def _read_otherwise(person: Person) -> Person:
    fresh = Person.objects.get(pk=person.pk)
    assert not hasattr(fresh, VIEWER_ROLES_ATTRIBUTE)
    return fresh


def test_the_grants_read_with_the_user_are_those_the_query_reads(people):
    found, oak, _elm = people
    for label, person in found.items():
        signed_in = _signed_in(person)
        assert hasattr(signed_in, VIEWER_ROLES_ATTRIBUTE)
        with CaptureQueriesContext(connection) as queries:
            from_the_user = grants_for(signed_in)
        assert len(queries) == 0, label
        assert set(from_the_user) == set(grants_for(_read_otherwise(person))), label
    board_chair = grants_for(_signed_in(found["board chair"]))
    assert [(g.kind, g.path, g.governs_path) for g in board_chair] == [("chair", oak["board"].path, oak["trust"].path)]
    assert grants_for(_signed_in(found["ended"]))[0].kind == "admin"  # ends today: still held today
    assert grants_for(_signed_in(found["teacher"])) == ()  # the admin role begins tomorrow
    assert grants_for(_signed_in(found["nobody"])) == ()


def test_the_kinds_under_an_organisation_read_with_the_user_are_those_the_query_reads(people):
    found, oak, elm = people
    places = [oak["trust"], oak["north"], oak["south"], oak["board"], oak["north_lgb"], elm["trust"], elm["south"]]
    for label, person in found.items():
        signed_in = _signed_in(person)
        for organisation in places:
            with CaptureQueriesContext(connection) as queries:
                kinds = role_kinds_under(signed_in, organisation.path)
            assert len(queries) == 0
            assert kinds == role_kinds_under(_read_otherwise(person), organisation.path), (label, organisation)
    two = _signed_in(found["two trusts"])
    assert role_kinds_under(two, oak["trust"].path) == {"employee"}
    assert role_kinds_under(two, elm["trust"].path) == {"local_governor"}
    assert role_kinds_under(_signed_in(found["ended"]), oak["trust"].path) == {"admin"}


def test_the_roles_are_those_current_on_the_day_asked(people):
    found, _oak, _elm = people
    tomorrow = timezone.localdate() + timedelta(days=1)
    with time_machine.travel(tomorrow, tick=False):
        ended = _signed_in(found["ended"])
        teacher = _signed_in(found["teacher"])
    assert grants_for(ended) == () and {g.kind for g in grants_for(teacher)} == {"admin"}
    annotated = with_viewer_roles(Person.objects.filter(pk=found["two trusts"].pk)).get()  # through the ORM
    assert sorted(kind for kind, _path, _governs in getattr(annotated, VIEWER_ROLES_ATTRIBUTE)) == [
        "employee",
        "local_governor",
    ]
    nobody = with_viewer_roles(Person.objects.filter(pk=found["nobody"].pk)).get()
    assert getattr(nobody, VIEWER_ROLES_ATTRIBUTE) is None


def test_a_signed_in_officer_s_pages_read_no_roles_of_their_own(people, client_for):
    found, _oak, _elm = people
    client = client_for(found["trust admin"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200 and "Reports" in response.content.decode()
    role_reads = [q["sql"] for q in queries if '"conduct_role"' in q["sql"]]
    assert sum("viewer_roles" in sql for sql in role_reads) == 1  # the user's statement
    # No read of the officer roles besides it (the grants' query asked for admin, chair and clerk roles).
    assert not [sql for sql in role_reads if "viewer_roles" not in sql and "'clerk'" in sql]
    user = response.wsgi_request.user
    assert getattr(user, GRANTS_CACHE_ATTRIBUTE)[0].kind == "admin"
