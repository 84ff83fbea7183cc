"""Invitations and imports go through conduct.people.role_add: the same rules, and each is in the audit log."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from acknowledgements.invitations import invitation_create, invitation_resend, people_import_csv
from acknowledgements.models import Invitation
from conduct.models import AuditAction, AuditLogEntry, Person, Role
from conduct.tests.factories import PersonFactory, RoleFactory

pytestmark = pytest.mark.django_db
HEADER = "name,email,role,organisation,start date\n"


@pytest.fixture
def admin(staff):
    person = PersonFactory.create(full_name="Sarah Okafor")
    RoleFactory.create(person=person, organisation=staff.orgs["trust"], kind="admin")
    return person


def test_an_invitation_is_audited_with_its_role(admin, staff):
    result = invitation_create(
        invited_by=admin,
        full_name="Zara Khan",
        email="zara@example.org",
        organisation=staff.orgs["north"],
        kind="employee",
        starts_on=timezone.localdate(),
    )
    actions = set(AuditLogEntry.objects.filter(subject=result.person).values_list("action", "actor"))
    assert actions == {(AuditAction.PERSON_INVITED.value, admin.pk), (AuditAction.ROLE_GRANTED.value, admin.pk)}
    assert result.invitation is not None
    invitation_resend(invitation=result.invitation, invited_by=admin)
    resent = AuditLogEntry.objects.get(action=AuditAction.INVITATION_RESENT)
    assert resent.subject == result.person and resent.details["before"]["invitation_id"] == result.invitation.pk


@pytest.mark.parametrize(
    ("full_name", "email", "field"),
    [("n" * 201, "ok@example.org", "full_name"), ("Zara Khan", "z" * 243 + "@example.org", "email")],
)
def test_too_long_a_name_or_email_is_a_form_error_not_a_server_error(admin, staff, client_for, full_name, email, field):
    response = client_for(admin).post(
        reverse("acknowledgements:invite"),
        {
            "full_name": full_name,
            "email": email,
            "organisation": staff.orgs["north"].pk,
            "kind": "employee",
            "starts_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Person.objects.filter(full_name=full_name).exists() and not Invitation.objects.exists()


def test_an_import_with_overlong_rows_imports_nothing_and_a_good_one_is_audited(admin, staff):
    bad = (
        HEADER
        + f"{'n' * 201},long@example.org,Employee,oak-trust-north,2026-11-16\n"
        + f"Short Name,{'e' * 250}@example.org,Employee,oak-trust-north,2026-11-16\n"
        + "Zara Khan,zara@example.org,Employee,oak-trust-south,2026-11-16\n"
    )
    report = people_import_csv(data=bad.encode(), invited_by=admin)
    assert {error.line for error in report.errors} >= {2, 3}
    assert not Person.objects.filter(email__in=["long@example.org", "zara@example.org"]).exists()
    assert not AuditLogEntry.objects.filter(action=AuditAction.PEOPLE_IMPORTED).exists()
    good = HEADER + "Zara Khan,zara@example.org,Employee,oak-trust-south,2026-11-16\n"
    people_import_csv(data=good.encode(), invited_by=admin)
    assert Role.objects.filter(person__email="zara@example.org", organisation=staff.orgs["south"]).exists()
    entry = AuditLogEntry.objects.get(action=AuditAction.PEOPLE_IMPORTED)
    assert entry.actor == admin and entry.organisation == staff.orgs["south"]
    assert entry.details["after"]["rows"] == [{"line": 2, "email": "zara@example.org", "outcome": "invited"}]
