"""What each reminder says: plain text and HTML, the organisation, what is owed and by when, a link to act."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from conduct.tests.factories import trust_tree
from reminders.models import ReminderLog
from reminders.tests.reminder_helpers import adopted_code, frozen, member, officer, run_daily

D0 = date(2026, 1, 5)
FROM = "Oak Trust reminders <reminders@oak.example>"


@pytest.fixture
def oak(db):
    orgs = trust_tree("Oak Trust")
    chair = officer(orgs["board"], "chair", "Chair Person")
    clerk = officer(orgs["board"], "clerk", "Clerk Person")
    admin = officer(orgs["trust"], "admin", "Admin Person")
    with frozen(D0, hour=5):
        teacher = member(orgs["north"], "employee", "Teacher O'Brien & Co")
    code, version = adopted_code(orgs, D0, chair=chair, review_due_on=D0 + timedelta(days=60))
    return orgs, {"chair": chair, "clerk": clerk, "admin": admin, "teacher": teacher}, code, version


def html_of(message) -> str:
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def one_to(messages, person, kind_word: str):
    found = [m for m in messages if person.email in m.to[0] and kind_word in m.subject]
    assert len(found) == 1, [m.subject for m in messages]
    return found[0]


@override_settings(REMINDERS_FROM_EMAIL=FROM)
def test_the_invitation_to_sign_says_who_what_by_when_and_links_to_the_signing_page(oak):
    orgs, people, code, version = oak
    message = one_to(run_daily(D0), people["teacher"], "sign")
    link = f"http://testserver{version.get_absolute_url()}"
    assert message.subject == f"Please read and sign: {code.title} (Oak Trust North Academy)"
    assert message.from_email == FROM
    assert message.to == ["Teacher O'Brien & Co <teacher.o'brien.&.co@example.org>"]
    reminder = ReminderLog.objects.get(recipient=people["teacher"])
    assert message.extra_headers["Message-ID"] == f"<reminder-{reminder.pk}-owed@testserver>"
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    for text in (message.body, html_of(message)):
        assert "Oak Trust North Academy" in text
        assert f"{code.title}" in text and version.label in text
        assert "Wednesday 4 February 2026" in text  # due 30 days after adoption
        assert link in text
    assert "Dear Teacher O'Brien & Co," in message.body  # plain text is not HTML-escaped
    assert "Dear Teacher O&#x27;Brien &amp; Co," in html_of(message)  # HTML is
    assert '<html lang="en-GB">' in html_of(message) and f'href="{link}"' in html_of(message)


def test_signing_reminders_before_on_and_after_the_due_date_say_so(oak):
    orgs, people, code, version = oak
    teacher = people["teacher"]
    assert one_to(run_daily(D0 + timedelta(days=23)), teacher, "sign").subject == (
        f"Reminder: please sign {code.title} by 4 February 2026"
    )
    due = one_to(run_daily(D0 + timedelta(days=30)), teacher, "sign")
    assert due.subject == f"Due today: please sign {code.title}" and "Today is the last day" in due.body
    overdue = one_to(run_daily(D0 + timedelta(days=37)), teacher, "sign")
    assert overdue.subject == f"Overdue: please sign {code.title} (it was due on 4 February 2026)"
    assert "is now overdue" in overdue.body and "(overdue)" in html_of(overdue)


def test_the_review_reminder_goes_to_chair_and_clerk_with_a_link_to_the_codes_history(oak):
    orgs, people, code, version = oak
    messages = run_daily(D0 + timedelta(days=30))  # 30 days before the review date
    link = f"http://testserver{reverse('conduct:code_history', args=[code.slug])}"
    for person in (people["chair"], people["clerk"]):
        message = one_to(messages, person, "review")
        assert message.subject == f"{code.title} is due for review on 6 March 2026 (Oak Trust Board)"
        for text in (message.body, html_of(message)):
            assert "Oak Trust Board" in text and "Friday 6 March 2026" in text and link in text
            assert "in 30 days" in text


def test_the_declaration_reminder_links_to_the_declaration_page(oak):
    orgs, people, code, version = oak
    with frozen(D0, hour=5):
        governor = member(orgs["north_lgb"], "local_governor", "Governor Person", since=date(2025, 3, 1))
    message = one_to(run_daily(date(2026, 9, 1)), governor, "declare")
    assert message.subject == "Please declare your interests for 2026–27 by 1 October 2026 (Oak Trust North LGB)"
    for text in (message.body, html_of(message)):
        assert "Oak Trust North LGB" in text and "Thursday 1 October 2026" in text
        assert f"http://testserver{reverse('acknowledgements:declare')}" in text


def test_the_digest_lists_the_outstanding_people_with_a_link_to_the_report(oak):
    orgs, people, code, version = oak
    message = one_to(run_daily(D0 + timedelta(days=45)), people["admin"], "Outstanding")
    assert message.subject == "Outstanding signatures: 1 person overdue at Oak Trust"
    link = f"http://testserver{reverse('reports:people')}?organisation={orgs['trust'].pk}&status=overdue"
    for text in (message.body, html_of(message)):
        assert "Oak Trust North Academy" in text and "15 days overdue" in text and "4 February 2026" in text
    assert "Teacher O'Brien & Co <teacher.o'brien.&.co@example.org>" in message.body
    assert link in message.body and link.replace("&", "&amp;") in html_of(message)
    assert len([m for m in mail.outbox if "Outstanding" in m.subject]) == 1  # not one email per person


def test_the_digests_link_opens_the_report_of_those_overdue_for_its_recipient(oak, client_for):
    orgs, people, code, version = oak
    message = one_to(run_daily(D0 + timedelta(days=45)), people["admin"], "Outstanding")
    link = next(line for line in message.body.splitlines() if line.startswith("http://testserver/reports/"))
    with frozen(D0 + timedelta(days=45), hour=8):
        response = client_for(people["admin"]).get(link.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert "Teacher O&#x27;Brien &amp; Co" in response.content.decode()
