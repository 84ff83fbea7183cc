"""How dates are written for people: the one implementation (pages, messages, emails, PDFs, audit summaries).

"1 December 2026", never "01 December 2026": the day is not zero-padded, as in GOV.UK's style and as the
templates write it with the ``j F Y`` format. Python code uses these helpers instead of strftime's ``%d``.
"""

from __future__ import annotations

from datetime import date, datetime


def long_date(day: date | datetime) -> str:
    """ "1 December 2026"."""
    return f"{day.day} {day:%B %Y}"


def short_date(day: date | datetime) -> str:
    """ "1 Dec 2026" (tables and chart labels)."""
    return f"{day.day} {day:%b %Y}"


def date_and_time(moment: datetime) -> str:
    """ "1 December 2026 at 14:05" (a local time: pass ``timezone.localtime(...)``)."""
    return f"{long_date(moment)} at {moment:%H:%M}"
