"""Regressions for what a probe of the people pages found: bad input answers 400 with a message, never 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from acknowledgements.models import Obligation
from conduct.models import AuditLogEntry, Person, Role

pytestmark = pytest.mark.django_db

ERROR_SUMMARY = "data-error-summary"


def _text(response) -> str:
    return response.content.decode()


def test_an_audit_link_with_a_person_id_too_long_for_any_key_is_refused_not_a_server_error(world, client_for):
    entries = AuditLogEntry.objects.count()
    response = client_for(world.trust_admin).get(reverse("people:audit"), {"subject": "9" * 20})
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to" in _text(response)
    assert AuditLogEntry.objects.count() == entries


@pytest.mark.parametrize(
    "name, args",
    [
        ("people:edit", ()),
        ("people:leaver", ()),
        ("people:role_add", ()),
        ("people:role_end", ("role",)),
        ("people:role_move", ("role",)),
    ],
)
def test_an_empty_post_is_a_rejected_form_with_its_errors_and_changes_nothing(world, client_for, name, args):
    ada = world.oak.person
    role = ada.roles.get()
    url = reverse(name, args=[ada.pk, *(role.pk for _ in args)])
    before = (Person.objects.get(pk=ada.pk).full_name, list(Role.objects.values_list("pk", "ends_on")))
    owed = Obligation.objects.filter(person=ada).count()

    response = client_for(world.trust_admin).post(url, {})

    assert response.status_code == 400
    text = _text(response)
    assert ERROR_SUMMARY in text
    assert (Person.objects.get(pk=ada.pk).full_name, list(Role.objects.values_list("pk", "ends_on"))) == before
    assert Obligation.objects.filter(person=ada).count() == owed


def test_the_address_erasure_writes_cannot_be_given_to_a_live_person(world, client_for):
    ada = world.oak.person
    email = ada.email
    response = client_for(world.trust_admin).post(
        reverse("people:edit", args=[ada.pk]), {"full_name": ada.full_name, "email": f"erased-{ada.pk}@erased.invalid"}
    )
    assert response.status_code == 400
    assert "is not a valid email address" in _text(response)
    assert Person.objects.get(pk=ada.pk).email == email
