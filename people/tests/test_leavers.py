"""A leaver gets no reminders after their last day and the dashboard's numbers stay right (counted here by hand)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from acknowledgements.models import Obligation
from conduct.people import person_record_leaver
from reminders.models import ReminderLog
from reminders.planning import reminders_plan
from reports.selectors import ReportFilters, dashboard

pytestmark = pytest.mark.django_db


def owed_by_hand(obligations: list[Obligation], day: date) -> tuple[int, int]:
    """(owe, overdue) on ``day``, from the rows themselves: owed from its day while its role is held, unsigned."""
    owe = overdue = 0
    for o in obligations:
        role = o.role
        held = role.starts_on <= day and (role.ends_on is None or role.ends_on >= day)
        if not held or o.owed_from > day or o.superseded_at is not None:
            continue
        owe += 1
        if o.acknowledged_at is None and o.due_on < day:
            overdue += 1
    return owe, overdue


def test_a_leaver_gets_no_reminders_after_their_last_day(world):
    ada, sam = world.oak.person, world.south_staff
    due_on = Obligation.objects.get(person=ada).due_on
    assert Obligation.objects.get(person=sam).due_on == due_on  # both owe the same code, due the same day
    person_record_leaver(
        actor=world.trust_admin,
        person=ada,
        ends_on=due_on - timedelta(days=3),
        reason="Left",
        within=world.orgs["trust"],
    )
    reminders_plan(today=due_on - timedelta(days=7))  # before the last day: both are reminded
    assert set(ReminderLog.objects.filter(kind="signing").values_list("recipient_id", flat=True)) == {ada.pk, sam.pk}
    reminders_plan(today=due_on)  # after it: only Sam
    reminders_plan(today=due_on + timedelta(days=7))
    after = ReminderLog.objects.filter(kind="signing", planned_for__gt=due_on - timedelta(days=3))
    assert set(after.values_list("recipient_id", flat=True)) == {sam.pk}
    assert Obligation.objects.filter(person=ada).exists()  # kept as history


def test_the_dashboard_counts_a_leaver_until_their_last_day_only(world):
    ada = world.oak.person
    obligation = Obligation.objects.get(person=ada)
    last_day = obligation.due_on + timedelta(days=5)
    person_record_leaver(
        actor=world.trust_admin, person=ada, ends_on=last_day, reason="Left", within=world.orgs["trust"]
    )
    rows = list(Obligation.objects.filter(code=world.oak.code).select_related("role"))
    for day in (last_day, last_day + timedelta(days=1)):
        filters = ReportFilters(organisation=world.orgs["trust"], as_at=day, code=world.oak.code)
        totals = dashboard(world.trust_admin, filters).totals
        assert (totals.owe, totals.overdue) == owed_by_hand(rows, day), day
    # On their last day both Ada and Sam owe it, overdue; the day after only Sam.
    assert owed_by_hand(rows, last_day) == (2, 2) and owed_by_hand(rows, last_day + timedelta(days=1)) == (1, 1)
