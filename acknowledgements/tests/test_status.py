"""An obligation's status: one vocabulary and one rule for pages, reminders, reports and exports."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from acknowledgements.models import Obligation, ObligationStatus, obligation_status
from acknowledgements.tests.factories import owing
from reports.selectors import STATUSES, TimelineGroup, owed_q, status_q

LONDON = ZoneInfo("Europe/London")
DUE = date(2026, 6, 30)


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def status(today: date, *, acknowledged_at=None, superseded_at=None) -> ObligationStatus:
    return obligation_status(acknowledged_at=acknowledged_at, superseded_at=superseded_at, due_on=DUE, today=today)


def test_it_is_outstanding_up_to_and_on_the_due_date_and_overdue_from_the_day_after():
    assert status(DUE - timedelta(days=30)) == ObligationStatus.OUTSTANDING
    assert status(DUE) == ObligationStatus.OUTSTANDING
    assert status(DUE + timedelta(days=1)) == ObligationStatus.OVERDUE


def test_a_signature_counts_from_the_london_day_it_was_made():
    late_evening = london(DUE, 23, 59)
    assert status(DUE, acknowledged_at=late_evening) == ObligationStatus.SIGNED
    assert status(DUE - timedelta(days=1), acknowledged_at=late_evening) == ObligationStatus.OUTSTANDING
    # 23:30 UTC on 30 June is already 1 July in London (BST): as at 30 June it was not yet signed.
    just_after_midnight = datetime(2026, 6, 30, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert status(DUE, acknowledged_at=just_after_midnight) == ObligationStatus.OUTSTANDING
    assert status(DUE + timedelta(days=1), acknowledged_at=just_after_midnight) == ObligationStatus.SIGNED


def test_a_london_day_counts_like_a_moment_on_that_day():
    assert status(DUE, acknowledged_at=DUE) == status(DUE, acknowledged_at=london(DUE, 9)) == ObligationStatus.SIGNED
    assert status(DUE, superseded_at=DUE + timedelta(days=1)) == ObligationStatus.OUTSTANDING
    assert status(DUE + timedelta(days=2), superseded_at=DUE + timedelta(days=1)) == ObligationStatus.SUPERSEDED


def test_superseded_before_it_was_due_is_not_overdue_and_a_signature_outranks_a_supersession():
    replaced = london(DUE - timedelta(days=5), 18)
    assert status(DUE + timedelta(days=10), superseded_at=replaced) == ObligationStatus.SUPERSEDED
    signed = london(DUE - timedelta(days=6), 10)
    assert status(DUE, acknowledged_at=signed, superseded_at=replaced) == ObligationStatus.SIGNED


def test_the_words_are_the_ones_reports_show():
    assert {status.value: status.label for status in ObligationStatus} == {
        "signed": "Signed",
        "outstanding": "Outstanding (not yet due)",
        "overdue": "Overdue",
        "superseded": "Superseded",
    }
    # An owed obligation is never superseded on the day it is owed, so reports offer the other three.
    assert STATUSES == {"signed": "Signed", "outstanding": "Outstanding (not yet due)", "overdue": "Overdue"}


@pytest.mark.django_db
def test_an_obligation_says_outstanding_then_overdue_then_signed():
    obligation = owing().obligation
    assert obligation.status(obligation.due_on) == ObligationStatus.OUTSTANDING == "outstanding"
    assert obligation.status(obligation.due_on + timedelta(days=1)) == ObligationStatus.OVERDUE
    Obligation.objects.filter(pk=obligation.pk).update(acknowledged_at=timezone.now())
    obligation.refresh_from_db()
    assert obligation.status() == ObligationStatus.SIGNED
    assert obligation.status(obligation.owed_from - timedelta(days=1)) == ObligationStatus.OUTSTANDING


@pytest.mark.django_db
def test_reports_count_each_status_by_the_same_rule_in_sql_and_in_python():
    """For every day around the ones that decide it, the report's SQL filter and the one rule agree."""
    obligation = owing().obligation
    signed_on = obligation.due_on + timedelta(days=3)  # signed late, in the evening (BST or GMT alike)
    Obligation.objects.filter(pk=obligation.pk).update(acknowledged_at=london(signed_on, 22, 30))
    obligation.refresh_from_db()
    assert obligation.acknowledged_at is not None
    group = TimelineGroup(
        owed_from=obligation.owed_from,
        role__ends_on=None,
        superseded_on=None,
        signed_on=signed_on,
        due_on=obligation.due_on,
        n=1,
    )
    days = [obligation.owed_from, obligation.due_on, obligation.due_on + timedelta(days=1), signed_on]
    days += [signed_on - timedelta(days=1), signed_on + timedelta(days=1)]
    for day in days:
        expected = obligation_status(
            acknowledged_at=obligation.acknowledged_at, superseded_at=None, due_on=obligation.due_on, today=day
        )
        matching = {
            value
            for value in STATUSES
            if Obligation.objects.filter(owed_q(day), status_q(value, day), pk=obligation.pk).exists()
        }
        assert matching == {expected.value}, day
        assert group.status_on(day) == expected, day
    assert [
        obligation_status(
            acknowledged_at=obligation.acknowledged_at, superseded_at=None, due_on=obligation.due_on, today=day
        )
        for day in days
    ] == [
        ObligationStatus.OUTSTANDING,
        ObligationStatus.OUTSTANDING,
        ObligationStatus.OVERDUE,
        ObligationStatus.SIGNED,
        ObligationStatus.OVERDUE,
        ObligationStatus.SIGNED,
    ]
