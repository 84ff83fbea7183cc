"""Regressions for what a probe of the erasure found: nothing may write an erased person's data back.

Before these fixes a roster row or a SCIM PUT carrying the provider's id of an erased person matched the
erased record and restored their name and address, and an admin could correct the erased record's name
and email, reactivate it and give it roles from the person's page.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from acknowledgements.issuing import acknowledgements_missing_pdf, receipt_send
from acknowledgements.models import EmailStatus, OutgoingEmail, SealedPdf
from acknowledgements.reconcile import sweep_emails
from acknowledgements.tasks import issue_acknowledgement_pdf
from acknowledgements.tests.factories import owing, sign
from conduct.models import Person, Role
from conduct.permissions import can_change_person, people_changeable_by
from privacy.erasure import erased_email, erased_name, person_erase
from privacy.tests.factories import SIGNER_EMAIL, SIGNER_NAME, Signed, occurrences, roles_end, signed_person
from provisioning.models import ExternalIdentity, RosterUpload
from provisioning.roster import roster_apply, roster_upload_create
from provisioning.tokens import token_create

pytestmark = pytest.mark.django_db

SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
MIS_ID = "MIS-4471"
PROVIDER_ID = "entra-6c1f"


def _erase(signed: Signed) -> Person:
    person_erase(actor=signed.admin, person=signed.person, reason="Letter of 1 December 2026", basis="erasure_request")
    return Person.objects.get(pk=signed.person.pk)


def _assert_still_erased(person: Person) -> None:
    person.refresh_from_db()
    assert (person.full_name, person.email, person.is_active) == (
        erased_name(person.pk),
        erased_email(person.pk),
        False,
    )


def _roster(signed: Signed, external_id: str):
    school = signed.who.orgs["north"]
    header = "name,email,role,organisation,start date,external id\n"
    data = header + f"{SIGNER_NAME},{SIGNER_EMAIL},Employee,{school.slug},2020-09-01,{external_id}\n"
    upload = roster_upload_create(
        actor=signed.admin,
        organisation=signed.who.orgs["trust"],
        data=data.encode(),
        file_name="mis.csv",
        whole_roster=False,
        leavers_on=timezone.localdate(),
    )
    return roster_apply(actor=signed.admin, upload=upload)


def _scim_user(email: str, external_id: str, name: str = SIGNER_NAME) -> str:
    return json.dumps(
        {
            "schemas": [USER],
            "userName": email,
            "externalId": external_id,
            "emails": [{"value": email, "primary": True}],
            "displayName": name,
            "active": True,
        }
    )


def test_erasure_removes_the_providers_ids_of_the_person():
    signed = signed_person()
    _roster(signed, MIS_ID)
    assert ExternalIdentity.objects.filter(person=signed.person, external_id=MIS_ID).exists()
    _erase(signed)
    assert not ExternalIdentity.objects.filter(person=signed.person).exists()
    assert not ExternalIdentity.objects.filter(external_id=MIS_ID).exists()


def test_a_roster_row_with_an_erased_persons_mis_id_and_old_email_is_a_new_person():
    signed = signed_person()
    _roster(signed, MIS_ID)
    erased = _erase(signed)
    erased_roles = list(Role.objects.filter(person=erased).values_list("pk", "ends_on"))

    plan = _roster(signed, MIS_ID)

    assert [addition.person for addition in plan.additions] == [None]  # someone new, not the erased record
    _assert_still_erased(erased)
    newcomer = Person.objects.get(email=SIGNER_EMAIL)
    assert newcomer.pk != erased.pk and newcomer.full_name == SIGNER_NAME
    assert ExternalIdentity.objects.get(external_id=MIS_ID).person == newcomer
    assert list(Role.objects.filter(person=erased).values_list("pk", "ends_on")) == erased_roles
    assert Role.objects.filter(person=newcomer, organisation=signed.who.orgs["north"], kind="employee").exists()


def test_scim_no_longer_knows_an_erased_user_and_a_new_create_is_a_new_person():
    signed = signed_person()
    token = token_create(actor=signed.admin, organisation=signed.who.orgs["trust"], name="Entra ID")
    scim = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    created = scim.post("/scim/v2/Users", _scim_user(SIGNER_EMAIL, PROVIDER_ID), content_type=SCIM_JSON)
    assert created.status_code == 201
    resource = f"/scim/v2/Users/{created.json()['id']}"
    erased = _erase(signed)

    assert scim.get(resource).status_code == 404
    put = scim.put(resource, _scim_user(SIGNER_EMAIL, PROVIDER_ID), content_type=SCIM_JSON)
    assert put.status_code == 404
    listed = scim.get("/scim/v2/Users", {"filter": f'externalId eq "{PROVIDER_ID}"'}).json()
    assert listed["totalResults"] == 0
    _assert_still_erased(erased)

    again = scim.post("/scim/v2/Users", _scim_user(SIGNER_EMAIL, PROVIDER_ID), content_type=SCIM_JSON)
    assert again.status_code == 201
    newcomer = Person.objects.get(email=SIGNER_EMAIL)
    assert newcomer.pk != erased.pk
    assert ExternalIdentity.objects.get(external_id=PROVIDER_ID).person == newcomer
    _assert_still_erased(erased)


def test_the_person_pages_cannot_write_an_erased_persons_data_back(client_for):
    signed = signed_person()
    erased = _erase(signed)
    roles_before = list(Role.objects.filter(person=erased).values_list("pk", flat=True))
    client = client_for(signed.admin)

    details = client.post(reverse("people:edit", args=[erased.pk]), {"full_name": SIGNER_NAME, "email": SIGNER_EMAIL})
    reactivate = client.post(reverse("people:account", args=[erased.pk, "reactivate"]), {})
    role_add = client.post(
        reverse("people:role_add", args=[erased.pk]),
        {"organisation": signed.who.orgs["north"].pk, "kind": "employee", "starts_on": "2026-12-01"},
    )

    assert (details.status_code, reactivate.status_code, role_add.status_code) == (404, 404, 404)
    _assert_still_erased(erased)
    assert list(Role.objects.filter(person=erased).values_list("pk", flat=True)) == roles_before
    page = client.get(reverse("people:person", args=[erased.pk])).content.decode()
    for link in ("people:edit", "people:role_add"):
        assert reverse(link, args=[erased.pk]) not in page
    assert reverse("people:account", args=[erased.pk, "reactivate"]) not in page


def test_no_one_may_change_an_erased_person_not_even_an_operator():
    signed = signed_person()
    operator = Person.objects.create_superuser(email="operator@example.org", password=None, full_name="Operator")
    erased = _erase(signed)
    other = signed_person(trust="Elm Trust", full_name="Rowan Tell", email="rowan@example.org")

    assert not can_change_person(signed.admin, erased) and not can_change_person(operator, erased)
    assert people_changeable_by(signed.admin, {erased.pk}) == set()
    assert people_changeable_by(operator, {erased.pk, other.person.pk}) == {other.person.pk}


def test_a_live_account_with_an_erased_looking_address_stays_changeable():
    """An account still open is not erased, whatever its address says: its admin can still correct it."""
    lookalike = signed_person(trust="Ash Trust", full_name="Lee Look", email="lee@example.org")
    Person.objects.filter(pk=lookalike.person.pk).update(email=erased_email(lookalike.person.pk))
    lookalike.person.refresh_from_db()
    assert can_change_person(lookalike.admin, lookalike.person)
    assert people_changeable_by(lookalike.admin, {lookalike.person.pk}) == {lookalike.person.pk}
    assert Role.objects.filter(person=lookalike.person, starts_on=date(2020, 9, 1)).exists()


def test_a_too_long_reason_gets_one_message_its_length_and_erases_nothing(client_for):
    signed = signed_person()
    response = client_for(signed.admin).post(
        reverse("privacy:erase", args=[signed.person.pk]),
        {"basis": "erasure_request", "reason": "r" * 10_000, "confirm_name": SIGNER_NAME},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "at most 500 characters" in text
    assert "Say what the erasure request is" not in text
    assert Person.objects.get(pk=signed.person.pk).email == SIGNER_EMAIL


def test_erasure_removes_the_persons_rows_from_stored_roster_files_and_keeps_the_others():
    signed = signed_person()
    school = signed.who.orgs["north"].slug
    rows = [
        "name,email,role,organisation,start date\n",
        f"{SIGNER_NAME},{SIGNER_EMAIL.upper()},Employee,{school},2020-09-01\n",
        f"Ria Rahman,ria@oak.example,Employee,{school},2026-09-01\n",
    ]
    upload = roster_upload_create(
        actor=signed.admin,
        organisation=signed.who.orgs["trust"],
        data="".join(rows).encode(),
        file_name="mis.csv",
        whole_roster=False,
        leavers_on=timezone.localdate(),
    )
    roster_apply(actor=signed.admin, upload=upload)

    _erase(signed)

    assert bytes(RosterUpload.objects.get(pk=upload.pk).data).decode() == rows[0] + rows[2]
    assert occurrences([SIGNER_NAME, SIGNER_EMAIL]) == []


def test_a_receipt_not_yet_sent_when_the_person_is_erased_is_never_sent_nor_queued_again():
    signed = signed_person()  # its receipt waits for a worker
    row = OutgoingEmail.objects.get(acknowledgement=signed.acknowledgement)
    assert row.status == EmailStatus.PENDING

    erased = _erase(signed)

    row.refresh_from_db()
    assert (row.status, row.to_address) == (EmailStatus.GIVEN_UP, erased_email(erased.pk))
    assert "erased" in row.last_error
    assert receipt_send(acknowledgement_id=signed.acknowledgement.pk, final_attempt=True) is False
    assert sweep_emails(timezone.now() + timedelta(days=1)) == 0
    assert mail.outbox == []


def test_a_record_erased_before_its_pdf_was_issued_gets_no_pdf_from_the_sweep_or_a_late_task():
    who = owing(full_name=SIGNER_NAME, email=SIGNER_EMAIL)
    ack = sign(who).acknowledgement  # its PDF waits for a worker
    admin = Person.objects.create_user(email="admin@oak.example", password=None, full_name="Oak Admin")
    Role.objects.create(person=admin, organisation=who.orgs["trust"], kind="admin", starts_on=date(2019, 1, 1))
    assert ack.pk in acknowledgements_missing_pdf(signed_before=timezone.now() + timedelta(minutes=1))

    roles_end(who.person, timezone.localdate() - timedelta(days=1))  # they have left
    person_erase(actor=admin, person=who.person, reason="Letter of 1 December 2026", basis="erasure_request")

    assert ack.pk not in acknowledgements_missing_pdf(signed_before=timezone.now() + timedelta(minutes=1))
    assert issue_acknowledgement_pdf.apply(args=[ack.pk]).get() == 0  # the message queued at signing, late
    assert not SealedPdf.objects.filter(acknowledgement=ack).exists()
