"""The demo's dates, moved to the day the demo is loaded.

``fixtures/demo.json`` and ``devtools/demo_acknowledgements.py`` are written as on ``ANCHOR`` (1 December
2026): the staff code adopted in September with its signatures due in October, the governance code a year
older, signatures spread over the autumn. Loaded on another day, every date moves by the same number of
days (``DemoCalendar.day``), and times keep their local clock time (``moment``), so on any day the same
things are overdue, due, coming up for review or in the past, by the same margins. Version labels
("2026-2027") move by the whole number of years nearest to that shift.

Loaded on ``ANCHOR`` itself nothing moves, which is what the test suite's ``demo`` fixture sees on that day.
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
        return self.day(value) if value else None

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
