"""The range of dates the product accepts from people: one rule for every form and service.

A date typed by hand outside these years is a slip (0202 for 2020, 2202 for 2022), and some
databases and PDF libraries misbehave on years far from now.
"""

from __future__ import annotations

from datetime import date, datetime

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def date_in_range(day: date) -> bool:
    """Whether ``day`` falls within the years 1900 to 2100."""
    return EARLIEST_DATE <= day <= LATEST_DATE


def date_range_message() -> str:
    return f"Give a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}."


# The ways a date arrives in a spreadsheet's text: ISO first, then the day-first forms UK schools use.
DATE_TEXT_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y")


def date_from_text(value: str) -> date | None:
    """The date a file's cell gives (YYYY-MM-DD or DD/MM/YYYY and its variants), else None (no guessing)."""
    value = value.strip()
    for fmt in DATE_TEXT_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None
