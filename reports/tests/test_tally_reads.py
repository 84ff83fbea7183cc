"""The dashboard and the drill-down's count read the obligation tally: the same numbers as the obligations give.

Each comparison runs the dashboard's statement over the obligations (``obligations_base``, one row per
obligation, as it was before the tally) and over the tally (``tally_base``), for every status and filter, on
days that cut through the scenario's signatures, a leaver, a joiner and a signature across the clocks' change.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acknowledgements.models import Obligation, ObligationTally
from reports.selectors import (
    NO_SCHOOL,
    REPORTED_STATUSES,
    ReportFilters,
    SchoolMap,
    _dashboard_groups,
    dashboard,
    obligations_base,
    owed_count,
    owed_rows,
    school_map,
    tally_base,
)
from reports.tests.factories import sign

pytestmark = pytest.mark.django_db


def both_ways(user, filters: ReportFilters):
    schools = school_map(filters)
    from_obligations = _dashboard_groups(obligations_base(user, filters, schools), filters, schools)
    from_tally = _dashboard_groups(tally_base(user, filters, schools), filters, schools)
    return [sorted(part, key=repr) for part in from_obligations], [sorted(part, key=repr) for part in from_tally]


def days(scenario) -> list:
    today = timezone.localdate()
    return [today - timedelta(days=age) for age in (0, 1, 11, 30, 45, 59, 61)]


def filter_choices(scenario) -> list[dict]:
    north, trust = scenario.orgs["north"], scenario.orgs["trust"]
    return [
        {},
        {"school": str(north.pk)},
        {"school": NO_SCHOOL},
        {"role": "volunteer"},
        {"version": None, "code": scenario.code},
        {"organisation": north},
        {"organisation": trust, "role": "employee", "school": str(scenario.orgs["south"].pk)},
    ]


def test_the_tally_gives_the_obligations_numbers_for_every_filter_and_day(oak):
    base = ReportFilters(organisation=oak.orgs["trust"], as_at=timezone.localdate(), version=oak.version)
    compared = 0
    for choice in filter_choices(oak):
        for day in days(oak):
            filters = replace(base, as_at=day, **choice)
            obligations, tally = both_ways(oak.admin, filters)
            assert tally == obligations, (choice, day)
            compared += bool(obligations[0])
    assert compared > 20  # most combinations count something: the comparison is not of empty lists


def test_the_drill_down_count_is_the_obligations_count(oak):
    schools_for: dict[int, SchoolMap] = {}
    for choice in filter_choices(oak):
        for status in ("", *REPORTED_STATUSES):
            for day in days(oak):
                filters = ReportFilters(organisation=oak.orgs["trust"], as_at=day, version=oak.version, status=status)
                filters = replace(filters, **choice)
                key = filters.organisation.pk
                schools = schools_for.setdefault(key, school_map(filters))
                assert owed_count(oak.admin, filters, schools) == owed_rows(oak.admin, filters, schools).count(), (
                    choice,
                    status,
                    day,
                )


def test_a_school_admin_counts_only_their_school_from_the_tally(oak):
    filters = ReportFilters(organisation=oak.orgs["trust"], as_at=timezone.localdate(), version=oak.version)
    schools = school_map(filters)
    mine = owed_count(oak.school_admin, filters, schools)
    assert mine == Obligation.objects.filter(version=oak.version, organisation=oak.orgs["north"]).count()
    assert mine == owed_rows(oak.school_admin, filters, schools).count() < owed_count(oak.admin, filters, schools)


def test_a_signature_after_midnight_in_summer_counts_from_the_london_day(oak):
    """23:30 UTC on a day in British Summer Time is 00:30 the next day in London: signed on that next day."""
    summer_evening = datetime(2026, 7, 20, 23, 30, tzinfo=UTC)
    obligation = Obligation.objects.filter(version=oak.version, acknowledged_at__isnull=True).order_by("pk").first()
    assert obligation is not None
    Obligation.objects.filter(version=oak.version).update(owed_from=summer_evening.date() - timedelta(days=5))
    sign(obligation, at=summer_evening)
    london_day = timezone.localdate(summer_evening)
    assert london_day == summer_evening.date() + timedelta(days=1)
    assert ObligationTally.objects.filter(version=oak.version, signed_on=london_day).exists()
    for day in (summer_evening.date(), london_day):
        filters = ReportFilters(organisation=oak.orgs["trust"], as_at=day, version=oak.version, status="signed")
        schools = school_map(filters)
        signed = owed_count(oak.admin, filters, schools)
        assert signed == owed_rows(oak.admin, filters, schools).count()
        obligations, tally = both_ways(oak.admin, filters)
        assert tally == obligations
        if day == summer_evening.date():
            assert obligation.pk not in set(owed_rows(oak.admin, filters, schools).values_list("pk", flat=True))
        else:
            assert obligation.pk in set(owed_rows(oak.admin, filters, schools).values_list("pk", flat=True))


def test_the_dashboard_reads_no_obligation(oak):
    """The whole-trust dashboard's statements name the tally, never the obligations' table."""
    filters = ReportFilters(organisation=oak.orgs["trust"], as_at=timezone.localdate(), version=oak.version)
    schools = school_map(filters)
    with CaptureQueriesContext(connection) as queries:
        board = dashboard(oak.admin, filters, schools)
        owed_count(oak.admin, filters, schools)
    assert board.totals.owe == 14
    statements = [query["sql"] for query in queries.captured_queries]
    assert any("acknowledgements_obligationtally" in sql for sql in statements)
    assert not any('"acknowledgements_obligation"' in sql for sql in statements)
