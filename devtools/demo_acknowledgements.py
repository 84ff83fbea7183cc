"""Signing history for the demo data, made through the real services so the evidence is real.

Called at the end of ``DemoLoader.load()``. Several people have signed (at
sensible past dates, some declaring interests), one governor's paper signature
was recorded by the clerk after a board meeting, one trustee renewed her
declaration this September, and plenty of people are left outstanding or
overdue so the dashboards and reminders have work to show. Tom Hughes, the
demo governor, declared a business interest last academic year and has not
signed the governance code: he has a code to sign and a declaration to renew.

The moments below are written as on ``devtools.demo_calendar.ANCHOR`` and move
with the day the demo is loaded (``DemoCalendar``).

Idempotent: each signature is looked up (person and version) before it is made.
The signed PDFs are not rendered here, to keep ``make run`` quick: each is
issued on first need (opening the record queues it) and then stored for good.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import overload
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from acknowledgements.declarations import DeclarationData, InterestData, declaration_make
from acknowledgements.events import event_first_view
from acknowledgements.models import (
    Acknowledgement,
    Declaration,
    InterestKind,
)
from acknowledgements.paper import acknowledgement_record_on_behalf
from acknowledgements.signing import acceptance_statement, acknowledgement_sign
from conduct.models import Code, CodeVersion, Organisation, Person
from core.academic_year import academic_year_start
from core.request_meta import AuthMethod, RequestMeta
from devtools.demo_calendar import DemoCalendar, demo_calendar

LONDON = ZoneInfo(settings.TIME_ZONE)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.6 Mobile/15E148 Safari/604.1"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Safari/537.36 Edg/141.0.0.0"
)
MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.6 Safari/605.1.15"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Mobile Safari/537.36"
)
NOTHING = DeclarationData(nothing_to_declare=True)


def _at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=LONDON)


def _interest(kind: str, counterparty: str, nature: str, starts_on: str, ends_on: str | None = None) -> DeclarationData:
    return DeclarationData(
        nothing_to_declare=False,
        interests=(
            InterestData(
                kind,
                counterparty,
                nature,
                date.fromisoformat(starts_on),
                date.fromisoformat(ends_on) if ends_on else None,
            ),
        ),
    )


@dataclass(frozen=True)
class Signature:
    email: str
    code: str
    at: datetime
    typed_name: str = ""  # as typed (case and spacing vary; the name on record must still match)
    declaration: DeclarationData | None = None
    meta: RequestMeta = field(default_factory=RequestMeta)


@dataclass(frozen=True)
class PaperSignature:
    email: str
    code: str
    recorded_by: str
    at: datetime
    signed_on: date
    reason: str
    declaration: DeclarationData | None = None


GOV, STAFF, CP = "llt-governance-code-of-conduct", "att-staff-code-of-conduct", "challenge-partners-code-of-conduct"

SIGNATURES = [
    # Leading Learners Trust governance code, adopted September/October 2025.
    Signature(
        "chair@llt.example",
        GOV,
        _at("2025-09-26", "19:42:08"),
        declaration=NOTHING,
        meta=RequestMeta("203.0.113.24", MAC, AuthMethod.PASSWORD, "", True),
    ),
    Signature(
        "trustee@llt.example",
        GOV,
        _at("2025-10-06", "20:15:31"),
        declaration=_interest(
            InterestKind.GOVERNANCE,
            "Oakfield Primary School",
            "Co-opted governor and chair of its finance committee",
            "2021-09-01",
        ),
        meta=RequestMeta("198.51.100.77", WINDOWS, AuthMethod.PASSWORD),
    ),
    # ATT staff code, adopted 17 September 2026, due 21 October 2026.
    Signature(
        "schooladmin@att.example",
        STAFF,
        _at("2026-09-18", "08:31:44"),
        declaration=NOTHING,
        meta=RequestMeta("192.0.2.15", WINDOWS, AuthMethod.PASSWORD, "", True),
    ),
    Signature(
        "ta@att.example",
        STAFF,
        _at("2026-09-22", "16:10:02"),
        declaration=NOTHING,
        meta=RequestMeta("192.0.2.44", ANDROID, AuthMethod.EMAILED_CODE),
    ),
    Signature(
        "contractor@att.example",
        STAFF,
        _at("2026-09-29", "08:45:19"),
        declaration=_interest(
            InterestKind.BUSINESS,
            "Brennan IT Consulting",
            "Sole trader; provides IT support to the trust under contract",
            "2019-03-01",
        ),
        meta=RequestMeta("198.51.100.12", MAC, AuthMethod.PASSWORD),
    ),
    Signature(
        "activity@cp.example",
        STAFF,
        _at("2026-10-02", "12:20:55"),
        declaration=NOTHING,
        meta=RequestMeta("192.0.2.61", IPHONE, AuthMethod.PASSWORD),
    ),
    Signature(
        "reviewer@cp.example",
        STAFF,
        _at("2026-10-20", "21:03:37"),
        typed_name="Chloe  Adams",
        declaration=_interest(
            InterestKind.RELATIONSHIP, "Daniel Adams, teacher at Riverside Academy", "Spouse", "2012-07-21"
        ),
        meta=RequestMeta("203.0.113.140", WINDOWS, AuthMethod.PASSWORD),
    ),
    # Challenge Partners code, adopted 10 September 2026, due 28 September 2026.
    Signature(
        "leadreviewer@cp.example",
        CP,
        _at("2026-09-15", "10:12:40"),
        declaration=NOTHING,
        meta=RequestMeta("198.51.100.200", MAC, AuthMethod.PASSWORD, "", True),
    ),
    Signature(
        "facilitator@cp.example",
        CP,
        _at("2026-09-21", "17:48:06"),
        declaration=_interest(
            InterestKind.GIFT,
            "Harbour Education Ltd",
            "Hospitality: dinner at a regional conference (about £60)",
            "2026-06-18",
            "2026-06-18",
        ),
        meta=RequestMeta("192.0.2.200", ANDROID, AuthMethod.EMAILED_CODE),
    ),
    Signature(
        "hubmanager@cp.example",
        CP,
        _at("2026-09-25", "09:05:21"),
        declaration=NOTHING,
        meta=RequestMeta("203.0.113.88", WINDOWS, AuthMethod.PASSWORD),
    ),
]

PAPER_SIGNATURES = [
    PaperSignature(
        "lgbchair@llt.example",
        GOV,
        recorded_by="clerk@llt.example",
        at=_at("2025-10-02", "09:30:12"),
        signed_on=date(2025, 10, 1),
        reason="Signed on paper at the Local Governing Board meeting of 1 October 2025 (minute MB-LGB-2025-10 item 2).",
        declaration=NOTHING,
    ),
]


# Declarations made on their own (not with a signature). Tom Hughes declared his business interest last
# academic year, so it has lapsed and he is asked to renew it. Priya Shah renewed hers in the first week of this
# academic year (governors confirm it every September): ``this_september`` keeps it there whatever the day.
@dataclass(frozen=True)
class StandaloneDeclaration:
    email: str
    organisation: str
    at: datetime
    declaration: DeclarationData
    this_september: bool = False


DECLARATIONS = [
    StandaloneDeclaration(
        "governor@llt.example",
        "llt-meadowbank-lgb",
        _at("2025-10-14", "18:05:12"),
        _interest(
            InterestKind.BUSINESS,
            "Hughes Building Services Ltd",
            "Director and majority shareholder; the company has tendered for maintenance work at Meadowbank",
            "2015-04-01",
        ),
    ),
    StandaloneDeclaration(
        "trustee@llt.example",
        "llt-board",
        _at("2026-09-08", "19:30:00"),
        _interest(
            InterestKind.GOVERNANCE,
            "Oakfield Primary School",
            "Co-opted governor and chair of its finance committee",
            "2021-09-01",
        ),
        this_september=True,
    ),
]

DEMO_CLERK_META = RequestMeta("192.0.2.5", WINDOWS, AuthMethod.PASSWORD, "", True)


def _version(slug: str) -> CodeVersion:
    return Code.objects.get(slug=slug).versions.exclude(status="draft").latest("adopted_at")


def _view_first(person: Person, version: CodeVersion, at: datetime, meta: RequestMeta) -> None:
    """People read before they sign: the first view, a few minutes earlier, is part of the evidence."""
    event_first_view(person=person, version=version, request_meta=meta, at=at - timedelta(minutes=11))


@overload
def _moved(declaration: DeclarationData, calendar: DemoCalendar) -> DeclarationData: ...


@overload
def _moved(declaration: DeclarationData | None, calendar: DemoCalendar) -> DeclarationData | None: ...


def _moved(declaration: DeclarationData | None, calendar: DemoCalendar) -> DeclarationData | None:
    """A declaration with its interests' dates moved like every other demo date."""
    if declaration is None or not declaration.interests:
        return declaration
    return replace(
        declaration,
        interests=tuple(
            replace(
                interest,
                starts_on=calendar.day(interest.starts_on),
                ends_on=calendar.optional_day(interest.ends_on),
            )
            for interest in declaration.interests
        ),
    )


