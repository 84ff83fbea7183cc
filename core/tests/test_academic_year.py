"""The academic year (1 September to 31 August) and how it is written: the one implementation, at its edges."""

from __future__ import annotations

from datetime import date

import pytest

from core.academic_year import (
    academic_year_end,
    academic_year_label,
    academic_year_start,
    academic_year_start_in,
    last_complete_academic_year,
    next_academic_year_start,
    version_label,
)


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (date(2026, 8, 31), date(2025, 9, 1)),
        (date(2026, 9, 1), date(2026, 9, 1)),
        (date(2026, 12, 31), date(2026, 9, 1)),
        (date(2027, 1, 1), date(2026, 9, 1)),
        (date(2028, 2, 29), date(2027, 9, 1)),
    ],
)
def test_a_day_belongs_to_the_year_that_began_on_the_latest_1_september(day, start):
    assert academic_year_start(day) == start
    assert academic_year_end(day) == date(start.year + 1, 8, 31)
    assert next_academic_year_start(day) == date(start.year + 1, 9, 1)


def test_a_year_named_by_the_year_it_begins_in_starts_on_1_september():
    assert academic_year_start_in(2026) == date(2026, 9, 1)
    assert academic_year_start(academic_year_start_in(2026)) == date(2026, 9, 1)


@pytest.mark.parametrize(
    ("today", "year"),
    [
        (date(2026, 8, 30), (date(2024, 9, 1), date(2025, 8, 31))),
        (date(2026, 8, 31), (date(2025, 9, 1), date(2026, 8, 31))),  # complete on its last day
        (date(2026, 9, 1), (date(2025, 9, 1), date(2026, 8, 31))),
        (date(2026, 11, 22), (date(2025, 9, 1), date(2026, 8, 31))),
    ],
)
def test_the_last_complete_year_ends_on_the_latest_31_august_on_or_before_the_day(today, year):
    assert last_complete_academic_year(today) == year


@pytest.mark.parametrize(
    ("start", "sentence", "version"),
    [
        (2026, "2026–27", "2026-2027"),
        (date(2026, 9, 1), "2026–27", "2026-2027"),
        (date(2027, 8, 31), "2026–27", "2026-2027"),  # any day of the year names the year
        (2099, "2099–00", "2099-2100"),  # the century turns: two digits, zero-padded
        (2008, "2008–09", "2008-2009"),
    ],
)
def test_a_year_is_written_one_way_in_sentences_and_one_way_as_a_version_label(start, sentence, version):
    assert academic_year_label(start) == sentence
    assert version_label(start) == version
