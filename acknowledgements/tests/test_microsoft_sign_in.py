"""Microsoft sign-in treats the address Entra ID reports as verified, so it meets the account an invitation made."""

import os
import subprocess
import sys

from django.conf import settings

SCRIPT = """
import django
django.setup()
from django.test.utils import setup_test_environment
from django.db import connection
setup_test_environment()
connection.creation.create_test_db(verbosity=0)
from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import get_adapter
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from conduct.models import Person
person = Person.objects.create_user(email="invited@example.org", password=None, full_name="Ina Vited")
EmailAddress.objects.create(user=person, email=person.email, primary=True, verified=False)  # as an invitation leaves it
request = RequestFactory().get("/accounts/microsoft/login/callback/")
request.session = SessionStore()
provider = get_adapter().get_provider(request, "microsoft")
login = provider.sociallogin_from_response(
    request, {"id": "00000000-0000-0000-0000-000000000001", "mail": "Invited@example.org", "displayName": "Ina Vited"}
)
print("VERIFIED" if all(address.verified for address in login.email_addresses) else "UNVERIFIED")
login.lookup()
print("MATCHED" if login.user.pk == person.pk else "NOT-MATCHED")
"""


def test_a_microsoft_sign_in_with_the_invited_address_meets_the_invited_account():
    """Settings read the client ids at start-up, so this runs in a fresh process (as the buttons test does)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GOOGLE_", "MICROSOFT_")) and key != "DATABASE_URL"
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings_test", MICROSOFT_CLIENT_ID="ms-id", MICROSOFT_CLIENT_SECRET="s")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["VERIFIED", "MATCHED"]
