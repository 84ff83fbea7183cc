"""The GIAS export: a board's governance from the same records, for those who manage its people only."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conduct.models import Role
from conduct.people import role_end, role_update_governance

pytestmark = pytest.mark.django_db
URL = reverse("people:gias")


def rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_a_boards_governance_with_terms_and_who_stepped_down(world, client_for):
    role = world.governor.roles.get()
    role_update_governance(
        actor=world.trust_admin,
        role=role,
        category="parent",
        appointed_by="Parents of North Academy",
        starts_on=date(2022, 9, 1),
        term_ends_on=date(2026, 8, 31),
        title="",
    )
    left = Role.objects.create(
        person=world.south_staff,
        organisation=world.orgs["north_lgb"],
        kind="local_governor",
        starts_on=date(2021, 1, 1),
    )
    role_end(actor=world.trust_admin, role=left, ends_on=timezone.localdate() - timedelta(days=10), reason="Resigned")
    long_ago = Role.objects.create(
        person=world.oak.person,
        organisation=world.orgs["north_lgb"],
        kind="local_governor",
        starts_on=date(2015, 1, 1),
        ends_on=date(2018, 1, 1),
    )
    response = client_for(world.clerk).get(URL, {"board": world.orgs["north_lgb"].pk})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    by_name = {row["Full name"]: row for row in rows(response)}
    gita = by_name["Gita Governor"]
    assert (gita["Role"], gita["Forename(s)"], gita["Surname"]) == ("Local governor", "Gita", "Governor")
    assert (gita["Governor category"], gita["Appointing body"]) == ("Parent", "Parents of North Academy")
    assert (gita["Date of appointment"], gita["Date term of office ends"], gita["Date stepped down"]) == (
        "2022-09-01",
        "2026-08-31",
        "",
    )
    sam = by_name["Sam South"]
    assert sam["Date stepped down"] == (timezone.localdate() - timedelta(days=10)).isoformat()
    assert sam["Reason stepped down"] == "Resigned"
    assert "Clive Clerk" in by_name and by_name["Clive Clerk"]["Role"].startswith("Governance professional")
    assert long_ago.person.full_name not in by_name  # stepped down more than 12 months ago


def test_chairs_of_the_trust_board_are_chairs_of_trustees(world, client_for):
    chair = Role.objects.filter(organisation=world.orgs["board"], kind="chair").first()
    assert chair is not None
    response = client_for(world.trust_admin).get(URL, {"board": world.orgs["board"].pk})
    assert {row["Full name"]: row["Role"] for row in rows(response)}[chair.person.full_name] == "Chair of trustees"


def test_only_those_who_manage_the_boards_people(world, client_for):
    assert client_for(world.elm_admin).get(URL, {"board": world.orgs["north_lgb"].pk}).status_code == 404
    assert client_for(world.clerk).get(URL, {"board": world.orgs["south_lgb"].pk}).status_code == 404
    assert client_for(world.trust_admin).get(URL, {"board": world.orgs["north"].pk}).status_code == 404  # a school
    assert client_for(world.trust_admin).get(URL, {"board": "nonsense"}).status_code == 404
