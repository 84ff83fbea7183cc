"""In headless Chromium: an admin uploads the MIS roster, reads the preview (nothing saved yet), applies it; the
SCIM tokens page shows a new token once; both pages fit a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import Page

from conduct.models import AuditAction, AuditLogEntry, Person, Role
from conduct.tests.factories import PASSWORD, PersonFactory, RoleFactory, trust_tree
from provisioning.models import ProvisioningToken

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_width(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.fixture
def setup():
    tree = trust_tree("Oak Trust")
    today = timezone.localdate()
    admin = PersonFactory.create(full_name="Ada Admin")
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
    RoleFactory.create(person=admin, organisation=tree["trust"], kind="admin", starts_on=today - timedelta(days=30))
    pat = PersonFactory.create(full_name="Pat Smiht", email="pat@oak.example")  # misspelt in the app
    lee = PersonFactory.create(full_name="Lee Jones", email="lee@oak.example")
    RoleFactory.create(person=pat, organisation=tree["north"], kind="employee", starts_on=today - timedelta(days=90))
    RoleFactory.create(person=lee, organisation=tree["north"], kind="employee", starts_on=today - timedelta(days=90))
    return {"tree": tree, "admin": admin, "pat": pat, "lee": lee, "today": today}


def test_a_csv_sync_is_previewed_and_applied(page: Page, browser_login, setup, tmp_path):
    tree, today = setup["tree"], setup["today"]
    pat_start = (today - timedelta(days=90)).isoformat()
    roster = tmp_path / "mis-export.csv"
    roster.write_text(
        "name,email,role,organisation,start date,external id\n"
        f"Pat Smith,pat@oak.example,Employee,{tree['north'].name},{pat_start},A100\n"
        f"Nia New,nia@oak.example,Volunteer,{tree['south'].slug},{today.isoformat()},A200\n"
        f"Bad Row,bad@oak.example,Wizard,{tree['south'].slug},{today.isoformat()},A300\n",
        encoding="utf-8",
    )
    browser_login(page, setup["admin"].email, PASSWORD)
    page.goto(f"/provisioning/{tree['trust'].slug}/roster/")
    page.get_by_label("Roster file (CSV)").set_input_files(str(roster))
    page.get_by_label("This file is the whole roster").check()
    page.get_by_role("button", name="Preview the changes").click()
    page.wait_for_load_state("networkidle")
    summary = page.locator("#roster-summary")
    assert "1 to add" in " ".join(summary.inner_text().split())
    assert "Line 2: Pat Smiht: name from “Pat Smiht” to “Pat Smith”" in page.locator("#changes").inner_text()
    assert "Lee Jones" in page.locator("#leavers").inner_text()
    rejected = page.locator("#rejected").inner_text()
    assert "4" in rejected and "Unknown role “Wizard”" in rejected
    assert not Person.objects.filter(email="nia@oak.example").exists()  # nothing saved by the preview
    page.get_by_role("button", name="Apply these changes").click()
    page.wait_for_load_state("networkidle")
    assert "applied" in page.locator("#roster-applied").inner_text()
    assert Person.objects.get(pk=setup["pat"].pk).full_name == "Pat Smith"
    assert Role.objects.get(person__email="nia@oak.example").organisation == tree["south"]
    assert Role.objects.get(person=setup["lee"]).ends_on == today
    assert AuditLogEntry.objects.filter(action=AuditAction.ROSTER_SYNCED, actor=setup["admin"]).count() == 1
    # Reloading the page after applying applies nothing twice.
    page.reload()
    assert AuditLogEntry.objects.filter(action=AuditAction.ROSTER_SYNCED).count() == 1


def test_a_token_is_shown_once_and_the_pages_fit_a_phone(phone_page: Page, browser_login, setup):
    tree = setup["tree"]
    browser_login(phone_page, setup["admin"].email, PASSWORD)
    phone_page.goto(f"/provisioning/{tree['trust'].slug}/tokens/")
    phone_page.get_by_label("What is the token for?").fill("Entra ID")
    phone_page.get_by_role("button", name="Create the token").click()
    phone_page.wait_for_load_state("networkidle")
    secret = phone_page.get_by_label("Secret token").input_value()
    assert secret.startswith("cct_") and ProvisioningToken.objects.get().prefix == secret[:10]
    assert fits_the_width(phone_page)
    phone_page.reload()
    assert phone_page.get_by_label("Secret token").count() == 0
    phone_page.goto(f"/provisioning/{tree['trust'].slug}/roster/")
    assert phone_page.get_by_label("Roster file (CSV)").is_visible() and fits_the_width(phone_page)
