"""The demo works on any day: loaded on dates across the academic year (and a leap day), the staff member has
something overdue, the governor has something to sign and a declaration to renew, a review is coming due,
the dashboard's line has history, and every demo role is current: the leaver leaves at the end of this term and
the staff governor's term of office ends soon, both after the day the demo is loaded."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from acknowledgements.models import Declaration, Obligation
from acknowledgements.selectors import declaration_lapsed_for
from conduct.models import Adoption, CodeVersion, Person, Role
from conduct.reviews import review_warning_days, reviews_due
from core.academic_year import academic_year_start
from devtools.demo_calendar import ANCHOR, END_OF_TERM, DemoCalendar, term_end_after
from devtools.demo_conduct import demo_load
from reports.selectors import ReportFilters, dashboard

LONDON = ZoneInfo("Europe/London")
LEAVER, OUTGOING_GOVERNOR = "leaver@att.example", "staff.governor@llt.example"

DAYS = [
    date(2027, 9, 1),  # the first day of an academic year
    date(2026, 12, 1),  # the day the fixture is written for (nothing moves)
    date(2027, 12, 31),  # in the Christmas holiday: the leaver leaves at the end of the spring term
    date(2027, 1, 31),
    date(2027, 7, 15),
    date(2027, 7, 31),  # in the summer holiday
    date(2027, 8, 31),  # the last day of an academic year
    date(2028, 2, 29),  # a leap day
    date(2031, 3, 1),  # years on
]


@pytest.mark.django_db
@pytest.mark.parametrize("day", DAYS, ids=str)
def test_the_demo_shows_the_same_state_on_any_day(day):
    with time_machine.travel(datetime.combine(day, time(9, 30), tzinfo=LONDON), tick=False):
        assert timezone.localdate() == day
        demo_load()
        today = day

        open_now = Obligation.objects.open().for_current_roles()
        staff = Person.objects.get(email="staff@att.example")
        assert open_now.filter(person=staff, due_on__lt=today).exists(), "the staff member has nothing overdue"

        governor = Person.objects.get(email="governor@llt.example")
        assert open_now.filter(person=governor, version__code__slug="llt-governance-code-of-conduct").exists()
        assert declaration_lapsed_for(governor, today)
        assert Declaration.objects.filter(person=governor, academic_year_start__lt=academic_year_start(today))

        # Priya renewed hers this academic year, as the README says.
        priya = Declaration.objects.filter(person__email="trustee@llt.example").latest("made_at")
        assert priya.academic_year_start == academic_year_start(today) and priya.made_at <= timezone.now()

        # A review coming due (not overdue) for the ATT chair, and the LLT code's review overdue.
        chair = Person.objects.get(email="chair@att.example")
        coming = [r for r in reviews_due(chair, today=today) if not r.overdue]
        assert coming and all(0 <= r.days_left <= review_warning_days() for r in coming)
        assert any(r.overdue for r in reviews_due(Person.objects.get(email="chair@llt.example"), today=today))

        # Every role is current on the day, and no term of office has run out.
        for role in Role.objects.select_related("person"):
            assert role.starts_on <= today, role
            assert role.ends_on is None or role.ends_on >= today, role
            assert role.term_ends_on is None or role.term_ends_on >= today, role
        # The leaver feature: a role ending at the end of this term (in a holiday, the next), after today.
        leaving = Role.objects.get(person__email=LEAVER)
        assert leaving.ends_on == term_end_after(today) and 0 < (leaving.ends_on - today).days < 183
        # A governor whose term of office ends within the next two months.
        term = Role.objects.get(person__email=OUTGOING_GOVERNOR, kind="local_governor")
        assert term.ends_on is None and term.term_ends_on is not None
        assert 0 < (term.term_ends_on - today).days <= 60

        # Everything happened in the past; each version was prepared before it was adopted.
        assert all(a.recorded_at <= timezone.now() and a.adopted_on <= today for a in Adoption.objects.all())
        for version in CodeVersion.objects.exclude(adopted_at=None):
            assert version.adopted_at is not None and version.created_at < version.adopted_at

        # The dashboard's line has history: signatures rise over past months.
        admin = Person.objects.get(email="admin@att.example")
        line = dashboard(admin, ReportFilters(organisation=admin.roles.get().organisation, as_at=today)).timeline
        signed = [point.counts.signed for point in line]
        assert len(line) > 5 and line[0].day < today and len(set(signed)) >= 3, signed


def test_dates_move_by_the_days_since_the_anchor_and_labels_by_whole_years():
    on_anchor = DemoCalendar(ANCHOR, datetime.combine(ANCHOR, time(12), tzinfo=LONDON))
    assert on_anchor.day("2026-09-17") == date(2026, 9, 17) and on_anchor.label("2024-2025") == "2024-2025"
    a_year_on = DemoCalendar(date(2027, 12, 1), datetime(2027, 12, 1, 12, tzinfo=LONDON))
    assert a_year_on.day("2026-09-17") == date(2027, 9, 17) and a_year_on.label("2026-2027") == "2027-2028"
    # A moment keeps its local clock time across a change of UK summer time, and is never in the future.
    moved = a_year_on.moment(datetime(2026, 10, 20, 21, 3, tzinfo=LONDON))
    assert (moved.date(), moved.astimezone(LONDON).time()) == (date(2027, 10, 20), time(21, 3))
    assert a_year_on.moment(datetime(2026, 12, 1, 18, 0, tzinfo=LONDON)) < a_year_on.now


@pytest.mark.parametrize(
    ("today", "last_day"),
    [
        (date(2026, 9, 1), date(2026, 12, 18)),  # autumn term: the Friday on or before 20 December
        (date(2026, 12, 18), date(2027, 3, 26)),  # its last day: the next term's end (the role is still current)
        (date(2026, 12, 31), date(2027, 3, 26)),  # Christmas holiday: the spring term's end
        (date(2028, 2, 29), date(2028, 3, 31)),  # a leap day; 31 March 2028 is a Friday
        (date(2027, 4, 5), date(2027, 7, 16)),  # Easter: the summer term's end
        (date(2027, 7, 31), date(2027, 12, 17)),  # summer holiday: the next autumn term's end
    ],
    ids=str,
)
def test_the_end_of_this_term_is_a_friday_after_today(today, last_day):
    assert term_end_after(today) == last_day and last_day.weekday() == 4
    calendar = DemoCalendar(today, datetime.combine(today, time(12), tzinfo=LONDON))
    assert calendar.optional_day(END_OF_TERM) == last_day and calendar.optional_day("2026-12-01") == today
