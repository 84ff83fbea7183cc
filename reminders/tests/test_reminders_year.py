"""A year of daily runs with a frozen clock: exactly the specified reminders, on the right days, and no others.

One trust, its staff code adopted on 10 September 2025 and again on 25 June
2026, staff who sign early, late or never, a leaver, a joiner, governors whose
declarations lapse, the board's chair and clerk, and the trust's and a school's
admins. Every morning at 07:00 the beat task runs (Celery eager, mail to the
locmem outbox). The expected reminders below are written out from the issue's
rules by hand, not computed by the code under test.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import pytest
from django.core import mail

from conduct.tests.factories import adopt, make_version, trust_tree
from reminders.models import ReminderLog, ReminderStatus
from reminders.tests.reminder_helpers import (
    Sent,
    at,
    days,
    declare,
    every,
    frozen,
    member,
    officer,
    run_daily,
    sent_log,
    sign,
    staff_code,
)

FIRST_DAY, LAST_DAY = date(2025, 9, 10), date(2026, 9, 9)
SECOND_ADOPTION = date(2026, 6, 25)


def _signing(
    email: str, owed: date, before_7: date | None = None, due: date | None = None, overdue: Sequence[date] = ()
) -> set[Sent]:
    expected = {Sent(owed, email, "signing", "owed")}
    if before_7:
        expected.add(Sent(before_7, email, "signing", "before-7"))
    if due:
        expected.add(Sent(due, email, "signing", "due"))
    expected |= {Sent(day, email, "signing", f"overdue-{n}") for n, day in enumerate(overdue, start=1)}
    return expected


def _declaration(
    email: str, owed: date, before_7: date | None = None, due: date | None = None, overdue: Sequence[date] = ()
) -> set[Sent]:
    return {Sent(s.day, s.email, "declaration", s.step) for s in _signing(email, owed, before_7, due, overdue)}


def _expected() -> set[Sent]:
    expected: set[Sent] = set()
    # Signing, first adoption: owed 10 Sep 2025, due 10 Oct 2025 (7 days before: 3 Oct), weekly from 17 Oct.
    v1 = {"owed": date(2025, 9, 10), "before_7": date(2025, 10, 3), "due": date(2025, 10, 10)}
    # Alice never signs: weekly until the second adoption replaces the version (25 June 2026).
    expected |= _signing("alice@example.org", **v1, overdue=every(date(2025, 10, 17), 7, date(2026, 6, 24)))
    # Bob signs on 3 October before the morning run: the invitation only.
    expected |= _signing("bob@example.org", owed=v1["owed"])
    # Len leaves on 20 October: nothing after his role ends.
    expected |= _signing("len@example.org", **v1, overdue=[date(2025, 10, 17)])
    # Sam signs on 1 November, after three overdue reminders.
    expected |= _signing("sam@example.org", **v1, overdue=[date(2025, 10, 17), date(2025, 10, 24), date(2025, 10, 31)])
    # Jo joins on 5 January 2026: owed from then, due 30 days later (4 February), signs on 20 February.
    expected |= _signing(
        "jo@example.org",
        owed=date(2026, 1, 5),
        before_7=date(2026, 1, 28),
        due=date(2026, 2, 4),
        overdue=[date(2026, 2, 11), date(2026, 2, 18)],
    )
    # Second adoption on 25 June 2026, due 25 July: Bob, Sam and Jo sign the next day; Alice never does.
    for email in ("bob@example.org", "sam@example.org", "jo@example.org"):
        expected |= _signing(email, owed=SECOND_ADOPTION)
    expected |= _signing(
        "alice@example.org",
        owed=SECOND_ADOPTION,
        before_7=date(2026, 7, 18),
        due=date(2026, 7, 25),
        overdue=every(date(2026, 8, 1), 7, LAST_DAY),
    )

    # Escalation: more than 14 days overdue. One digest per admin each time someone new escalates:
    # 25 Oct 2025 (Alice and Sam, 15 days after 10 Oct), 19 Feb 2026 (Jo), 9 Aug 2026 (Alice, second version).
    # The trust admin reaches both schools; the school admin only Northgate, where all three escalations happen.
    for day in (date(2025, 10, 25), date(2026, 2, 19), date(2026, 8, 9)):
        for email in ("admin@example.org", "north.admin@example.org"):
            expected.add(Sent(day, email, "escalation", day.isoformat()))

    # Review of the first adoption, due 31 May 2026: 60, 30, 7 days before, weekly while overdue,
    # until the board adopts the next version on 25 June. The chair and the clerk each get them.
    review_days = {
        "before-60": date(2026, 4, 1),
        "before-30": date(2026, 5, 1),
        "before-7": date(2026, 5, 24),
        "overdue-1": date(2026, 6, 7),
        "overdue-2": date(2026, 6, 14),
        "overdue-3": date(2026, 6, 21),
    }
    for email in ("chair@example.org", "clerk@example.org"):
        expected |= {Sent(day, email, "review", step) for step, day in review_days.items()}

    # Declarations (due 30 days after they lapse on 1 September, or after joining).
    # Tess last declared in October 2024: lapsed on 1 September 2025, reminded on the first run (10 September),
    # declares on 20 October. Greg joins on 1 February 2026 and declares on 20 March. The chair declared on
    # 2 September 2025. Everyone lapses again on 1 September 2026. Fred stepped down in August 2025: nothing.
    expected |= _declaration(
        "tess@example.org",
        owed=date(2025, 9, 10),
        before_7=date(2025, 9, 24),
        due=date(2025, 10, 1),
        overdue=[date(2025, 10, 8), date(2025, 10, 15)],
    )
    expected |= _declaration(
        "greg@example.org",
        owed=date(2026, 2, 1),
        before_7=date(2026, 2, 24),
        due=date(2026, 3, 3),
        overdue=[date(2026, 3, 10), date(2026, 3, 17)],
    )
    for email in ("tess@example.org", "greg@example.org", "chair@example.org"):
        expected.add(Sent(date(2026, 9, 1), email, "declaration", "owed"))
    return expected


@pytest.fixture
def year(db):
    with frozen(FIRST_DAY, hour=6):
        orgs = trust_tree("Oak Trust")
        people = {
            "admin": officer(orgs["trust"], "admin", "Admin"),
            "north_admin": officer(orgs["north"], "admin", "North Admin"),
            "chair": officer(orgs["board"], "chair", "Chair"),
            "clerk": officer(orgs["board"], "clerk", "Clerk"),
            "alice": member(orgs["north"], "employee", "Alice"),
            "bob": member(orgs["north"], "employee", "Bob"),
            "len": member(orgs["north"], "employee", "Len", until=date(2025, 10, 20)),
            "sam": member(orgs["south"], "employee", "Sam"),
            "jo": member(orgs["north"], "employee", "Jo", since=date(2026, 1, 5)),
            "tess": member(orgs["board"], "trustee", "Tess", since=date(2018, 9, 1)),
            "greg": member(orgs["north_lgb"], "local_governor", "Greg", since=date(2026, 2, 1)),
            "fred": member(orgs["board"], "trustee", "Fred", since=date(2018, 9, 1), until=date(2025, 8, 31)),
        }
        declare(people["tess"], orgs["board"], date(2024, 10, 1))
        declare(people["chair"], orgs["board"], date(2025, 9, 2))
        code = staff_code(orgs["trust"])
        first = make_version(code, "2025-2026")
        adopt(
            first,
            orgs["board"],
            chair=people["chair"],
            held_on=FIRST_DAY,
            signing_due_on=date(2025, 10, 10),
            review_due_on=date(2026, 5, 31),
        )
    return orgs, people, code, first


def _events(orgs, people, code, first):
    """What happens on some mornings before the 07:00 run."""
    second = {}

    def second_adoption():
        second["version"] = make_version(code, "2026-2027")
        adopt(
            second["version"],
            orgs["board"],
            chair=people["chair"],
            held_on=SECOND_ADOPTION,
            signing_due_on=date(2026, 7, 25),
        )

    def second_signatures():
        for name in ("bob", "sam", "jo"):
            sign(people[name], second["version"], at(date(2026, 6, 26), 6))

    return {
        date(2025, 10, 3): lambda: sign(people["bob"], first, at(date(2025, 10, 3), 6)),
        date(2025, 10, 20): lambda: declare(people["tess"], orgs["board"], date(2025, 10, 19)),
        date(2025, 11, 1): lambda: sign(people["sam"], first, at(date(2025, 11, 1), 6)),
        date(2026, 2, 20): lambda: sign(people["jo"], first, at(date(2026, 2, 20), 6)),
        date(2026, 3, 20): lambda: declare(people["greg"], orgs["north_lgb"], date(2026, 3, 19)),
        SECOND_ADOPTION: second_adoption,
        date(2026, 6, 26): second_signatures,
    }


def test_a_year_of_daily_runs_sends_exactly_the_specified_reminders(year):
    orgs, people, code, first = year
    events = _events(orgs, people, code, first)
    emails_by_day: dict[date, list[str]] = defaultdict(list)
    for day in days(FIRST_DAY, LAST_DAY):
        if day in events:
            with frozen(day, hour=6):
                events[day]()
        for message in run_daily(day):
            emails_by_day[day].extend(message.to)

    expected = _expected()
    actual = sent_log()
    assert sorted(actual - expected, key=lambda s: (s.day, s.email)) == [], "sent but not expected"
    assert sorted(expected - actual, key=lambda s: (s.day, s.email)) == [], "expected but not sent"
    # Every reminder went out by email on its day, once; nothing is left pending, failed or skipped.
    assert sum(len(to) for to in emails_by_day.values()) == len(expected)
    for day, recipients in emails_by_day.items():
        assert sorted(address.split("<")[1].rstrip(">") for address in recipients) == sorted(
            s.email for s in expected if s.day == day
        ), day
    assert set(ReminderLog.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}


def test_the_digest_lists_who_is_outstanding_at_the_moment_it_is_sent(year):
    orgs, people, code, first = year
    for day in days(FIRST_DAY, date(2025, 10, 24)):
        if day == date(2025, 10, 3):
            with frozen(day, hour=6):
                sign(people["bob"], first, at(day, 6))
        run_daily(day)
    digests = [m for m in run_daily(date(2025, 10, 25)) if "Outstanding" in m.subject]
    by_recipient = {m.to[0]: m for m in digests}
    trust_digest = by_recipient["Admin <admin@example.org>"].body
    school_digest = by_recipient["North Admin <north.admin@example.org>"].body
    assert "Alice" in trust_digest and "Sam" in trust_digest
    assert "Alice" in school_digest and "Sam" not in school_digest  # Sam works at the other school
    assert "Bob" not in trust_digest and "Len" not in trust_digest  # signed; left on 20 October
    assert "2 people overdue" in by_recipient["Admin <admin@example.org>"].subject
    assert len(mail.outbox) == len(digests) == 2  # no other reminder falls on that day
