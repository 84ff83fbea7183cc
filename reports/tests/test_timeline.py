"""The dashboard's timeline, counted by spans, against each group's status on each sampled day."""

from __future__ import annotations

import random
from datetime import date, timedelta

from acknowledgements.models import ObligationStatus
from conduct.models import Organisation
from reports.selectors import Counts, ReportFilters, TimelineGroup, _timeline, timeline_days

START = date(2025, 9, 1)


def _day(rng: random.Random, chance_of_none: float = 0.0) -> date | None:
    if rng.random() < chance_of_none:
        return None
    return START + timedelta(days=rng.randrange(0, 400))


def _group(rng: random.Random) -> TimelineGroup:
    owed_from = _day(rng)
    assert owed_from is not None
    due_on = owed_from + timedelta(days=rng.choice([0, 1, 14, 28, 60]))
    return TimelineGroup(
        owed_from=owed_from,
        role__ends_on=_day(rng, 0.6),
        superseded_on=_day(rng, 0.7),
        signed_on=_day(rng, 0.4),
        due_on=due_on,
        n=rng.randrange(1, 40),
    )


def _counted_day_by_day(groups: list[TimelineGroup], day: date) -> Counts:
    counts = Counts()
    for group in groups:
        status = group.status_on(day)
        if status is not None:
            signed = group.n if status == ObligationStatus.SIGNED else 0
            counts.add(group.n, signed, group.n if status == ObligationStatus.OVERDUE else 0)
    return counts


def test_the_timeline_counts_every_sampled_day_as_each_groups_status_on_it():
    rng = random.Random(2026)
    for case in range(300):
        groups = [_group(rng) for _ in range(rng.randrange(1, 30))]
        as_at = START + timedelta(days=rng.choice([0, 5, 11, 200, 420, 500]))
        filters = ReportFilters(organisation=Organisation(name="Oak"), as_at=as_at)
        points = _timeline(groups, filters)
        days = timeline_days(min(group.owed_from for group in groups), as_at)
        assert [point.day for point in points] == days, case
        for point in points:
            assert point.counts == _counted_day_by_day(groups, point.day), (case, point.day)


def test_a_group_on_the_edges_of_its_days():
    # Owed from 1 Sept, due 14 Sept, signed 20 Sept, the role's last day 30 Sept: each day either side of each edge.
    group = TimelineGroup(
        owed_from=date(2026, 9, 1),
        role__ends_on=date(2026, 9, 30),
        superseded_on=None,
        signed_on=date(2026, 9, 20),
        due_on=date(2026, 9, 14),
        n=3,
    )
    days = [date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 14), date(2026, 9, 15), date(2026, 9, 19)]
    days += [date(2026, 9, 20), date(2026, 9, 30), date(2026, 10, 1)]
    owed, signed, overdue = group.sampled_spans(days)
    assert owed == (1, 7)  # 1 Sept to 30 Sept
    assert signed == (5, 7)  # from 20 Sept
    assert overdue == (3, 5)  # 15 to 19 Sept
    assert [_counted_day_by_day([group], day).owe for day in days] == [0, 3, 3, 3, 3, 3, 3, 0]
