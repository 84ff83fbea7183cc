"""The demo's dates, moved to the day the demo is loaded.

``fixtures/demo.json`` and ``devtools/demo_acknowledgements.py`` are written as on ``ANCHOR`` (1 December
2026): the staff code adopted in September with its signatures due in October, the governance code a year
older, signatures spread over the autumn. Loaded on another day, every date moves by the same number of
days (``DemoCalendar.day``), and times keep their local clock time (``moment``), so on any day the same
things are overdue, due, coming up for review or in the past, by the same margins. Version labels
("2026-2027") move by the whole number of years nearest to that shift.

Loaded on ``ANCHOR`` itself nothing moves, which is what the test suite's ``demo`` fixture sees on that day.

One date is not a fixed number of days from the load date: a leaver's last day is the end of the school term
(``END_OF_TERM`` in the fixture, ``DemoCalendar.term_end``), always after the day the demo is loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

ANCHOR = date(2026, 12, 1)
_YEAR = re.compile(r"\b(19|20)\d\d\b")
# Written in the fixture instead of a date: the last day of the school term the demo is loaded in.
END_OF_TERM = "end of term"
# The nominal last days of the autumn, spring and summer terms in English schools (month, day): each term
# ends on the last Friday on or before it (the spring term's end moves with Easter; the end of March is near).
TERM_ENDS = ((3, 31), (7, 22), (12, 20))
FRIDAY = 4


def _last_friday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() - FRIDAY) % 7)


def term_end_after(today: date) -> date:
    """The last day of the current school term: the first term end after ``today`` (in a holiday, the next
    term's), so someone leaving then still holds their role on the day the demo is loaded."""
    for year in (today.year, today.year + 1):
        for month, day in TERM_ENDS:
            end = _last_friday_on_or_before(date(year, month, day))
            if end > today:
                return end
    raise AssertionError("unreachable: a term ends within a year")


@dataclass(frozen=True)
class DemoCalendar:
    today: date
    now: datetime

    @property
    def shift(self) -> timedelta:
        return self.today - ANCHOR

    @property
    def years(self) -> int:
        return round(self.shift.days / 365.25)

    def day(self, value: date | str) -> date:
        written = date.fromisoformat(value) if isinstance(value, str) else value
        return written + self.shift

    def optional_day(self, value: date | str | None) -> date | None:
        if value == END_OF_TERM:
            return self.term_end
        return self.day(value) if value else None

    @property
    def term_end(self) -> date:
        return term_end_after(self.today)

    def moment(self, value: datetime) -> datetime:
        """The same local clock time on the moved day; never later than a minute ago."""
        zone = ZoneInfo(settings.TIME_ZONE)
        local = value.astimezone(zone)
        moved = datetime.combine(self.day(local.date()), local.time(), tzinfo=zone)
        return min(moved, self.now - timedelta(minutes=1))

    def label(self, label: str) -> str:
        """A version label with its years moved: "2024-2025" → "2025-2026" a year on."""
        return _YEAR.sub(lambda match: str(int(match.group(0)) + self.years), label)


def demo_calendar(now: datetime | None = None) -> DemoCalendar:
    """The calendar for a demo loaded now (or at ``now``)."""
    now = now or timezone.now()
    return DemoCalendar(today=timezone.localdate(now), now=now)
