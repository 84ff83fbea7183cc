"""Real-browser journeys in headless Chromium (Debian's chromium, driven by Playwright)."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_member_signs_in_and_reads_the_staff_code(demo, page, browser_login):
    browser_login(page, "staff@att.example", "conduct-demo-2025")
    expect(page.get_by_role("heading", name="Codes that apply to you")).to_be_visible()
    page.get_by_role("link", name="Staff Code of Conduct").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", level=1).inner_text() == "Staff Code of Conduct"
    expect(page.get_by_role("heading", name="19. Conflict of Interests")).to_be_visible()
    assert page.get_by_role(
        "heading", name="Appendix 1 – Establishing Safe Working Practices: Minimising Vulnerability to Allegations"
    ).is_visible()
    assert page.locator("li.clause-never").count() == 15
    # The table of contents takes a keyboard user straight to a section.
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="19. Conflict of Interests").click()
    target = page.url.split("#", 1)[1]
    assert page.locator(f"section#{target} h2").inner_text() == "19. Conflict of Interests"


def test_the_code_reads_on_a_phone(demo, phone_page, browser_login):
    browser_login(phone_page, "governor@llt.example", "conduct-demo-2025")
    phone_page.get_by_role("link", name="Leading Learners Trust Code of Conduct").click()
    phone_page.wait_for_load_state("networkidle")
    assert phone_page.get_by_role("button", name="Show or hide the menu").is_visible()
    expect(
        phone_page.get_by_text("Those governing at local level: We will act as the local ambassadors")
    ).to_be_visible()
    # Nothing overflows sideways on a 390px screen.
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
