"""The directory's rows as ``directory_table_rows`` writes them: the markup the template's loop wrote before
(kept here as the reference), for every case a row can show, and escaped."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from acknowledgements.models import Invitation
from conduct.models import Person
from conduct.tests.factories import PersonFactory, RoleFactory
from people.selectors import DirectoryFilters, directory_rows

pytestmark = pytest.mark.django_db
URL = reverse("people:directory")

# What people/directory.html looped over before the rows were written in Python.
REFERENCE = Template((Path(__file__).parent / "directory_rows_reference.html").read_text())
OURS = Template("{% load people_directory %}{% directory_table_rows rows today %}")


def normalised(html: str) -> str:
    return re.sub(r"\s*(<|>)\s*", r"\1", re.sub(r"\s+", " ", html)).strip()


@pytest.fixture
def varied(world):
    """People whose rows show every case: many roles (one ended, one titled), deactivated, signed in just after
    midnight London time in summer (the UTC day before), invited and accepted or not, and a name to escape."""
    today = timezone.localdate()
    many = PersonFactory.create(full_name="Mo <b>Many</b> & Co", email="mo@oak.example.org", is_active=False)
    many.last_login = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 2 July in London
    many.save(update_fields=["last_login"])
    for index, key in enumerate(["north", "south", "north_lgb", "trust", "north"]):
        RoleFactory.create(
            person=many,
            organisation=world.orgs[key],
            kind="employee" if key != "north_lgb" else "local_governor",
            title="Head of <Science>" if index == 1 else "",
            starts_on=date(2020, 9, 1) + timedelta(days=index),
            ends_on=today - timedelta(days=3) if index == 2 else None,
        )
    Invitation.objects.create(person=many, role=many.roles.order_by("pk").first(), accepted_at=timezone.now())
    Invitation.objects.create(person=world.south_staff, role=world.south_staff.roles.get(), accepted_at=None)
    return many


def test_the_rows_are_the_templates_rows(world, varied):
    rows = directory_rows(world.trust_admin, list(Person.objects.order_by("pk")), DirectoryFilters(roles="all"))
    shown = {row.person.pk: row for row in rows}
    assert len(shown[varied.pk].roles) == 5 and shown[varied.pk].invitation == "accepted"
    assert shown[world.south_staff.pk].invitation == "pending" and any(row.overdue for row in rows)
    context = {"rows": rows, "today": timezone.localdate()}
    ours = OURS.render(Context(context))
    assert normalised(ours) == normalised(REFERENCE.render(Context(context)))
    assert "Mo &lt;b&gt;Many&lt;/b&gt; &amp; Co" in ours and "Head of &lt;Science&gt;" in ours
    assert "and 1 more" in ours and "Deactivated" in ours and "2 Jul 2026" in ours and "(ended " in ours
    assert "Not yet accepted" in ours and "overdue</span>" in ours


def test_the_page_shows_them(world, varied, client_for):
    page = client_for(world.trust_admin).get(URL, {"roles": "all", "q": "Many"})
    assert page.status_code == 200
    body = page.content.decode()
    assert f'href="{reverse("people:person", args=[varied.pk])}"' in body and "and 1 more" in body
