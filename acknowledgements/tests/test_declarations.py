"""Declarations of interest outside signing: governors renew theirs every year; the latest feeds the register."""

import pytest
from django.urls import reverse

from acknowledgements.declarations import DeclarationData, declaration_make, latest_declaration
from acknowledgements.models import Declaration, Interest
from acknowledgements.tests.factories import business_interest, owing
from conduct.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
URL = "/declarations/"


@pytest.fixture
def governor(db):
    return owing(name="Ash Trust", kind="local_governor", where="north_lgb", full_name="Tom Hughes")


def formset(**rows):
    data = {
        "interest-TOTAL_FORMS": "3",
        "interest-INITIAL_FORMS": "0",
        "interest-MIN_NUM_FORMS": "0",
        "interest-MAX_NUM_FORMS": "30",
    }
    data.update(rows)
    return data


def test_the_address_is_the_contract(db):
    assert reverse("acknowledgements:declare") == URL


def test_a_governor_declares_a_business_interest(governor, client_for):
    data = formset(
        **{
            "organisation": governor.orgs["north_lgb"].pk,
            "declaration-choice": "interests",
            "interest-0-kind": "business",
            "interest-0-counterparty": "Hughes Building Services Ltd",
            "interest-0-nature": "Director and majority shareholder",
            "interest-0-starts_on": "2015-04-01",
        }
    )
    response = client_for(governor.person).post(URL, data)
    assert response.status_code == 302
    declaration = latest_declaration(governor.person)
    assert declaration is not None
    assert declaration.organisation == governor.orgs["north_lgb"] and declaration.acknowledgement is None
    interest = declaration.interests.get()
    assert (interest.kind, interest.counterparty, str(interest.starts_on)) == (
        "business",
        "Hughes Building Services Ltd",
        "2015-04-01",
    )


def test_nothing_to_declare(governor, client_for):
    client_for(governor.person).post(
        URL, formset(**{"organisation": governor.orgs["north_lgb"].pk, "declaration-choice": "nothing"})
    )
    assert Declaration.objects.get().nothing_to_declare and not Interest.objects.exists()


def test_a_renewal_carries_the_last_interests_forward_and_makes_a_new_record(governor, client_for):
    first = declaration_make(
        person=governor.person, organisation=governor.orgs["north_lgb"], declaration=business_interest("Acme Ltd")
    )
    page = client_for(governor.person).get(URL).content.decode()
    assert 'value="Acme Ltd"' in page
    data = formset(
        **{
            "organisation": governor.orgs["north_lgb"].pk,
            "declaration-choice": "interests",
            "interest-TOTAL_FORMS": "4",
            "interest-INITIAL_FORMS": "1",
            "interest-0-kind": "business",
            "interest-0-counterparty": "Acme Ltd",
            "interest-0-nature": "Director",
            "interest-0-starts_on": "2020-01-01",
            "interest-0-ends_on": "2026-08-31",
        }
    )
    client_for(governor.person).post(URL, data)
    assert Declaration.objects.count() == 2
    renewed = latest_declaration(governor.person)
    assert renewed is not None and renewed != first
    assert str(renewed.interests.get().ends_on) == "2026-08-31"
    assert first.interests.get().ends_on is None  # the earlier declaration is never changed


def test_only_organisations_where_the_person_serves(governor, client_for):
    other = owing(name="Elm Trust")
    response = client_for(governor.person).post(
        URL, formset(**{"organisation": other.orgs["north"].pk, "declaration-choice": "nothing"})
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not Declaration.objects.exists()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        declaration_make(
            person=governor.person,
            organisation=other.orgs["north"],
            declaration=DeclarationData(nothing_to_declare=True),
        )


def test_someone_with_no_current_role_is_told_there_is_nothing_to_declare_for(db, client_for):

    response = client_for(PersonFactory.create()).get(URL, follow=True)
    assert "You hold no current role" in response.content.decode()
