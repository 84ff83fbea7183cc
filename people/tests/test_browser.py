"""In headless Chromium: an admin fixes a misspelt name and the person then signs; an admin records a leaver."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from acknowledgements.models import Acknowledgement
from conduct.models import AuditAction, AuditLogEntry, Person, Role
from conduct.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def verified(person: Person) -> Person:
    EmailAddress.objects.get_or_create(user=person, email=person.email, defaults={"verified": True, "primary": True})
    return person


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("networkidle")


def test_an_admin_fixes_a_misspelt_name_and_the_person_then_signs(world, page, browser_login):
    ada = world.oak.person
    Person.objects.filter(pk=ada.pk).update(full_name="Ada Lovelase")  # misspelt when she was imported
    verified(ada)
    verified(world.trust_admin)

    # Ada cannot sign with her real name: it does not match the one on record.
    browser_login(page, ada.email, PASSWORD)
    page.get_by_role("link", name="My codes").click()
    page.get_by_role("link", name="Read and sign Oak Trust Code of Conduct").click()
    page.get_by_role("link", name="Go to the signing form").click()
    page.get_by_label("I have read and understood the Oak Trust Code of Conduct").check()
    page.get_by_label("Your full name, typed as your signature").fill("Ada Lovelace")
    page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert not Acknowledgement.objects.filter(person=ada).exists()
    sign_out(page)

    # The admin finds her in the directory and corrects the name.
    browser_login(page, world.trust_admin.email, PASSWORD)
    page.get_by_role("link", name="People").click()
    page.get_by_label("Name or email").fill("lovelase")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name="Ada Lovelase").click()
    page.get_by_role("link", name="Correct the name or email").click()
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_role("button", name="Save the details").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Saved Ada Lovelace's details.")).to_be_visible()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    expect(page.get_by_text("Corrected the name of Ada Lovelace (was Ada Lovelase).")).to_be_visible()
    sign_out(page)

    # Now she signs.
    browser_login(page, ada.email, PASSWORD)
    page.get_by_role("link", name="My codes").click()
    page.get_by_role("link", name="Read and sign Oak Trust Code of Conduct").click()
    page.get_by_role("link", name="Go to the signing form").click()
    page.get_by_label("I have read and understood the Oak Trust Code of Conduct").check()
    page.get_by_label("Your full name, typed as your signature").fill("Ada Lovelace")
    page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Signed. Thank you.")).to_be_visible()
    assert Acknowledgement.objects.get(person=ada).typed_name == "Ada Lovelace"


def test_an_admin_records_a_leaver(world, page, browser_login):
    verified(world.trust_admin)
    sam = world.south_staff
    last_day = timezone.localdate() - timedelta(days=1)  # he left yesterday: told today
    browser_login(page, world.trust_admin.email, PASSWORD)
    page.get_by_role("link", name="People").click()
    page.get_by_label("Name or email").fill("sam south")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name="Sam South").click()
    page.get_by_role("link", name="Record a leaver").click()
    page.get_by_label("Leaving").select_option(label="Oak Trust")
    page.get_by_label("Last day").fill(last_day.isoformat())
    page.get_by_label("Reason").fill("Resigned")
    page.get_by_role("button", name="Record the leaver").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Recorded Sam South leaving Oak Trust")).to_be_visible()
    role = Role.objects.get(person=sam)
    assert (role.ends_on, role.end_reason) == (last_day, "Resigned")
    assert AuditLogEntry.objects.filter(action=AuditAction.PERSON_LEFT, subject=sam, actor=world.trust_admin).exists()
    # The directory's current people no longer include him.
    page.get_by_role("link", name="People", exact=True).first.click()
    page.get_by_label("Name or email").fill("sam south")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("No one matching.")).to_be_visible()
