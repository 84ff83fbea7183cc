"""Bad input gets a clear message and saves nothing: never a server error (issue 15's findings)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from acknowledgements.forms import MAX_INTERESTS, InterestForm, InterestFormSet, InviteForm
from conduct.models import Organisation, Person, Role
from conduct.tests.factories import PersonFactory, RoleFactory
from core.query_strings import NulFreeQueryStringMiddleware

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(staff):
    person = PersonFactory.create(full_name="Sarah Okafor")
    RoleFactory.create(person=person, organisation=staff.orgs["trust"], kind="admin")
    return person


def test_a_formset_claiming_100000_forms_builds_no_more_than_the_limit():
    data = {"interest-TOTAL_FORMS": "100000", "interest-INITIAL_FORMS": "0", "interest-MAX_NUM_FORMS": "30"}
    formset = InterestFormSet(data, prefix="interest")
    assert len(formset.forms) == MAX_INTERESTS
    assert not formset.is_valid()
    assert "Please submit at most 30 forms." in formset.non_form_errors()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31", "2101-01-01"])
def test_interest_dates_outside_1900_to_2100_are_refused(day):
    form = InterestForm(
        {
            "kind": "business",
            "counterparty": "Acme Ltd",
            "nature": "Director",
            "starts_on": "2020-01-01",
            "ends_on": day,
        }
    )
    assert not form.is_valid() and form.errors["ends_on"] == ["Give a date between 1900 and 2100."]
    form = InterestForm({"kind": "business", "counterparty": "Acme Ltd", "nature": "Director", "starts_on": day})
    assert not form.is_valid() and "starts_on" in form.errors


def test_a_255_character_email_on_invite_is_a_message_not_a_server_error(admin, staff, client_for):
    email = "a" * 243 + "@example.org"  # 255 characters: valid to the email validator, one too long for the column
    assert len(email) == 255
    form = InviteForm(
        {
            "full_name": "Long Email",
            "email": email,
            "organisation": staff.orgs["north"].pk,
            "kind": "employee",
            "starts_on": "2026-11-16",
        },
        organisations=Organisation.objects.all(),
        kinds=["employee"],
    )
    assert not form.is_valid() and "email" in form.errors
    response = client_for(admin).post(
        reverse("acknowledgements:invite"),
        {
            "full_name": "Long Email",
            "email": email,
            "organisation": staff.orgs["north"].pk,
            "kind": "employee",
            "starts_on": "2026-11-16",
        },
    )
    assert response.status_code == 400
    assert "Ensure this value has at most 254 characters" in response.content.decode()
    assert not Person.objects.filter(full_name="Long Email").exists()


def test_an_invitation_start_date_in_year_9999_is_refused(admin, staff, client_for):
    response = client_for(admin).post(
        reverse("acknowledgements:invite"),
        {
            "full_name": "Far Future",
            "email": "future@example.org",
            "organisation": staff.orgs["north"].pk,
            "kind": "employee",
            "starts_on": "9999-12-31",
        },
    )
    assert response.status_code == 400 and "Give a date between 1900 and 2100." in response.content.decode()
    assert not Role.objects.filter(person__email="future@example.org").exists()


def test_a_nul_byte_in_the_paper_signatures_search_is_no_server_error(admin, staff, client_for):
    response = client_for(admin).get(reverse("acknowledgements:paper"), {"q": "Ada\x00 Lovelace"})
    assert response.status_code == 200
    assert response.context["query"] == "Ada Lovelace"


def test_the_middleware_removes_nul_from_every_query_parameter_and_name():
    seen = {}

    def view(request):
        seen.update({key: request.GET.getlist(key) for key in request.GET})
        return None

    request = RequestFactory().get("/x/", {"q": "a\x00b", "page\x00": ["1", "2\x00"], "plain": "ok"})
    NulFreeQueryStringMiddleware(view)(request)
    assert seen == {"q": ["ab"], "page": ["1", "2"], "plain": ["ok"]}


def test_inviting_an_address_with_an_account_in_another_trust_does_not_reveal_its_name(admin, staff, client_for):
    from conduct.tests.factories import trust_tree

    other = trust_tree("Elm Trust")
    stranger = PersonFactory.create(full_name="Hidden Name", email="shared@example.org")
    RoleFactory.create(person=stranger, organisation=other["north"], kind="employee")
    data = {
        "full_name": "Typed Name",
        "email": "shared@example.org",
        "organisation": staff.orgs["north"].pk,
        "kind": "employee",
        "starts_on": "2026-11-16",
    }
    client = client_for(admin)
    response = client.post(reverse("acknowledgements:invite"), data)
    notices = [str(message) for message in response.wsgi_request._messages]
    assert notices == ["shared@example.org already has an account; the new role was added and they have been told."]
    assert Role.objects.filter(person=stranger, organisation=staff.orgs["north"]).exists()
    csv_text = (
        "name,email,role,organisation,start date\nTyped Name,shared@example.org,Volunteer,oak-trust-north,2026-11-17\n"
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("acknowledgements:import"), {"file": SimpleUploadedFile("p.csv", csv_text.encode())})
    assert "Hidden Name" not in response.content.decode() and "Typed Name" in response.content.decode()
