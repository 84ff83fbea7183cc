"""The range of dates the product accepts from people: one rule for every form and service.

A date typed by hand outside these years is a slip (0202 for 2020, 2202 for 2022), and some
databases and PDF libraries misbehave on years far from now.
"""

from __future__ import annotations

from datetime import date

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def date_in_range(day: date) -> bool:
    """Whether ``day`` falls within the years 1900 to 2100."""
    return EARLIEST_DATE <= day <= LATEST_DATE


def date_range_message() -> str:
    return f"Give a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}."
