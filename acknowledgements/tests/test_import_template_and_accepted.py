"""The import page's template CSV (exactly the importer's columns; filled in, it imports) and the invitations
list showing who has accepted and when, filtered, for those who manage people only."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from acknowledgements.invitations import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    invitation_create,
    invitations_accept,
    people_import_csv,
)
from acknowledgements.models import Invitation
from conduct.models import Person, Role
from conduct.tests.factories import PersonFactory, RoleFactory

pytestmark = pytest.mark.django_db
TEMPLATE = reverse("acknowledgements:import_template")
LIST = reverse("acknowledgements:invitations")


@pytest.fixture
def admin(staff):
    person = PersonFactory.create(full_name="Sarah Okafor")
    RoleFactory.create(person=person, organisation=staff.orgs["trust"], kind="admin")
    person.orgs = staff.orgs  # type: ignore[attr-defined]
    return person


def test_the_template_has_exactly_the_columns_the_importer_reads_and_imports_once_filled_in(admin, client_for):
    response = client_for(admin).get(TEMPLATE)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="people-to-invite.csv"' in response["Content-Disposition"]
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with the mark
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [[*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]]
    north = admin.orgs["north"]
    filled = body + f"Zoë Brontë,zoe@example.org,Employee,{north.name},01/09/2026,Teacher\r\n".encode()
    report = people_import_csv(data=filled, invited_by=admin)
    assert report.errors == [] and report.invited == 1 and report.ignored_columns == []
    role = Role.objects.get(person__email="zoe@example.org")
    assert (role.person.full_name, role.organisation, role.kind, role.title) == (
        "Zoë Brontë",
        north,
        "employee",
        "Teacher",
    )


def test_the_import_page_links_to_the_template(admin, client_for):
    page = client_for(admin).get(reverse("acknowledgements:import")).content.decode()
    assert f'href="{TEMPLATE}"' in page


def test_only_those_who_manage_people_get_the_template(staff, client_for):
    teacher = PersonFactory.create()
    RoleFactory.create(person=teacher, organisation=staff.orgs["north"], kind="employee")
    assert client_for(teacher).get(TEMPLATE).status_code == 404
    assert client_for(teacher).post(TEMPLATE).status_code in (404, 405)


def invite(admin, name: str, email: str):
    return invitation_create(
        invited_by=admin,
        full_name=name,
        email=email,
        organisation=admin.orgs["north"],
        kind="employee",
        starts_on=timezone.localdate(),
    )


def test_the_invitations_list_shows_who_accepted_and_when_and_filters(admin, client_for):
    invite(admin, "Zara Khan", "zara@example.org")
    invite(admin, "Omar Aziz", "omar@example.org")
    invitations_accept(person=Person.objects.get(email="zara@example.org"))
    accepted = Invitation.objects.get(person__email="zara@example.org").accepted_at
    assert accepted is not None
    client = client_for(admin)
    page = client.get(LIST).content.decode()
    assert "All (2)" in page and "Accepted (1)" in page and "Not yet accepted (1)" in page
    row = page.split("Zara Khan", 1)[1].split("</tr>", 1)[0]
    assert "Accepted" in row and timezone.localtime(accepted).strftime("%H:%M") in row
    only_accepted = client.get(LIST, {"show": "accepted"}).content.decode()
    assert "Zara Khan" in only_accepted and "Omar Aziz" not in only_accepted
    waiting = client.get(LIST, {"show": "waiting"}).content.decode()
    assert "Omar Aziz" in waiting and "Zara Khan" not in waiting
    assert client.get(LIST, {"show": "nonsense"}).status_code == 200  # an unknown filter shows everything
