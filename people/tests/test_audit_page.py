"""The audit page: an admin's organisations only, the filters, paging with fixed queries, the CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conduct.models import AuditAction, AuditLogEntry
from conduct.people import person_details_update, role_end

pytestmark = pytest.mark.django_db
URL = reverse("people:audit")


@pytest.fixture
def changes(world):
    person_details_update(
        actor=world.trust_admin, person=world.oak.person, full_name="Ada King", email="ada@oak.example.org"
    )
    role_end(actor=world.school_admin, role=world.oak.person.roles.get(), ends_on=timezone.localdate(), reason="Left")
    person_details_update(
        actor=world.elm_admin, person=world.elm.person, full_name="Grace Brewster", email="grace@elm.example.org"
    )
    return world


def summaries(response) -> list[str]:
    return [entry.summary for entry in response.context["page"].object_list]


def test_an_admin_reads_their_trusts_entries_only(changes, client_for):
    listed = summaries(client_for(changes.trust_admin).get(URL))
    assert any("Ada King" in s for s in listed) and not any("Grace" in s for s in listed)
    assert client_for(changes.clerk).get(URL).status_code == 404
    school = summaries(client_for(changes.school_admin).get(URL))
    assert len(school) == 2  # both changes to Ada were filed at their school


def test_filters_by_action_actor_person_organisation_and_dates(changes, client_for):
    client = client_for(changes.trust_admin)
    assert [e.action for e in client.get(URL, {"action": "role_ended"}).context["page"].object_list] == ["role_ended"]
    assert len(summaries(client.get(URL, {"actor": "nina"}))) == 1
    assert len(summaries(client.get(URL, {"person": "ada king"}))) == 2
    assert len(summaries(client.get(URL, {"subject": changes.oak.person.pk}))) == 2
    assert len(summaries(client.get(URL, {"organisation": changes.orgs["south"].pk}))) == 0
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert len(summaries(client.get(URL, {"date_from": tomorrow}))) == 0
    response = client.get(URL, {"date_from": tomorrow, "date_to": timezone.localdate().isoformat()})
    assert response.status_code == 400 and "date_to" in response.context["form"].errors
    assert client.get(URL, {"organisation": changes.elm_orgs["trust"].pk}).status_code == 400
    assert client.get(URL, {"date_from": "2200-01-01"}).status_code == 400


def test_paging_takes_a_fixed_number_of_queries(changes, client_for):
    client = client_for(changes.trust_admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(URL)
        return len(captured)

    few = queries()
    for n in range(60):
        person_details_update(
            actor=changes.trust_admin, person=changes.governor, full_name=f"Gita {n}", email="gita@oak.example.org"
        )
    assert queries() == few
    assert client.get(URL, {"page": 2}).context["page"].number == 2


def test_the_csv_has_before_and_after_and_the_address(changes, client_for):
    response = client_for(changes.trust_admin).get(reverse("people:audit_export"), {"action": "person_changed"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 1
    assert '"before"' in rows[0]["Details (JSON)"] and "Ada Lovelace" in rows[0]["Details (JSON)"]
    assert rows[0]["Done by"] == "Tara Admin" and rows[0]["Channel"] == "web"
    assert AuditLogEntry.objects.filter(action=AuditAction.PERSON_CHANGED).count() == 2  # nothing written by reading
