"""A leaver who comes back owes again what their new role opens, whichever way the role arrives.

Ria was an employee at North, owing two codes: one she signed, one she had not yet signed when she left
(her roles ended, so she owed it no longer). She rejoins by the person page, by a roster file, by a CSV
import or through SCIM: her new role owes the unsigned code again (from her new start, with a new due
date), while the signed one stays signed, on her old role, as it was.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from acknowledgements.invitations import people_import_csv
from acknowledgements.models import Obligation
from acknowledgements.obligations import owed_obligation
from conduct.models import Adoption, Person, Role
from conduct.people import person_record_leaver, role_add
from conduct.tests.factories import CodeFactory, PersonFactory, adopt, make_version
from provisioning.roster import roster_apply, roster_upload_create
from provisioning.tests.conftest import user_body

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
JOINED = TODAY - timedelta(days=200)
LEFT = TODAY - timedelta(days=30)
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def codes(tree) -> dict[str, Adoption]:
    """Two codes for employees in force across the trust, adopted before Ria joined."""
    held_on = TODAY - timedelta(days=300)
    return {
        name: adopt(
            make_version(CodeFactory.create(owner=tree["trust"], audience=["employee"])), tree["board"], held_on=held_on
        )
        for name in ("signed", "unsigned")
    }


def _ria_leaves(admin, tree, codes, person: Person | None = None) -> dict[str, Any]:
    """Ria joins (owing both codes), signs one, and leaves; what stood when she left."""
    ria = person or PersonFactory.create(full_name="Ria Rahman", email="ria@oak.example")
    old_role = role_add(actor=admin, person=ria, organisation=tree["north"], kind="employee", starts_on=JOINED)
    signed_at = timezone.now() - timedelta(days=60)
    Obligation.objects.filter(person=ria, version=codes["signed"].version).update(acknowledged_at=signed_at)
    person_record_leaver(actor=admin, person=ria, ends_on=LEFT, reason="Resigned", within=tree["trust"])
    assert owed_obligation(ria, codes["unsigned"].version) is None  # a leaver owes nothing
    signed = Obligation.objects.get(person=ria, version=codes["signed"].version)
    return {"ria": ria, "old_role": old_role, "signed": signed, "signed_at": signed_at}


def _assert_owes_again(before: dict, codes) -> None:
    ria = before["ria"]
    new_role = Role.objects.get(person=ria, ends_on__isnull=True)
    owed = owed_obligation(ria, codes["unsigned"].version)
    assert owed is not None and owed.role_id == new_role.pk  # owed again, through the new role
    adoption = codes["unsigned"]
    assert owed.owed_from == new_role.starts_on
    assert owed.due_on == max(
        adoption.signing_due_on, new_role.starts_on + timedelta(days=adoption.version.code.signing_due_days)
    )
    assert owed.acknowledged_at is None and owed.superseded_at is None
    signed = Obligation.objects.get(pk=before["signed"].pk)  # the signed one stays as it was
    assert (signed.role_id, signed.acknowledged_at, signed.owed_from, signed.due_on) == (
        before["old_role"].pk,
        before["signed_at"],
        before["signed"].owed_from,
        before["signed"].due_on,
    )
    assert Obligation.objects.filter(person=ria).count() == 2  # one a version, as ever
    old_role = Role.objects.get(pk=before["old_role"].pk)
    assert old_role.ends_on == LEFT and old_role.end_reason == "Resigned"


def test_a_rejoiner_added_on_the_person_page_owes_again(admin, tree, codes, client_for):
    before = _ria_leaves(admin, tree, codes)
    response = client_for(admin).post(
        reverse("people:role_add", args=[before["ria"].pk]),
        {"organisation": tree["north"].pk, "kind": "employee", "starts_on": TODAY.isoformat()},
    )
    assert response.status_code == 302
    _assert_owes_again(before, codes)


def test_a_rejoiner_in_a_roster_file_owes_again(admin, tree, codes):
    before = _ria_leaves(admin, tree, codes)
    data = (
        f"name,email,role,organisation,start date\nRia Rahman,ria@oak.example,Employee,{tree['north'].slug},{TODAY}\n"
    ).encode()
    upload = roster_upload_create(
        actor=admin,
        organisation=tree["trust"],
        data=data,
        file_name="mis.csv",
        whole_roster=False,
        leavers_on=TODAY,
    )
    plan = roster_apply(actor=admin, upload=upload)
    assert [addition.person for addition in plan.additions] == [before["ria"]]
    _assert_owes_again(before, codes)


def test_a_rejoiner_in_a_csv_import_owes_again(admin, tree, codes):
    before = _ria_leaves(admin, tree, codes)
    data = (
        f"name,email,role,organisation,start date\nRia Rahman,ria@oak.example,Employee,{tree['north'].slug},{TODAY}\n"
    ).encode()
    report = people_import_csv(data=data, invited_by=admin)
    assert not report.errors and report.roles_added == 1
    _assert_owes_again(before, codes)


def test_a_rejoiner_added_to_a_scim_group_owes_again(admin, tree, codes, scim):
    status, user = scim.call("POST", "Users", user_body("ria@oak.example", "ria@oak.example", displayName="Ria Rahman"))
    assert status == 201, user
    before = _ria_leaves(admin, tree, codes, person=Person.objects.get(email="ria@oak.example"))
    status, group = scim.call(
        "POST", "Groups", {"schemas": [GROUP], "displayName": f"{tree['north'].slug}:employee", "members": []}
    )
    assert status == 201, group
    add = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": user["id"]}]}]}
    status, body = scim.call("PATCH", f"Groups/{group['id']}", add)
    assert status == 200, body
    _assert_owes_again(before, codes)


def test_a_version_signed_before_leaving_is_not_owed_again(admin, tree, codes):
    before = _ria_leaves(admin, tree, codes)
    role_add(actor=admin, person=before["ria"], organisation=tree["south"], kind="employee", starts_on=TODAY)
    assert owed_obligation(before["ria"], codes["signed"].version) is None  # signed: nothing more to sign
    assert Obligation.objects.get(pk=before["signed"].pk).acknowledged_at == before["signed_at"]