def _this_september(written: datetime, calendar: DemoCalendar) -> datetime:
    """The written day and time of September, in this academic year, and never later than the load."""
    start = academic_year_start(calendar.today)
    day = start + timedelta(days=min(written.day - 1, (calendar.today - start).days))
    return min(datetime.combine(day, written.timetz()), calendar.now - timedelta(minutes=1))


@transaction.atomic
def demo_load_acknowledgements(calendar: DemoCalendar | None = None) -> dict[str, int]:
    """Create the demo signing history, dated from today; returns what was created (empty when it was all there)."""
    calendar = calendar or demo_calendar()
    created = {"acknowledgements": 0, "declarations": 0}
    for item in SIGNATURES:
        person, version = Person.objects.get(email=item.email), _version(item.code)
        if Acknowledgement.objects.filter(person=person, version=version).exists():
            continue
        at = calendar.moment(item.at)
        _view_first(person, version, at, item.meta)
        acknowledgement_sign(
            person=person,
            version=version,
            typed_name=item.typed_name or person.full_name,
            statement=acceptance_statement(version),
            declaration=_moved(item.declaration, calendar),
            request_meta=item.meta,
            at=at,
            issue_pdf=False,
        )
        created["acknowledgements"] += 1
    for paper in PAPER_SIGNATURES:
        person, version = Person.objects.get(email=paper.email), _version(paper.code)
        if Acknowledgement.objects.filter(person=person, version=version).exists():
            continue
        acknowledgement_record_on_behalf(
            person=person,
            version=version,
            recorded_by=Person.objects.get(email=paper.recorded_by),
            typed_name=person.full_name,
            paper_signed_on=calendar.day(paper.signed_on),
            reason=paper.reason,
            declaration=_moved(paper.declaration, calendar),
            request_meta=DEMO_CLERK_META,
            at=calendar.moment(paper.at),
            issue_pdf=False,
        )
        created["acknowledgements"] += 1
    for standalone in DECLARATIONS:
        person = Person.objects.get(email=standalone.email)
        at = _this_september(standalone.at, calendar) if standalone.this_september else calendar.moment(standalone.at)
        if Declaration.objects.filter(person=person, made_at=at).exists():
            continue
        declaration_make(
            person=person,
            organisation=Organisation.objects.get(slug=standalone.organisation),
            declaration=_moved(standalone.declaration, calendar),
            at=at,
        )
        created["declarations"] += 1
    return {what: count for what, count in created.items() if count}
