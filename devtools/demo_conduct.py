"""Loads the demo organisations, people, codes and adoptions from ``fixtures/``.

Dated from the day it is loaded: every date in the fixture moves by the days since
``devtools.demo_calendar.ANCHOR``, so the demo shows the same state on any day.
Idempotent: everything is looked up by its natural key (slug, email, label …)
and only what is missing is created, so loading twice (on the same day) changes nothing.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from conduct.attachments import attachment_type_of, clean_filename
from conduct.models import (
    Adoption,
    Attendance,
    Code,
    CodeVersion,
    Meeting,
    NetworkMembership,
    Organisation,
    Person,
    Role,
    VersionAttachment,
)
from conduct.services import (
    AdoptionRequest,
    adoption_record,
    role_create,
    version_create_from_content,
)
from core.canonical import sha256_hex
from devtools.demo_acknowledgements import demo_load_acknowledgements
from devtools.demo_calendar import DemoCalendar, demo_calendar

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"


def _evening_of(day: date) -> datetime:
    """Historical adoptions are recorded as at 7pm on the meeting day, local time."""
    return datetime.combine(day, time(19, 0), tzinfo=ZoneInfo(settings.TIME_ZONE))


def read_code_file(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES_DIR / "codes" / name).read_text(encoding="utf-8"))


class DemoLoader:
    def __init__(self, data: dict[str, Any], calendar: DemoCalendar | None = None):
        self.data = data
        self.created: dict[str, int] = {}
        self.calendar = calendar or demo_calendar()

    def _date(self, value: str) -> date:
        return self.calendar.day(value)

    def _optional_date(self, value: str | None) -> date | None:
        """Fixture dates that may be left out (an open-ended role, no review date) read as None."""
        return self.calendar.optional_day(value)

    def _count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1

    def organisations(self) -> None:
        for row in self.data["organisations"]:
            if Organisation.objects.filter(slug=row["slug"]).exists():
                continue
            Organisation.objects.create(
                slug=row["slug"],
                name=row["name"],
                short_name=row.get("short_name", ""),
                kind=row["kind"],
                parent=Organisation.objects.get(slug=row["parent"]) if row.get("parent") else None,
                governs=Organisation.objects.get(slug=row["governs"]) if row.get("governs") else None,
                publish_register=row.get("publish_register", False),
            )
            self._count("organisations")
        for row in self.data["memberships"]:
            _, created = NetworkMembership.objects.get_or_create(
                network=Organisation.objects.get(slug=row["network"]),
                school=Organisation.objects.get(slug=row["school"]),
                joined_on=self._date(row["joined_on"]),
            )
            if created:
                self._count("memberships")

    def people(self) -> None:
        # Every demo account has the same password: hashed once (PBKDF2 takes about a second per hash on a busy
        # machine, so 37 accounts took minutes of `make run`), the same hash stored for each.
        password_hash = make_password(self.data["password"])
        for row in self.data["people"]:
            person = Person.objects.filter(email=row["email"]).first()
            if person is None:
                person = Person.objects.create_user(
                    email=row["email"],
                    password=None,
                    full_name=row["full_name"],
                    is_staff=row.get("is_staff", False),
                    is_superuser=row.get("is_superuser", False),
                )
                Person.objects.filter(pk=person.pk).update(password=password_hash)
                self._mark_email_verified(person)
                self._count("people")
            for role in row["roles"]:
                organisation = Organisation.objects.get(slug=role["organisation"])
                starts_on = self._date(role["starts_on"])
                if Role.objects.filter(
                    person=person, organisation=organisation, kind=role["kind"], starts_on=starts_on
                ).exists():
                    continue
                role_create(
                    person=person,
                    organisation=organisation,
                    kind=role["kind"],
                    starts_on=starts_on,
                    title=role.get("title", ""),
                    ends_on=self._optional_date(role.get("ends_on")),
                    category=role.get("category", ""),
                    appointed_by=role.get("appointed_by", ""),
                    term_ends_on=self._optional_date(role.get("term_ends_on")),
                )
                self._count("roles")

    @staticmethod
    def _mark_email_verified(person: Person) -> None:
        from allauth.account.models import EmailAddress

        EmailAddress.objects.get_or_create(
            user=person, email=person.email, defaults={"verified": True, "primary": True}
        )

    def meetings(self) -> None:
        for row in self.data["meetings"]:
            board = Organisation.objects.get(slug=row["board"])
            meeting, created = Meeting.objects.get_or_create(
                board=board,
                held_on=self._date(row["held_on"]),
                kind=row["kind"],
                defaults={"title": row.get("title", ""), "minutes_reference": row.get("minutes_reference", "")},
            )
            if created:
                self._count("meetings")
            for status, emails in (("present", row.get("present", [])), ("apologies", row.get("apologies", []))):
                for email in emails:
                    _, created = Attendance.objects.get_or_create(
                        meeting=meeting, person=Person.objects.get(email=email), defaults={"status": status}
                    )
                    if created:
                        self._count("attendance")

    def codes(self) -> None:
        for row in self.data["codes"]:
            content = read_code_file(row["file"])
            code, created = Code.objects.get_or_create(
                slug=row["slug"],
                defaults={
                    "owner": Organisation.objects.get(slug=row["owner"]),
                    "title": row.get("title", content["title"]),
                    "summary": row.get("summary", ""),
                    "audience": row["audience"],
                    "signing_due_days": row.get("signing_due_days", 30),
                    "requires_declaration": row.get("requires_declaration", False),
                    "declaration_prompt": row.get("declaration_prompt", ""),
                },
            )
            if created:
                self._count("codes")
            for version_row in row["versions"]:
                label = self.calendar.label(version_row["label"])
                version = CodeVersion.objects.filter(code=code, label=label).first()
                if version is None:
                    version = version_create_from_content(code=code, label=label, sections=content["sections"])
                    self._attach(version, version_row)
                    self._date_as_prepared(version, version_row)
                    self._count("versions")

    def _attach(self, version: CodeVersion, row: dict[str, Any]) -> None:
        """The version's files (fixtures/attachments/), attached while it is still a draft, as a drafter would."""
        for position, item in enumerate(row.get("attachments", []), start=1):
            data = (FIXTURES_DIR / item["file"]).read_bytes()
            content_type = attachment_type_of(data)
            VersionAttachment.objects.create(
                version=version,
                position=position,
                title=item["title"],
                filename=clean_filename(Path(item["file"]).name, content_type),
                content_type=content_type,
                size=len(data),
                sha256=sha256_hex(data),
                content=data,
            )
            self._count("attachments")

    def _date_as_prepared(self, version: CodeVersion, row: dict[str, Any]) -> None:
        """A demo version was prepared a fortnight before the first meeting that adopted it, not at load time."""
        meetings = [self._date(adoption["meeting"][1]) for adoption in row.get("adoptions", [])]
        if meetings:
            prepared = _evening_of(min(meetings) - timedelta(days=14))
            CodeVersion.objects.filter(pk=version.pk).update(created_at=prepared, updated_at=prepared)

    def _adopt(self, version: CodeVersion, row: dict[str, Any]) -> None:
        board = Organisation.objects.get(slug=row["board"])
        if Adoption.objects.filter(version=version, board=board).exists():
            return
        meeting_board, held_on = row["meeting"]
        meeting = Meeting.objects.get(board__slug=meeting_board, held_on=self._date(held_on))
        chair = Person.objects.get(email=row["chair"])
        adoption_record(
            request=AdoptionRequest(
                version=version,
                board=board,
                meeting=meeting,
                chair=chair,
                chair_signature=chair.full_name,
                effective_on=self._date(row["effective_on"]),
                review_due_on=self._optional_date(row.get("review_due_on")),
                includes_sub_organisations=row.get("includes_sub_organisations", False),
                minute_reference=row.get("minute_reference", ""),
            ),
            recorded_by=Person.objects.get(email=row["recorded_by"]),
            recorded_at=_evening_of(meeting.held_on),
        )
        self._count("adoptions")

    @transaction.atomic
    def load(self) -> dict[str, int]:
        self.organisations()
        self.codes()
        self.people()
        self.meetings()
        self._adopt_all()

        self.created.update(demo_load_acknowledgements(self.calendar))
        return self.created

    def _adopt_all(self) -> None:
        # Adoptions come last: they open signing rounds for the people already loaded.
        for row in self.data["codes"]:
            code = Code.objects.get(slug=row["slug"])
            for version_row in row["versions"]:
                version = CodeVersion.objects.get(code=code, label=self.calendar.label(version_row["label"]))
                for adoption_row in version_row.get("adoptions", []):
                    self._adopt(version, adoption_row)


def demo_load(path: Path | None = None) -> dict[str, int]:
    """Load the demo data set, dated from today; returns what was created, by kind (empty when all was there)."""
    data = json.loads((path or FIXTURES_DIR / "demo.json").read_text(encoding="utf-8"))
    return DemoLoader(data).load()
