"""The Django admin signs in through allauth (rate limits, two-factor), and with REQUIRE_MFA_FOR_OFFICERS
the session must have USED the authenticator, not merely belong to someone who has one."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from acknowledgements.tests.test_accounts import LOGIN, current_code, password_login, verified
from conduct.models import Person
from conduct.tests.factories import PASSWORD, PersonFactory, RoleFactory

pytestmark = pytest.mark.django_db
ADMIN = "/admin/"


@pytest.fixture
def superuser(db) -> Person:
    person = PersonFactory.create(is_staff=True, is_superuser=True)
    return verified(person)


def signed_in_as(client) -> int | None:
    user = client.get(reverse("acknowledgements:verify")).wsgi_request.user
    return user.pk if user.is_authenticated else None


def test_the_admin_login_sends_everyone_to_allauth_with_next(client, db):
    response = client.get(ADMIN)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    response = client.get(reverse("admin:login") + "?next=/admin/conduct/person/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2Fconduct%2Fperson%2F"
    # A foreign address in next is not followed.
    response = client.get(reverse("admin:login") + "?next=https://evil.example/")
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2F"


def test_the_admin_password_form_signs_no_one_in(client, superuser):
    response = client.post(reverse("admin:login"), {"username": superuser.email, "password": PASSWORD, "next": ADMIN})
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert signed_in_as(client) is None


def test_the_operator_signs_in_through_allauth_and_reaches_the_admin(client, superuser):
    response = client.get(ADMIN, follow=True)
    login_url = response.redirect_chain[-1][0]
    assert login_url.startswith(LOGIN) and "next=%2Fadmin%2F" in login_url
    response = client.post(login_url, {"login": superuser.email, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == ADMIN and response.status_code == 200
    assert "Codes of Conduct administration" in response.content.decode()


def test_wrong_passwords_for_the_operator_are_rate_limited(client, superuser):
    for _ in range(30):
        client.post(reverse("admin:login"), {"username": superuser.email, "password": "wrong", "next": ADMIN})
    for _ in range(5):
        password_login(client, superuser, "wrong-password")
    page = password_login(client, superuser).content.decode()
    assert "Too many failed login attempts" in page
    assert signed_in_as(client) is None
    assert client.get(ADMIN).status_code == 302


def test_signed_in_but_not_staff_is_refused_not_sent_round_in_a_loop(client_for, staff):
    client = client_for(staff.person)
    assert client.get(reverse("admin:login") + "?next=/admin/").status_code == 403


def test_an_operator_with_an_authenticator_must_give_a_code_before_the_admin(client, superuser):
    secret = generate_totp_secret()
    TOTP.activate(superuser, secret)
    response = password_login(client, superuser)
    assert response.redirect_chain[-1][0] == reverse("mfa_authenticate")
    assert client.get(ADMIN).status_code == 302  # the password alone opened nothing
    assert signed_in_as(client) is None
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)}, follow=True)
    assert response.wsgi_request.user == superuser
    assert client.get(ADMIN).status_code == 200


class TestTheSessionMustHaveUsedTheAuthenticator:
    @pytest.fixture
    def officer(self, staff) -> Person:
        person = PersonFactory.create()
        RoleFactory.create(person=person, organisation=staff.orgs["trust"], kind="admin")
        return verified(person)

    @pytest.mark.parametrize("who", ["officer", "superuser"])
    def test_a_session_that_did_not_use_it_is_asked_for_a_code_then_carries_on(self, who, request, client, settings):
        settings.REQUIRE_MFA_FOR_OFFICERS = True
        person = request.getfixturevalue(who)
        secret = generate_totp_secret()
        TOTP.activate(person, secret)
        client.force_login(person)  # a session with no record of a second factor
        wanted = ADMIN if who == "superuser" else reverse("acknowledgements:invite")
        response = client.get(wanted)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('mfa_reauthenticate')}?next={wanted.replace('/', '%2F')}"
        assert client.get(reverse("reports:dashboard") if who == "officer" else "/").status_code == 302
        response = client.post(response["Location"], {"code": current_code(secret)})
        assert response.status_code == 302 and response["Location"] == wanted
        assert client.get(wanted).status_code == 200

    def test_a_staff_account_without_an_officer_role_is_held_to_it_too(self, client, settings, db):
        settings.REQUIRE_MFA_FOR_OFFICERS = True
        person = verified(PersonFactory.create(is_staff=True))
        client.force_login(person)
        assert client.get(ADMIN)["Location"] == reverse("mfa_activate_totp")

    def test_with_the_setting_off_an_authenticator_unused_is_not_asked_for(self, officer, client_for, settings):
        settings.REQUIRE_MFA_FOR_OFFICERS = False
        TOTP.activate(officer, generate_totp_secret())
        assert client_for(officer).get(reverse("acknowledgements:invite")).status_code == 200
