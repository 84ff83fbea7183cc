"""Permissions-Policy and an enforced strict Content-Security-Policy on every response; HTML pages for someone
signed in are never stored by any cache."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from conduct.tests.factories import PersonFactory
from conduct.tests.test_accessibility import ANONYMOUS, DEMO_PASSWORD, PAGES

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


# The Content-Security-Policy (django-csp, config/settings.py CONTENT_SECURITY_POLICY), enforced, never report-only.
STRICT_POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}


def policy_of(response) -> dict[str, set[str]]:
    assert "Content-Security-Policy-Report-Only" not in response, "the policy must be enforced"
    directives = (part.split() for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: set(sources) for name, *sources in directives}


def test_every_page_each_role_reaches_is_served_under_the_strict_policy(demo):
    # The accessibility test's list of pages: every page each role of the demo reaches, HTML all of them. Each
    # role signs in through the form, as in the browser (allauth asks again for the password otherwise).
    clients = {ANONYMOUS: Client()}
    wrong = {}
    for entry in PAGES:
        if entry.role not in clients:
            clients[entry.role] = Client()
            signed_in = clients[entry.role].post(
                reverse("account_login"), {"login": entry.role, "password": DEMO_PASSWORD}
            )
            assert signed_in.status_code == 302, entry.role
        response = clients[entry.role].get(entry.url())
        if response.status_code != entry.status or not response["Content-Type"].startswith("text/html"):
            wrong[f"{entry.role} {entry.url_name}"] = f"status {response.status_code} {response['Content-Type']}"
        elif policy_of(response) != STRICT_POLICY:
            wrong[f"{entry.role} {entry.url_name}"] = response["Content-Security-Policy"]
    assert wrong == {}


def test_error_pages_json_and_redirects_carry_the_policy_too(client):
    not_found = client.get("/no-such-page/")
    assert not_found.status_code == 404 and policy_of(not_found) == STRICT_POLICY
    redirect = client.get(reverse("acknowledgements:my_codes"))
    assert redirect.status_code == 302 and policy_of(redirect) == STRICT_POLICY
    client.force_login(PersonFactory.create())
    forbidden = client.get(reverse("reports:dashboard"))
    assert forbidden.status_code in (403, 404) and policy_of(forbidden) == STRICT_POLICY
    # The Permissions-Policy is still sent beside it (core.security_headers).
    assert "camera=()" in forbidden["Permissions-Policy"]


INLINE = re.compile(
    r"""style=|<style|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=|(?:href|src|action)\s*=\s*["']?\s*javascript:""",
    re.IGNORECASE,
)


def test_no_served_template_has_an_inline_style_script_or_handler():
    # What the policy would refuse, found before a browser does. Emails and PDFs are never served as pages:
    # mail clients need inline styles and WeasyPrint renders the PDFs' own.
    templates = Path(settings.BASE_DIR) / "templates"
    served = [
        path
        for path in templates.rglob("*.html")
        if path.relative_to(templates).parts[0] != "pdf" and "email" not in path.relative_to(templates).parts
    ]
    assert len(served) > 100
    found = {str(path.relative_to(templates)): INLINE.findall(path.read_text()) for path in served}
    assert {name: hits for name, hits in found.items() if hits} == {}
