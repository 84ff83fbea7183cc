"""The reminder pages in headless Chromium: an admin changes a code's steps, and reads the log on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conduct.models import Code
from reminders.models import ReminderLog
from reminders.planning import reminders_plan
from reminders.sending import reminders_ready, reminders_send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN, PASSWORD = "admin@att.example", "conduct-demo-2025"


def test_an_admin_changes_when_a_codes_reminders_go_out(demo, page, browser_login):
    browser_login(page, ADMIN, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reminders").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Reminders"
    page.get_by_role("link", name="Change reminders for Staff Code of Conduct").click()
    signing = page.get_by_label("Signing reminders: days before the due date")
    assert signing.input_value() == "7, 0"

    signing.fill("a week before")
    page.get_by_role("button", name="Save reminder settings").click()
    message = "Enter whole numbers of days separated by commas, for example 60, 30, 7."
    expect(page.get_by_text(message, exact=True)).to_be_visible()  # beside the field
    # ... and in the error summary at the top, linked to the field.
    expect(page.get_by_role("link", name=f"Signing reminders: days before the due date: {message}")).to_be_visible()
    assert Code.objects.get(slug="att-staff-code-of-conduct").signing_reminder_days == [7, 0]

    page.get_by_label("Signing reminders: days before the due date").fill("0, 14 7")
    page.get_by_label("While overdue, remind every (days)").fill("3")
    page.get_by_role("button", name="Save reminder settings").click()
    expect(
        page.get_by_role("status").filter(has_text="Reminder settings for Staff Code of Conduct saved")
    ).to_be_visible()
    expect(
        page.get_by_role("cell", name="When first owed; 14 days before; 7 days before; on the due date")
    ).to_be_visible()
    code = Code.objects.get(slug="att-staff-code-of-conduct")
    assert (code.signing_reminder_days, code.overdue_repeat_days) == ([14, 7, 0], 3)


def test_the_log_reads_on_a_phone(demo, phone_page, browser_login):
    reminders_plan()
    reminders_send(reminder_ids=reminders_ready(), final_attempt=True)
    assert ReminderLog.objects.filter(status="sent").exists()

    browser_login(phone_page, ADMIN, PASSWORD)
    phone_page.get_by_role("button", name="Show or hide the menu").click()
    phone_page.get_by_role("link", name="Reminders").click()
    phone_page.get_by_role("link", name="See every reminder sent").click()
    rows = phone_page.locator("tbody tr")
    assert rows.count() > 0
    who, _what, when, outcome = rows.first.locator("td").all()
    expect(who.get_by_text("Sent", exact=True)).to_be_visible()  # on a phone the outcome shows under the name …
    assert not when.is_visible() and not outcome.is_visible()  # … instead of in columns of its own
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    phone_page.get_by_label("Kind").select_option(label="Signature owed")
    phone_page.get_by_role("button", name="Filter").click()
    kinds = phone_page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert kinds and all(text.startswith("Signature owed") for text in kinds)
    assert "Sarah Okafor" not in phone_page.locator("tbody").inner_text()  # the admin's own digest is not a signature
