"""The whole journey in headless Chromium: invited → set a password → My codes → read → sign → download → verify;
and a governor, on a phone, declaring interests as they sign."""

import re
from datetime import date
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from acknowledgements.models import Acknowledgement, Declaration, SealedPdf
from acknowledgements.tests.factories import email_part, governance_sections, owing
from conduct.models import Person
from conduct.tests.factories import PASSWORD, PersonFactory, RoleFactory
from core.pdf import check_seal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "sturdy-harbour-lantern-47"


def verified(person: Person) -> Person:
    EmailAddress.objects.get_or_create(user=person, email=person.email, defaults={"verified": True, "primary": True})
    return person


def download_and_verify(page: Page, browser: Browser, live_server: LiveServer, tmp_path: Path) -> tuple[bytes, str]:
    """Download the signed PDF from the record page, then check it on the public page as a stranger would.

    Returns the PDF's bytes and the text of the verification result."""
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the signed PDF").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    pdf = path.read_bytes()
    stranger = browser.new_context(base_url=live_server.url)
    public = stranger.new_page()
    public.goto("/verify/")
    public.get_by_label("Upload the signed PDF").set_input_files(str(path))
    public.get_by_role("button", name="Verify").click()
    public.wait_for_load_state("networkidle")
    result = public.locator("#verification-result")
    assert result.get_by_role("heading", level=2).inner_text() == "VERIFIED"
    text = result.inner_text()
    stranger.close()
    return pdf, text


def test_invited_person_sets_a_password_reads_signs_downloads_and_verifies(
    page, browser, live_server, browser_login, tmp_path
):
    staff_code = owing(name="Oak Trust", full_name="Existing Teacher")
    admin = verified(PersonFactory.create(full_name="Sarah Okafor"))
    RoleFactory.create(person=admin, organisation=staff_code.orgs["trust"], kind="admin")

    # The admin invites a new teacher.
    browser_login(page, admin.email, PASSWORD)
    page.get_by_role("link", name="People").click()
    page.get_by_role("navigation", name="People pages").get_by_role("link", name="Invite someone").click()
    page.get_by_label("Full name").fill("Zara Khan")
    page.get_by_label("Email address").fill("zara.khan@example.org")
    page.get_by_label("Organisation").select_option(label="Oak Trust North Academy")
    page.get_by_label("Role").select_option("employee")
    page.get_by_label("Start date").fill(date.today().isoformat())
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_load_state("networkidle")
    assert "Invitation sent to Zara Khan" in page.content()
    link = email_part(mail.outbox[-1], r"(/accounts/invitation/\S+)")
    page.get_by_role("button", name="Sign out").click()

    # Zara follows the link and sets her password; she is signed in.
    page.goto(link)
    expect(page.get_by_role("heading", name="Set your password")).to_be_visible()
    page.get_by_label(re.compile(r"^\s*New password\W*$")).fill(NEW_PASSWORD)
    page.get_by_label("New password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # My codes → read and sign.
    page.get_by_role("link", name="My codes").click()
    page.get_by_role("link", name="Read and sign Oak Trust Code of Conduct").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("We must all act fairly.")).to_be_visible()
    page.get_by_role("link", name="Go to the signing form").click()
    page.get_by_label("I have read and understood the Oak Trust Code of Conduct").check()
    page.get_by_label("Your full name, typed as your signature").fill("zara  khan")
    page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Signed. Thank you.")).to_be_visible()

    zara = Person.objects.get(email="zara.khan@example.org")
    ack = Acknowledgement.objects.get(person=zara)
    assert ack.auth_method == "link" and ack.typed_name == "zara khan" and ack.user_agent
    assert {e.kind for e in ack.events.all()} >= {"signed", "pdf_issued"}
    assert mail.outbox[-1].to == ["zara.khan@example.org"] and mail.outbox[-1].attachments

    pdf, verified_text = download_and_verify(page, browser, live_server, tmp_path)
    assert pdf == SealedPdf.objects.get(acknowledgement=ack).file.open("rb").read()  # the stored bytes, exactly
    assert check_seal(pdf).ok
    # The name as it was signed (typed), not as the account spells it today.
    assert ack.typed_name in verified_text and "Oak Trust Code of Conduct" in verified_text
    assert ack.events.filter(kind="pdf_downloaded").count() == 1


def test_a_governor_on_a_phone_declares_interests_while_signing(
    phone_page, browser, live_server, browser_login, tmp_path
):
    page = phone_page
    governor = owing(
        name="Leading Trust",
        kind="local_governor",
        where="north_lgb",
        audience=["trustee", "local_governor"],
        requires_declaration=True,
        sections=governance_sections(),
        full_name="Tom Hughes",
    )
    verified(governor.person)
    browser_login(page, governor.person.email, PASSWORD)
    page.get_by_role("button", name="Show or hide the menu").click()
    page.get_by_role("link", name="My codes").click()
    page.get_by_role("link", name="Read and sign Leading Trust Code of Conduct").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Those governing at local level: We will act as the local ambassadors.")).to_be_visible()
    assert page.get_by_text("good employer").count() == 0

    # The interests appear only once they say they have some to declare.
    interests = page.locator("[data-interests]")
    assert interests.is_hidden()
    page.get_by_label("I have interests to declare (listed below)").check()
    expect(interests).to_be_visible()
    first = page.locator("[data-interest]").nth(0)
    first.get_by_label("Kind of interest").select_option("business")
    first.get_by_label("The organisation or person").fill("Hughes Building Services Ltd")
    first.get_by_label("The nature of the interest").fill("Director and majority shareholder")
    first.get_by_label("Start date").fill("2015-04-01")
    assert page.locator("[data-interest]:visible").count() == 1
    page.get_by_role("button", name="Add another interest").click()
    second = page.locator("[data-interest]:visible").nth(1)
    second.get_by_label("Kind of interest").select_option("governance")
    second.get_by_label("The organisation or person").fill("Oakfield Primary School")
    second.get_by_label("The nature of the interest").fill("Co-opted governor")
    second.get_by_label("Start date").fill("2021-09-01")
    page.get_by_label("I have read and understood").check()
    page.get_by_label("Your full name, typed as your signature").fill("Tom Hughes")
    page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_load_state("networkidle")

    ack = Acknowledgement.objects.get(person=governor.person)
    declaration = Declaration.objects.get(acknowledgement=ack)
    assert [(i.kind, i.counterparty) for i in declaration.interests.order_by("pk")] == [
        ("business", "Hughes Building Services Ltd"),
        ("governance", "Oakfield Primary School"),
    ]
    expect(page.get_by_text("Hughes Building Services Ltd")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    pdf, verified_text = download_and_verify(page, browser, live_server, tmp_path)
    assert "Tom Hughes" in verified_text
    assert pdf[:4] == b"%PDF"
