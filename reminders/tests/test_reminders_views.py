"""The admins' reminder pages: steps per code with validation, the paginated log, and who may see what."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conduct.models import Code
from conduct.tests.factories import CodeFactory, PersonFactory, trust_tree
from reminders.models import ReminderLog
from reminders.steps import code_reminder_steps_update
from reminders.tests.reminder_helpers import member, officer

INDEX, LOG = reverse("reminders:index"), reverse("reminders:log")


def steps_url(code: Code) -> str:
    return reverse("reminders:code_steps", args=[code.slug])


@pytest.fixture
def trusts(db):
    oak, elm = trust_tree("Oak Trust"), trust_tree("Elm Trust")
    people = {
        "oak_admin": officer(oak["trust"], "admin", "Oak Admin"),
        "elm_admin": officer(elm["trust"], "admin", "Elm Admin"),
        "school_admin": officer(oak["north"], "admin", "North School Admin"),
        "clerk": officer(oak["board"], "clerk", "Oak Clerk"),
        "teacher": member(oak["north"], "employee", "Oak Teacher"),
        "south_teacher": member(oak["south"], "employee", "South Teacher"),
        "elm_teacher": member(elm["north"], "employee", "Elm Teacher"),
    }
    codes = {
        "oak": CodeFactory.create(owner=oak["trust"], title="Oak staff code", slug="oak-staff"),
        "elm": CodeFactory.create(owner=elm["trust"], title="Elm staff code", slug="elm-staff"),
    }
    return oak, elm, people, codes


def log_row(recipient, organisation, code=None, **fields) -> ReminderLog:
    fields.setdefault("planned_for", timezone.localdate())
    fields.setdefault("step", f"step-{ReminderLog.objects.count()}")
    return ReminderLog.objects.create(
        recipient=recipient,
        organisation=organisation,
        code=code,
        kind=fields.pop("kind", "signing"),
        subject=fields.pop("subject", f"obligation:{ReminderLog.objects.count()}"),
        **fields,
    )


# ---------------------------------------------------------------------------
# Who may see what
# ---------------------------------------------------------------------------


def test_pages_need_sign_in(client, trusts):
    oak, elm, people, codes = trusts
    for url in (INDEX, LOG, steps_url(codes["oak"])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_people_who_are_not_admins_get_404(client_for, trusts):
    oak, elm, people, codes = trusts
    for name in ("clerk", "teacher"):
        client = client_for(people[name])
        assert [client.get(url).status_code for url in (INDEX, LOG, steps_url(codes["oak"]))] == [404, 404, 404]
        assert "Reminders</a>" not in client.get("/").content.decode()


def test_an_admin_sees_and_edits_only_their_own_trusts_codes(client_for, trusts):
    oak, elm, people, codes = trusts
    client = client_for(people["oak_admin"])
    page = client.get(INDEX).content.decode()
    assert "Oak staff code" in page and "Elm staff code" not in page
    assert f'href="{steps_url(codes["oak"])}"' in page
    assert 'href="/reminders/"' in client.get("/").content.decode()  # the navigation link
    assert client.get(steps_url(codes["oak"])).status_code == 200
    assert client.get(steps_url(codes["elm"])).status_code == 404  # another trust's code, by changing the URL
    response = client.post(
        steps_url(codes["elm"]),
        {
            "review_reminder_days": "1",
            "signing_reminder_days": "1",
            "overdue_repeat_days": "1",
            "escalate_after_days": "1",
        },
    )
    assert response.status_code == 404
    codes["elm"].refresh_from_db()
    assert codes["elm"].review_reminder_days == [60, 30, 7] and codes["elm"].overdue_repeat_days == 7


def test_a_school_admin_cannot_change_the_trusts_code(client_for, trusts):
    oak, elm, people, codes = trusts
    client = client_for(people["school_admin"])
    assert client.get(steps_url(codes["oak"])).status_code == 404
    assert "Oak staff code" not in client.get(INDEX).content.decode()


# ---------------------------------------------------------------------------
# Editing the steps
# ---------------------------------------------------------------------------


def test_saving_the_steps_stores_them_largest_first_without_repeats(client_for, trusts):
    oak, elm, people, codes = trusts
    client = client_for(people["oak_admin"])
    form = client.get(steps_url(codes["oak"])).content.decode()
    assert 'value="60, 30, 7"' in form and 'value="7, 0"' in form
    response = client.post(
        steps_url(codes["oak"]),
        {
            "review_reminder_days": "7, 90 30,30",
            "signing_reminder_days": "0, 3, 10",
            "overdue_repeat_days": "14",
            "escalate_after_days": "21",
        },
        follow=True,
    )
    assert response.redirect_chain == [(INDEX, 302)]
    assert "Reminder settings for Oak staff code saved" in response.content.decode()
    codes["oak"].refresh_from_db()
    assert codes["oak"].review_reminder_days == [90, 30, 7]
    assert codes["oak"].signing_reminder_days == [10, 3, 0]
    assert (codes["oak"].overdue_repeat_days, codes["oak"].escalate_after_days) == (14, 21)
    assert "90, 30, 7 days before" in response.content.decode()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("review_reminder_days", "sixty", "Enter whole numbers of days separated by commas"),
        ("review_reminder_days", "60, -1", "Enter whole numbers of days separated by commas"),
        ("signing_reminder_days", "400", "Each number of days must be between 0 and 365."),
        ("signing_reminder_days", ", ".join(str(n) for n in range(1, 12)), "Give at most 10 reminders."),
        ("overdue_repeat_days", "0", "Ensure this value is greater than or equal to 1."),
        ("overdue_repeat_days", "", "This field is required."),
        ("escalate_after_days", "366", "Ensure this value is less than or equal to 365."),
    ],
)
def test_bad_steps_are_refused_with_a_clear_message_and_nothing_is_saved(client_for, trusts, field, value, message):
    oak, elm, people, codes = trusts
    data = {
        "review_reminder_days": "60, 30, 7",
        "signing_reminder_days": "7, 0",
        "overdue_repeat_days": "5",
        "escalate_after_days": "10",
        field: value,
    }
    response = client_for(people["oak_admin"]).post(steps_url(codes["oak"]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    codes["oak"].refresh_from_db()
    assert (codes["oak"].review_reminder_days, codes["oak"].signing_reminder_days) == ([60, 30, 7], [7, 0])
    assert (codes["oak"].overdue_repeat_days, codes["oak"].escalate_after_days) == (7, 14)


def test_empty_lists_mean_no_reminders_before_the_date(client_for, trusts):
    oak, elm, people, codes = trusts
    client_for(people["oak_admin"]).post(
        steps_url(codes["oak"]),
        {
            "review_reminder_days": "",
            "signing_reminder_days": " ",
            "overdue_repeat_days": "7",
            "escalate_after_days": "0",
        },
    )
    codes["oak"].refresh_from_db()
    assert (codes["oak"].review_reminder_days, codes["oak"].signing_reminder_days) == ([], [])
    assert codes["oak"].escalate_after_days == 0


# ---------------------------------------------------------------------------
# The log
# ---------------------------------------------------------------------------


def test_the_log_shows_who_what_when_and_outcome_for_the_admins_organisations_only(client_for, trusts):
    oak, elm, people, codes = trusts
    sent_at = timezone.make_aware(datetime(2026, 11, 20, 7, 5))
    log_row(
        people["teacher"],
        oak["north"],
        codes["oak"],
        status="sent",
        sent_at=sent_at,
        step="before-7",
        due_on=date(2026, 11, 27),
    )
    log_row(
        people["south_teacher"],
        oak["south"],
        codes["oak"],
        status="given_up",
        attempts=6,
        last_error="451 Try again later",
    )
    log_row(
        people["teacher"], oak["north"], codes["oak"], status="skipped", note="Signed before the reminder went out."
    )
    log_row(people["elm_teacher"], elm["north"], codes["elm"], status="sent", sent_at=sent_at)

    page = client_for(people["oak_admin"]).get(LOG).content.decode()
    assert "Oak Teacher" in page and "South Teacher" in page and "Elm Teacher" not in page
    assert "7 days before" in page and "due 27 Nov 2026" in page and "20 Nov 2026, 07:05" in page
    assert "Given up after repeated errors" in page and "after 6 attempts" in page and "Try again later" in page
    assert "Not needed" in page and "Signed before the reminder went out." in page
    assert "3 reminders" in page

    school_page = client_for(people["school_admin"]).get(LOG).content.decode()
    assert "Oak Teacher" in school_page and "South Teacher" not in school_page  # another school of the trust

    elm_page = client_for(people["elm_admin"]).get(LOG).content.decode()
    assert "Elm Teacher" in elm_page and "Oak Teacher" not in elm_page


def test_the_log_filters_by_name_kind_and_outcome(client_for, trusts):
    oak, elm, people, codes = trusts
    log_row(people["teacher"], oak["north"], codes["oak"], status="sent", sent_at=timezone.now())
    log_row(people["south_teacher"], oak["south"], codes["oak"], status="failed")
    log_row(people["clerk"], oak["board"], codes["oak"], kind="review", subject="adoption:1")
    client = client_for(people["oak_admin"])
    assert "South Teacher" not in client.get(LOG, {"q": "oak teach"}).content.decode()
    assert "Oak Teacher" in client.get(LOG, {"q": "oak teach"}).content.decode()
    by_kind = client.get(LOG, {"kind": "review"}).content.decode()
    assert "Oak Clerk" in by_kind and "Oak Teacher" not in by_kind
    by_status = client.get(LOG, {"status": "failed"}).content.decode()
    assert "South Teacher" in by_status and "Oak Teacher" not in by_status
    assert "No reminder matches these filters." in client.get(LOG, {"q": "nobody"}).content.decode()


def test_the_log_is_paginated_and_its_queries_do_not_grow_with_the_rows(client_for, trusts):
    oak, elm, people, codes = trusts
    client = client_for(people["oak_admin"])
    log_row(people["teacher"], oak["north"], codes["oak"])
    with CaptureQueriesContext(connection) as small:
        assert client.get(LOG).status_code == 200
    others = [PersonFactory.create() for _ in range(6)]
    for n in range(59):
        log_row(
            others[n % 6],
            [oak["north"], oak["south"], oak["board"]][n % 3],
            codes["oak"] if n % 2 else None,
            kind=["signing", "declaration", "escalation"][n % 3],
            planned_for=date(2026, 11, 1) + timedelta(days=n),
        )
    with CaptureQueriesContext(connection) as large:
        first = client.get(LOG).content.decode()
    assert len(large) == len(small)
    assert "60 reminders, page 1 of 2" in first and first.count("<tr>") == 51  # header and 50 rows
    second = client.get(LOG, {"page": 2}).content.decode()
    assert second.count("<tr>") == 11 and "page 2 of 2" in second
    assert client.get(LOG, {"page": "999"}).status_code == 200  # past the end: the last page, not an error


def test_the_overview_counts_the_last_30_days_by_outcome(client_for, trusts):
    oak, elm, people, codes = trusts
    log_row(people["teacher"], oak["north"], codes["oak"], status="sent", sent_at=timezone.now())
    log_row(people["teacher"], oak["north"], codes["oak"], status="failed")
    log_row(
        people["teacher"],
        oak["north"],
        codes["oak"],
        status="sent",
        sent_at=timezone.now(),
        planned_for=timezone.localdate() - timedelta(days=40),
    )
    log_row(people["elm_teacher"], elm["north"], codes["elm"], status="sent", sent_at=timezone.now())
    response = client_for(people["oak_admin"]).get(INDEX)
    assert [(status, count) for status, _label, count in response.context["recent"]] == [
        ("pending", 0),
        ("sending", 0),
        ("sent", 1),
        ("failed", 1),
        ("given_up", 0),
        ("skipped", 0),
    ]


def test_the_steps_service_refuses_bad_values_and_saves_nothing(trusts):
    from django.core.exceptions import ValidationError

    oak, elm, people, codes = trusts
    good: dict[str, Any] = {  # Any: the test passes values of the wrong types on purpose
        "review_reminder_days": [30],
        "signing_reminder_days": [7],
        "overdue_repeat_days": 7,
        "escalate_after_days": 14,
    }
    for bad in (
        {"review_reminder_days": [-1]},
        {"signing_reminder_days": ["7"]},
        {"signing_reminder_days": list(range(11))},
        {"overdue_repeat_days": 0},
        {"escalate_after_days": -3},
    ):
        with pytest.raises(ValidationError):
            code_reminder_steps_update(code=codes["oak"], **{**good, **bad})
    codes["oak"].refresh_from_db()
    assert (codes["oak"].review_reminder_days, codes["oak"].signing_reminder_days) == ([60, 30, 7], [7, 0])
    assert (codes["oak"].overdue_repeat_days, codes["oak"].escalate_after_days) == (7, 14)
    codes["oak"].audience = []  # a problem elsewhere in the record does not block the reminders
    Code.objects.filter(pk=codes["oak"].pk).update(audience=[])
    code_reminder_steps_update(code=codes["oak"], **good)
    codes["oak"].refresh_from_db()
    assert codes["oak"].review_reminder_days == [30]


def test_the_overview_queries_do_not_grow_with_codes_or_reminders(client_for, trusts):
    oak, elm, people, codes = trusts
    client = client_for(people["oak_admin"])
    with CaptureQueriesContext(connection) as small:
        assert client.get(INDEX).status_code == 200
    for n in range(6):
        CodeFactory.create(owner=oak["trust"] if n % 2 else oak["north"], title=f"Extra code {n}", slug=f"extra-{n}")
        log_row(people["teacher"], oak["north"], codes["oak"], status="sent", sent_at=timezone.now())
    with CaptureQueriesContext(connection) as large:
        page = client.get(INDEX).content.decode()
    assert len(large) == len(small)
    assert page.count("> reminders for ") == 7  # the trust's code and the six added ones (a school's included)
