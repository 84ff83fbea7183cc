"""The invitation email's link, built from SITE_URL by whichever process writes the email, reaches the running
server's set-password page in Chromium; the new password then signs the person in."""

import re

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import expect

from acknowledgements.invitations import invitation_create
from acknowledgements.models import Invitation
from conduct.models import Person
from conduct.tests.factories import PersonFactory, RoleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "sturdy-harbour-lantern-47"


def test_the_invitation_link_opens_the_set_password_page_of_the_running_server(
    staff, page, live_server, django_capture_on_commit_callbacks
):
    admin = PersonFactory.create(full_name="Sarah Okafor")
    RoleFactory.create(person=admin, organisation=staff.orgs["trust"], kind="admin")
    with override_settings(SITE_URL=live_server.url), django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            invited_by=admin,
            full_name="Zara Khan",
            email="zara@example.org",
            organisation=staff.orgs["north"],
            kind="employee",
            starts_on=timezone.localdate(),
        )
    body = str(mail.outbox[-1].body)
    # The set-password link: the address on the line after "Set your password here".
    links = re.findall(r"Set your password here[^\n]*\n\s*(https?://\S+)", body)
    assert len(links) == 1 and links[0].startswith(live_server.url + "/"), body
    page.goto(links[0])
    expect(page.get_by_role("heading", name=re.compile("Set your password", re.I))).to_be_visible()
    page.locator("input[name=password1]").fill(NEW_PASSWORD)
    page.locator("input[name=password2]").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(live_server.url) and "/accounts/invitation/" not in page.url
    assert "/accounts/password/reset/key/" not in page.url
    person = Person.objects.get(email="zara@example.org")
    assert person.check_password(NEW_PASSWORD)
    assert Invitation.objects.get(person=person).accepted_at is not None
