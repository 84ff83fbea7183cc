"""The academic year: 1 September to 31 August. The one implementation of it.

Declarations lapse, the register counts attendance and reminders name the year
by these functions alone, so every page, email and export agrees on which year
a day belongs to and how that year is written.
"""

from __future__ import annotations

from datetime import date, timedelta

FIRST_MONTH = 9  # September


def academic_year_start_in(year: int) -> date:
    """1 September of ``year``: the start of the academic year named by the year it begins in."""
    return date(year, FIRST_MONTH, 1)


def academic_year_start(day: date) -> date:
    """1 September of the academic year containing ``day``."""
    return academic_year_start_in(day.year if day.month >= FIRST_MONTH else day.year - 1)


def academic_year_end(day: date) -> date:
    """31 August that ends the academic year containing ``day``."""
    return next_academic_year_start(day) - timedelta(days=1)


def next_academic_year_start(day: date) -> date:
    """1 September of the year after the one containing ``day``."""
    return academic_year_start_in(academic_year_start(day).year + 1)


def last_complete_academic_year(today: date) -> tuple[date, date]:
    """The most recent complete academic year before ``today``, as (1 September, 31 August).

    A year counts as complete on its last day, 31 August: hence the start of tomorrow's year.
    """
    following = academic_year_start(today + timedelta(days=1))
    return academic_year_start_in(following.year - 1), following - timedelta(days=1)


def academic_year_label(start: date | int) -> str:
    """How the product writes a year in sentences, e.g. "2026–27" (an en dash, as in the governance code)."""
    year = start if isinstance(start, int) else academic_year_start(start).year
    return f"{year}–{(year + 1) % 100:02d}"


def version_label(start: date | int) -> str:
    """How a code version for the year is labelled by default, e.g. "2026-2027"."""
    year = start if isinstance(start, int) else academic_year_start(start).year
    return f"{year}-{year + 1}"
