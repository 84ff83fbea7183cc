"""Permissions-Policy on every response; HTML pages for someone signed in are never stored by any cache."""

import pytest
from django.urls import reverse

from conduct.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_every_response_forbids_powerful_browser_features(client):
    response = client.get(reverse("account_login"))
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy


def test_signed_in_pages_are_not_stored_and_public_pages_may_be(client):
    assert "no-store" not in client.get(reverse("acknowledgements:verify")).get("Cache-Control", "")
    client.force_login(PersonFactory.create())
    for url in ("/", reverse("acknowledgements:my_codes"), reverse("acknowledgements:verify")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store, private", url
