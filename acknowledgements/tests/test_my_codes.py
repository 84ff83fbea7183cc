"""My codes: what a person owes (due, overdue), what they signed (with its PDF), and nothing for ended roles."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.tests.factories import owing, sign
from conduct.people import role_end
from conduct.tests.factories import RoleFactory

pytestmark = pytest.mark.django_db
URL = "/my-codes/"


def test_the_address_is_the_contract(db):
    assert reverse("acknowledgements:my_codes") == URL


def test_due_and_overdue_codes_are_listed_with_their_dates(db, client_for):
    overdue = owing(name="Oak Trust", held_on=timezone.localdate() - timedelta(days=60))
    due = owing(name="Elm Trust", person=overdue.person)
    assert overdue.obligation.due_on < timezone.localdate() <= due.obligation.due_on
    page = client_for(overdue.person).get(URL).content.decode()
    assert f"Overdue: was due {overdue.obligation.due_on:%-d %B %Y}" in page
    assert f"Due by {due.obligation.due_on:%-d %B %Y}" in page
    assert overdue.version.get_absolute_url() in page and due.version.get_absolute_url() in page


def test_signed_codes_link_their_pdf(staff, client_for):
    ack = sign(staff, issue_pdf=False).acknowledgement
    client = client_for(staff.person)
    page = client.get(URL).content.decode()
    assert "Nothing to sign" in page and "Being prepared" in page and ack.get_absolute_url() in page
    acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False)
    page = client.get(URL).content.decode()
    assert reverse("acknowledgements:pdf", args=[ack.pk]) in page


def test_someone_whose_role_ended_owes_nothing_new(staff, client_for):
    role_end(actor=None, role=staff.obligation.role, ends_on=timezone.localdate() - timedelta(days=1), reason="Left")
    page = client_for(staff.person).get(URL).content.decode()
    assert "Nothing to sign" in page and staff.version.get_absolute_url() not in page


def test_a_governor_whose_yearly_declaration_lapsed_is_asked_to_renew(db, client_for):
    governor = owing(name="Ash Trust", kind="local_governor", where="north_lgb", requires_declaration=True)
    page = client_for(governor.person).get(URL).content.decode()
    assert "Make your declaration" in page
    sign(governor)
    assert "Make your declaration" not in client_for(governor.person).get(URL).content.decode()


def test_queries_do_not_grow_with_the_number_of_codes(staff, client_for):
    client = client_for(staff.person)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    sign(staff, issue_pdf=False)
    small = count()
    for name in ("Elm Trust", "Ash Trust", "Fir Trust"):
        more = owing(name=name, person=staff.person)
        sign(more, issue_pdf=False)
        RoleFactory.create(person=staff.person, organisation=more.orgs["trust"], kind="local_governor")
    assert count() == small
