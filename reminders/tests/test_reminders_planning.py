"""The daily planner: steps, who is left out, idempotence, catching up, and set-based queries."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from acknowledgements.models import Obligation
from conduct.tests.factories import RoleFactory, trust_tree
from core.academic_year import academic_year_start
from reminders import planning
from reminders.models import ReminderKind, ReminderLog
from reminders.planning import reminders_plan
from reminders.steps import Step, code_reminder_steps_update, latest_step
from reminders.tests.reminder_helpers import (
    adopted_code,
    at,
    declare,
    frozen,
    member,
    officer,
    organisation_of,
    run_daily,
    sign,
)

D0 = date(2026, 1, 5)  # adoption day; signatures due 30 days later, on 4 February
DUE = D0 + timedelta(days=30)


def day(offset: int) -> date:
    return D0 + timedelta(days=offset)


# ---------------------------------------------------------------------------
# Steps (pure date arithmetic)
# ---------------------------------------------------------------------------

# The signing series, waiting only for ``today`` (partial, so each call is checked against latest_step's signature).
signing_step = partial(latest_step, starts_on=D0, due_on=DUE, before_days=[7, 0], repeat_days=7, opening=True)


@pytest.mark.parametrize(
    "today, expected",
    [
        (day(-1), None),  # not owed yet
        (day(0), Step("owed", day(0))),
        (day(22), Step("owed", day(0))),
        (day(23), Step("before-7", day(23))),
        (day(29), Step("before-7", day(23))),
        (day(30), Step("due", day(30))),
        (day(36), Step("due", day(30))),
        (day(37), Step("overdue-1", day(37))),
        (day(44), Step("overdue-2", day(44))),
        (day(50), Step("overdue-2", day(44))),
        (day(400), Step("overdue-52", day(394))),
    ],
)
def test_signing_steps_invitation_seven_days_before_on_the_day_then_weekly(today, expected):
    assert signing_step(today=today) == expected


def test_a_step_before_someone_joined_never_happens_and_the_invitation_wins_its_own_day():
    joined_late = partial(signing_step, starts_on=day(26))  # joined four days before the due date
    assert joined_late(today=day(27)) == Step("owed", day(26))
    assert joined_late(today=day(30)) == Step("due", day(30))
    joined_on_step = partial(signing_step, starts_on=day(23))  # joined on the "7 days before" day
    assert joined_on_step(today=day(23)) == Step("owed", day(23))


def test_review_steps_have_no_opening_and_start_after_adoption():
    review = partial(
        latest_step,
        starts_on=date(2025, 9, 24),
        due_on=date(2026, 9, 24),
        before_days=[60, 30, 7],
        repeat_days=7,
        opening=False,
    )
    assert review(today=date(2026, 7, 25)) is None
    assert review(today=date(2026, 7, 26)) == Step("before-60", date(2026, 7, 26))
    assert review(today=date(2026, 9, 24)) == Step("before-7", date(2026, 9, 17))
    assert review(today=date(2026, 10, 1)) == Step("overdue-1", date(2026, 10, 1))
    short = partial(review, starts_on=date(2026, 9, 1))  # adopted 23 days before its review date
    assert short(today=date(2026, 9, 10)) is None


def test_academic_year_starts_on_1_september():
    assert academic_year_start(date(2026, 8, 31)) == date(2025, 9, 1)
    assert academic_year_start(date(2026, 9, 1)) == date(2026, 9, 1)


# ---------------------------------------------------------------------------
# Signing: who is reminded
# ---------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    """Oak Trust with its staff code adopted on D0: people who owe it in various states."""
    orgs = trust_tree("Oak Trust")
    with frozen(D0, hour=5):
        people = {
            "owes": member(orgs["north"], "employee", "Owes"),
            "signed": member(orgs["north"], "employee", "Signed"),
            "leaver": member(orgs["north"], "employee", "Leaver", until=day(10)),
            "inactive": member(orgs["south"], "employee", "Inactive"),
            "joiner": member(orgs["south"], "employee", "Joiner", since=day(20)),
        }
    code, version = adopted_code(orgs, D0)
    with frozen(day(1), hour=5):
        sign(people["signed"], version, at(day(1), 5))
    people["inactive"].is_active = False
    people["inactive"].save()
    return orgs, people, code, version


def signing_planned() -> list[tuple[str, str]]:
    return sorted(ReminderLog.objects.filter(kind="signing").values_list("recipient__full_name", "step"))


def test_signers_leavers_inactive_accounts_and_people_not_started_yet_are_not_reminded(staff):
    reminders_plan(today=day(19))
    # Signed on day 1; left on day 10; deactivated; the joiner's role starts on day 20.
    assert signing_planned() == [("Owes", "owed")]
    reminders_plan(today=day(23))
    assert signing_planned() == [("Joiner", "owed"), ("Owes", "before-7"), ("Owes", "owed")]


def test_a_superseded_obligation_is_not_reminded(staff):
    orgs, people, code, version = staff
    Obligation.objects.filter(person=people["owes"]).update(superseded_at=at(day(2)))
    reminders_plan(today=day(23))
    assert signing_planned() == [("Joiner", "owed")]


def test_each_row_says_what_it_is_about(staff):
    orgs, people, code, version = staff
    reminders_plan(today=day(23))
    row = ReminderLog.objects.get(recipient=people["owes"])
    obligation = Obligation.objects.get(person=people["owes"])
    assert (row.kind, row.subject, row.step, row.planned_for) == (
        "signing",
        f"obligation:{obligation.pk}",
        "before-7",
        day(23),
    )
    assert (row.obligation, row.code, row.organisation, row.due_on) == (obligation, code, orgs["north"], DUE)
    assert (row.status, row.attempts, row.sent_at, row.claimed_at) == ("pending", 0, None, None)


# ---------------------------------------------------------------------------
# Idempotence and catching up
# ---------------------------------------------------------------------------


def test_running_the_day_twice_sends_each_reminder_once(staff):
    first = run_daily(day(23))
    second = run_daily(day(23))
    later_the_same_day = run_daily(day(23), hour=19)
    assert sorted(m.to[0].split(" <")[0] for m in first if "sign" in m.subject) == ["Joiner", "Owes"]
    assert second == [] and later_the_same_day == []
    assert ReminderLog.objects.filter(kind="signing").count() == 2
    assert set(ReminderLog.objects.values_list("status", flat=True)) == {"sent"}


def test_a_missed_day_is_caught_up_with_the_latest_reminder_only(staff):
    run_daily(day(0))
    # The runs of days 1 to 31 never happened (the server was off): "7 days before" and "on the day" were missed.
    sent = [m for m in run_daily(day(32)) if "Owes" in m.to[0]]
    assert [m.subject for m in sent] == [f"Overdue: please sign {staff[2].title} (it was due on 4 February 2026)"]
    assert sorted(ReminderLog.objects.filter(recipient=staff[1]["owes"]).values_list("step", "planned_for")) == [
        ("due", day(32)),
        ("owed", day(0)),
    ]
    assert run_daily(day(33)) == []


def test_changing_the_steps_never_sends_an_earlier_step_after_a_later_one(staff):
    orgs, people, code, version = staff
    run_daily(day(0))
    run_daily(day(23))  # "7 days before"
    code_reminder_steps_update(
        code=code,
        review_reminder_days=[60, 30, 7],
        signing_reminder_days=[10, 0],
        overdue_repeat_days=7,
        escalate_after_days=14,
    )
    assert [m for m in run_daily(day(24)) if "Owes" in m.to[0]] == []  # "10 days before" (day 20) has passed
    assert [m.subject for m in run_daily(day(30)) if "Owes" in m.to[0]] == [f"Due today: please sign {code.title}"]


# ---------------------------------------------------------------------------
# Reviews, declarations, escalations
# ---------------------------------------------------------------------------


def test_review_reminders_go_to_the_current_chair_and_clerk_of_the_adopting_board(db):
    orgs = trust_tree("Oak Trust")
    chair = officer(orgs["board"], "chair", "Chair")
    both = officer(orgs["board"], "clerk", "Clerk And Vice")
    RoleFactory.create(person=both, organisation=orgs["board"], kind="chair", starts_on=date(2019, 9, 1))
    former_clerk = officer(orgs["board"], "clerk", "Former Clerk")
    former_clerk.roles.update(ends_on=date(2025, 12, 31))
    officer(orgs["north_lgb"], "clerk", "Other Board Clerk")
    code, version = adopted_code(orgs, D0, chair=chair, review_due_on=day(90))
    reminders_plan(today=day(30))  # 60 days before the review date
    reviews = ReminderLog.objects.filter(kind=ReminderKind.REVIEW)
    assert sorted(reviews.values_list("recipient__full_name", "step")) == [
        ("Chair", "before-60"),
        ("Clerk And Vice", "before-60"),  # chair and clerk: one reminder, not two
    ]
    assert {r.organisation for r in reviews} == {orgs["board"]} and {r.due_on for r in reviews} == {day(90)}


def test_a_declaration_for_any_organisation_of_the_same_trust_counts_but_not_another_trusts(db):
    oak, elm = trust_tree("Oak Trust"), trust_tree("Elm Trust")
    with frozen(date(2026, 9, 2), hour=5):
        declared_here = member(oak["board"], "trustee", "Declared Here")
        declared_elsewhere = member(oak["north_lgb"], "local_governor", "Declared Elsewhere")
        RoleFactory.create(person=declared_here, organisation=elm["board"], kind="trustee", starts_on=date(2020, 9, 1))
    declare(declared_here, oak["north_lgb"], date(2026, 9, 1))  # another board of the same trust
    declare(declared_elsewhere, elm["board"], date(2026, 9, 1))  # a different trust
    reminders_plan(today=date(2026, 9, 2))
    rows = ReminderLog.objects.filter(kind=ReminderKind.DECLARATION).select_related("recipient", "organisation")
    assert sorted((r.recipient.full_name, organisation_of(r).name, r.step) for r in rows) == [
        ("Declared Elsewhere", "Oak Trust North LGB", "owed"),
        ("Declared Here", "Elm Trust Board", "owed"),  # declared to Oak, still owes Elm
    ]
    assert {r.due_on for r in rows} == {date(2026, 10, 1)}


def test_escalation_goes_once_to_each_clerk_and_admin_at_or_above_and_only_when_something_new_escalates(db):
    oak, elm = trust_tree("Oak Trust"), trust_tree("Elm Trust")
    admin = officer(oak["trust"], "admin", "Trust Admin")
    RoleFactory.create(person=admin, organisation=oak["board"], kind="clerk", starts_on=date(2019, 9, 1))
    RoleFactory.create(person=admin, organisation=elm["trust"], kind="admin", starts_on=date(2019, 9, 1))
    officer(oak["north_lgb"], "clerk", "LGB Clerk")
    officer(oak["board"], "clerk", "Board Clerk")
    officer(oak["north"], "admin", "School Admin")
    officer(oak["south_lgb"], "clerk", "Other LGB Clerk")
    with frozen(D0, hour=5):
        member(oak["north_lgb"], "local_governor", "Late Governor")
    adopted_code(oak, D0, audience=("local_governor", "trustee"))
    reminders_plan(today=day(44))  # 14 days overdue: not yet
    assert not ReminderLog.objects.filter(kind=ReminderKind.ESCALATION).exists()
    reminders_plan(today=day(45))  # more than 14 days overdue
    digests = ReminderLog.objects.filter(kind=ReminderKind.ESCALATION).select_related("recipient", "organisation")
    assert sorted((d.recipient.full_name, organisation_of(d).name) for d in digests) == [
        ("Board Clerk", "Oak Trust Board"),
        ("LGB Clerk", "Oak Trust North LGB"),
        ("Trust Admin", "Oak Trust"),  # one digest for the trust, none for the board below it, none for Elm
    ]
    reminders_plan(today=day(46))
    reminders_plan(today=day(52))
    assert ReminderLog.objects.filter(kind=ReminderKind.ESCALATION).count() == 3  # nothing new has escalated


# ---------------------------------------------------------------------------
# Set-based: the number of queries does not depend on the amount of data
# ---------------------------------------------------------------------------


def _grow(orgs, count: int, start: int) -> None:
    with frozen(D0, hour=5):
        for n in range(start, start + count):
            member(orgs["north"], "employee", f"Employee {n}")
            member(orgs["board"], "trustee", f"Trustee {n}")
    Obligation.objects.update(owed_from=day(0))


def _plan_queries(today: date) -> int:
    ReminderLog.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        reminders_plan(today=today)
    return len(queries)


def test_planning_queries_do_not_grow_with_the_number_of_people(db):
    orgs = trust_tree("Oak Trust")
    officer(orgs["trust"], "admin", "Admin")
    _grow(orgs, 2, 0)
    adopted_code(orgs, D0, audience=("employee", "trustee"), review_due_on=day(60))
    small = _plan_queries(day(45))
    small_rows = ReminderLog.objects.count()
    _grow(orgs, 8, 2)
    first = Obligation.objects.first()
    assert first is not None
    Obligation.objects.update(adoption=first.adoption)
    large = _plan_queries(day(45))
    assert ReminderLog.objects.count() > small_rows * 3
    assert large == small


def test_planning_in_small_chunks_plans_the_same_reminders(db, monkeypatch):
    orgs = trust_tree("Oak Trust")
    officer(orgs["trust"], "admin", "Admin")
    _grow(orgs, 5, 0)
    adopted_code(orgs, D0, audience=("employee", "trustee"), review_due_on=day(60))
    reminders_plan(today=day(45))
    whole = sorted(ReminderLog.objects.values_list("recipient_id", "subject", "step"))
    ReminderLog.objects.all().delete()
    monkeypatch.setattr(planning, "CHUNK", 2)
    reminders_plan(today=day(45))
    assert sorted(ReminderLog.objects.values_list("recipient_id", "subject", "step")) == whole
    # Signing (5 employees, 5 trustees), declarations (5 trustees and the chair), the review, the admin's digest.
    assert len(whole) == 5 + 5 + 6 + 1 + 1


def test_each_codes_own_steps_and_escalation_threshold_are_used(db):
    orgs = trust_tree("Oak Trust")
    chair = officer(orgs["board"], "chair", "Chair")
    officer(orgs["trust"], "admin", "Admin")
    with frozen(D0, hour=5):
        member(orgs["north"], "employee", "Late")
    code, version = adopted_code(orgs, D0, chair=chair, review_due_on=day(40))
    code_reminder_steps_update(
        code=code, review_reminder_days=[14], signing_reminder_days=[3], overdue_repeat_days=2, escalate_after_days=3
    )

    def planned_on(offset: int) -> list[tuple[str, str]]:
        reminders_plan(today=day(offset))
        return sorted(
            ReminderLog.objects.filter(planned_for=day(offset)).exclude(kind="declaration").values_list("kind", "step")
        )

    assert planned_on(0) == [("signing", "owed")]
    assert planned_on(25) == []  # no "14 days before" the review (day 26) yet, no "7 days before" the due date
    assert planned_on(26) == [("review", "before-14")]
    assert planned_on(27) == [("signing", "before-3")]
    assert planned_on(30) == []  # no reminder on the due day: 0 is not among the steps
    assert planned_on(32) == [("signing", "overdue-1")]  # every 2 days while overdue
    assert planned_on(33) == []
    assert planned_on(34) == [("escalation", day(34).isoformat()), ("signing", "overdue-2")]  # > 3 days overdue
