"""Accounts: sign-in by email, closed sign-up, emailed codes, password reset, rate limits, MFA, SSO buttons,
and how the way someone signed in ends up in the evidence."""

import os
import re
import subprocess
import sys
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse

from acknowledgements.models import Acknowledgement
from acknowledgements.tests.factories import email_part
from acknowledgements.tests.test_signing import form_data, sign_url
from conduct.models import Person
from conduct.tests.factories import PASSWORD, PersonFactory, RoleFactory

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def verified(person):
    """Demo and invited people have a verified address; factory people need one to pass mandatory verification."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.get_or_create(user=person, email=person.email, defaults={"verified": True, "primary": True})
    return person


def password_login(client, person, password=PASSWORD):
    verified(person)
    return client.post(LOGIN, {"login": person.email, "password": password}, follow=True)


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_the_sign_in_page_offers_email_password_and_a_code_but_no_sign_up(client, db):
    page = client.get(LOGIN).content.decode()
    assert "<label" in page and 'for="id_login"' in page and ">\n                Email" in page or "Email" in page
    assert 'type="password"' in page and "Sign in" in page and "Sign In" not in page
    assert "Send me a sign-in code by email" in page
    assert "sign up" not in page.lower() and "/accounts/signup/" not in page
    assert "Continue with" not in page  # no Microsoft or Google buttons unless configured
    assert '<main id="main"' in page and "bootstrap.min.css" in page


def test_sign_up_is_closed(client, db):
    response = client.get("/accounts/signup/")
    assert "Accounts are by invitation" in response.content.decode()
    client.post("/accounts/signup/", {"email": "new@example.org", "password1": "x" * 12, "password2": "x" * 12})

    assert not Person.objects.filter(email="new@example.org").exists()


def test_password_sign_in_is_recorded_in_the_evidence(staff, client):
    password_login(client, staff.person)
    client.post(sign_url(staff), form_data(staff))
    ack = Acknowledgement.objects.get()
    assert (ack.auth_method, ack.mfa_used) == ("password", False)


def test_sign_in_by_emailed_code_is_recorded_in_the_evidence(staff, client):
    from allauth.account.models import EmailAddress

    # As after an invitation: the address is known but not yet proved; the code proves it.
    address = EmailAddress.objects.create(user=staff.person, email=staff.person.email, primary=True, verified=False)
    client.post(reverse("account_request_login_code"), {"email": staff.person.email})
    code = email_part(mail.outbox[-1], r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", re.M)
    response = client.post(reverse("account_confirm_login_code"), {"code": code}, follow=True)
    assert response.wsgi_request.user == staff.person
    address.refresh_from_db()
    assert address.verified
    client.post(sign_url(staff), form_data(staff))
    assert Acknowledgement.objects.get().auth_method == "code"


def test_two_factor_sign_in_is_recorded_in_the_evidence(staff, client):
    secret = generate_totp_secret()
    TOTP.activate(staff.person, secret)
    response = password_login(client, staff.person)
    assert response.redirect_chain[-1][0] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)}, follow=True)
    assert response.wsgi_request.user == staff.person
    client.post(sign_url(staff), form_data(staff))
    ack = Acknowledgement.objects.get()
    assert (ack.auth_method, ack.mfa_used) == ("password", True)


def test_password_reset_sends_a_link_and_unknown_addresses_are_told_accounts_are_by_invitation(staff, client):
    client.post(reverse("account_reset_password"), {"email": staff.person.email})
    assert "/accounts/password/reset/key/" in mail.outbox[-1].body and mail.outbox[-1].to == [staff.person.email]
    client.post(reverse("account_reset_password"), {"email": "stranger@example.org"})
    body = mail.outbox[-1].body
    assert "Accounts are created by invitation" in body and "sign up" not in body.lower()


def test_repeated_failed_sign_ins_are_rate_limited(staff, client):
    for _ in range(5):
        password_login(client, staff.person, "wrong-password")
    page = password_login(client, staff.person).content.decode()
    assert "Too many failed login attempts" in page
    assert not client.get("/").wsgi_request.user.is_authenticated


def test_anyone_can_turn_on_an_authenticator_app_and_gets_recovery_codes(staff, client):
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    password_login(client, staff.person)
    page = client.get(reverse("mfa_index")).content.decode()
    assert "Authenticator app" in page and reverse("mfa_activate_totp") in page
    assert 'aria-label="Your account"' in page  # the account pages' own navigation
    assert "Microsoft and Google" not in page  # no providers configured, so no connections tab
    # Turning it on is account-sensitive: allauth asks for the password again first.
    response = client.get(reverse("mfa_activate_totp"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    response = client.post(response.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    assert response.request["PATH_INFO"] == reverse("mfa_activate_totp")
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": current_code(secret)}, follow=True)
    assert response.status_code == 200
    kinds = set(Authenticator.objects.filter(user=staff.person).values_list("type", flat=True))
    assert kinds == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}


class TestOfficersMustUseTwoFactorWhenRequired:
    @pytest.fixture
    def officer(self, staff):
        person = PersonFactory.create()
        RoleFactory.create(person=person, organisation=staff.orgs["trust"], kind="admin")
        return person

    def test_an_officer_without_an_authenticator_is_sent_to_set_one_up(self, officer, client, settings):
        settings.REQUIRE_MFA_FOR_OFFICERS = True
        response = password_login(client, officer)
        assert [url for url, _ in response.redirect_chain][-2:] == [
            reverse("mfa_activate_totp"),
            f"{reverse('account_reauthenticate')}?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F",
        ]
        assert "requires officers (admins, chairs and clerks) to use an authenticator app" in response.content.decode()
        response = client.post(response.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
        assert response.request["PATH_INFO"] == reverse("mfa_activate_totp") and "Activate" in response.content.decode()
        for url in ("/", reverse("acknowledgements:my_codes"), reverse("acknowledgements:invite")):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp"), url
        assert client.get(reverse("acknowledgements:verify")).status_code == 200
        assert client.get(reverse("mfa_index")).status_code == 200

    def test_with_an_authenticator_used_at_sign_in_the_officer_carries_on(self, officer, client, settings):
        settings.REQUIRE_MFA_FOR_OFFICERS = True
        secret = generate_totp_secret()
        TOTP.activate(officer, secret)
        assert password_login(client, officer).redirect_chain[-1][0] == reverse("mfa_authenticate")
        client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
        assert client.get(reverse("acknowledgements:invite")).status_code == 200

    def test_people_who_are_not_officers_are_not_asked(self, staff, client_for, settings):
        settings.REQUIRE_MFA_FOR_OFFICERS = True
        assert client_for(staff.person).get(reverse("acknowledgements:my_codes")).status_code == 200

    def test_with_the_setting_off_nobody_is_asked(self, officer, client_for, settings):
        settings.REQUIRE_MFA_FOR_OFFICERS = False
        assert client_for(officer).get(reverse("acknowledgements:invite")).status_code == 200
        assert not Authenticator.objects.exists()


PROVIDER_SCRIPT = """
import django
django.setup()
from django.test.utils import setup_test_environment
from django.db import connection
setup_test_environment()
connection.creation.create_test_db(verbosity=0)
from django.test import Client
page = Client().get("/accounts/login/").content.decode()
print("GOOGLE" if "Continue with Google" in page else "no-google")
print("MICROSOFT" if "Continue with Microsoft" in page else "no-microsoft")
"""


def test_microsoft_and_google_buttons_appear_only_when_configured():
    """Settings read the client ids from the environment at start-up, so this starts a fresh process."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GOOGLE_", "MICROSOFT_")) and key != "DATABASE_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_test",
        GOOGLE_CLIENT_ID="google-id",
        GOOGLE_CLIENT_SECRET="google-secret",
        MICROSOFT_CLIENT_ID="ms-id",
        MICROSOFT_CLIENT_SECRET="ms-secret",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROVIDER_SCRIPT],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["GOOGLE", "MICROSOFT"]
