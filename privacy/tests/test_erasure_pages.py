"""The erasure and legal hold pages: reached from the person's page, by whom the predicate allows only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conduct.models import AuditAction, AuditLogEntry, Person
from conduct.tests.factories import PersonFactory, RoleFactory
from privacy.models import ErasureRecord, LegalHold
from privacy.tests.factories import SIGNER_EMAIL, SIGNER_NAME, signed_person

pytestmark = pytest.mark.django_db

REQUEST = "Letter of 2 November 2026 asking for erasure; no claim pending."


def _erase_url(person: Person) -> str:
    return reverse("privacy:erase", args=[person.pk])


def _post(client, person: Person, django_capture_on_commit_callbacks, **fields):
    data = {"basis": "erasure_request", "reason": REQUEST, "confirm_name": SIGNER_NAME, **fields}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(_erase_url(person), data)


def test_the_person_page_offers_erasure_and_a_hold_to_the_trust_admin_only(client_for):
    signed = signed_person()
    clerk = PersonFactory.create()
    RoleFactory.create(person=clerk, organisation=signed.who.orgs["trust"], kind="clerk")
    page = reverse("people:person", args=[signed.person.pk])

    admin_page = client_for(signed.admin).get(page).content.decode()
    assert _erase_url(signed.person) in admin_page and "Legal hold" in admin_page
    clerk_page = client_for(clerk).get(page)
    assert clerk_page.status_code == 200
    assert _erase_url(signed.person) not in clerk_page.content.decode()


def test_the_confirmation_page_says_what_goes_and_what_stays(client_for):
    signed = signed_person()
    response = client_for(signed.admin).get(_erase_url(signed.person))
    assert response.status_code == 200
    text = response.content.decode()
    assert "What is removed" in text and "What stays" in text and "Type the person&#x27;s name" in text


def test_the_wrong_name_erases_nothing(client_for, django_capture_on_commit_callbacks):
    signed = signed_person()
    response = _post(client_for(signed.admin), signed.person, django_capture_on_commit_callbacks, confirm_name="Ada")
    assert response.status_code == 400
    assert "not the name on record" in response.content.decode()
    assert Person.objects.get(pk=signed.person.pk).email == SIGNER_EMAIL
    assert not ErasureRecord.objects.exists()


def test_a_request_without_a_reason_is_refused_with_a_message(client_for, django_capture_on_commit_callbacks):
    signed = signed_person()
    response = _post(client_for(signed.admin), signed.person, django_capture_on_commit_callbacks, reason="")
    assert response.status_code == 400
    assert "Say what the erasure request is" in response.content.decode()
    assert not ErasureRecord.objects.exists()


def test_confirming_erases_and_returns_to_the_person_page(client_for, django_capture_on_commit_callbacks):
    signed = signed_person()
    client = client_for(signed.admin)
    response = _post(client, signed.person, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == reverse("people:person", args=[signed.person.pk])
    record = ErasureRecord.objects.get(person=signed.person)
    assert (record.basis, record.reason, record.erased_by) == ("erasure_request", REQUEST, signed.admin)
    page = client.get(response["Location"]).content.decode()
    assert f"Erased person {signed.person.pk}" in page and SIGNER_NAME not in page
    assert _erase_url(signed.person) not in page  # nothing more to erase

    again = _post(
        client, signed.person, django_capture_on_commit_callbacks, confirm_name=f"Erased person {signed.person.pk}"
    )
    assert again.status_code == 302
    assert ErasureRecord.objects.count() == 1
    assert AuditLogEntry.objects.filter(action=AuditAction.PERSON_ERASED).count() == 1


def test_another_trusts_admin_gets_no_such_page(client_for, django_capture_on_commit_callbacks):
    signed = signed_person()
    other = signed_person(trust="Elm Trust", full_name="Other Signer", email="other@example.org")
    client = client_for(other.admin)
    assert client.get(_erase_url(signed.person)).status_code == 404
    assert _post(client, signed.person, django_capture_on_commit_callbacks).status_code == 404
    assert client.get(reverse("privacy:hold", args=[signed.person.pk, "set"])).status_code == 404
    assert not ErasureRecord.objects.exists()


def test_a_hold_placed_from_its_page_refuses_erasure_until_released(client_for, django_capture_on_commit_callbacks):
    signed = signed_person()
    client = client_for(signed.admin)
    hold_url = reverse("privacy:hold", args=[signed.person.pk, "set"])
    assert client.post(hold_url, {"reason": "Tribunal claim 2026/0042"}).status_code == 302
    hold = LegalHold.objects.get(person=signed.person, released_at__isnull=True)
    assert hold.set_by == signed.admin
    assert client.post(hold_url, {"reason": "Again"}).status_code == 400  # one open hold at a time

    refused = _post(client, signed.person, django_capture_on_commit_callbacks)
    assert refused.status_code == 400
    assert "legal hold" in refused.content.decode()
    assert not ErasureRecord.objects.exists()

    release_url = reverse("privacy:hold", args=[signed.person.pk, "release"])
    assert client.post(release_url, {"reason": "Claim withdrawn"}).status_code == 302
    hold.refresh_from_db()
    assert hold.released_by == signed.admin and hold.release_reason == "Claim withdrawn"
    assert _post(client, signed.person, django_capture_on_commit_callbacks).status_code == 302
    assert ErasureRecord.objects.filter(person=signed.person).exists()


def test_someone_still_here_is_pointed_to_the_leaver_page_and_a_confirmation_erases_nothing(
    client_for, django_capture_on_commit_callbacks
):
    signed = signed_person(still_here=True)
    client = client_for(signed.admin)
    page = client.get(_erase_url(signed.person)).content.decode()
    assert "still holds a role here" in page and reverse("people:leaver", args=[signed.person.pk]) in page

    response = _post(client, signed.person, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "record them as a leaver first" in response.content.decode()
    assert Person.objects.get(pk=signed.person.pk).email == SIGNER_EMAIL
    assert not ErasureRecord.objects.exists()
    assert not AuditLogEntry.objects.filter(action=AuditAction.PERSON_ERASED).exists()
