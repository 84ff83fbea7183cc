"""Builders and a frozen-clock daily runner for the reminder tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.core import mail
from django.test import TestCase

from acknowledgements.models import Declaration, Obligation
from conduct.models import Code, CodeVersion, Organisation, Person, Role
from conduct.services import role_create
from conduct.tests.factories import CodeFactory, PersonFactory, RoleFactory, adopt, make_version, trust_tree
from core.academic_year import academic_year_start
from reminders.models import ReminderLog
from reminders.tasks import plan_reminders

LONDON = ZoneInfo("Europe/London")


def at(day: date, hour: int = 7, minute: int = 0) -> datetime:
    """A moment on ``day``, UK time."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@contextmanager
def frozen(day: date, hour: int = 7, minute: int = 0) -> Iterator[None]:
    with time_machine.travel(at(day, hour, minute), tick=False):
        yield


def person(name: str, email: str | None = None) -> Person:
    email = email or f"{name.lower().replace(' ', '.')}@example.org"
    return PersonFactory.create(full_name=name, email=email)


def officer(organisation: Organisation, kind: str, name: str, since: date = date(2019, 9, 1)) -> Person:
    """An admin, chair or clerk (no codes are owed for these roles)."""
    someone = person(name)
    RoleFactory.create(person=someone, organisation=organisation, kind=kind, starts_on=since)
    return someone


def member(
    organisation: Organisation, kind: str, name: str, since: date = date(2020, 9, 1), until: date | None = None
) -> Person:
    """Someone with a role through the service, so they owe whatever is in force there."""
    someone = person(name)
    role_create(person=someone, organisation=organisation, kind=kind, starts_on=since, ends_on=until)
    return someone


def staff_code(owner: Organisation, **fields) -> Code:
    return CodeFactory.create(
        owner=owner,
        title=fields.pop("title", "Staff Code of Conduct"),
        audience=["employee"],
        signing_due_days=30,
        **fields,
    )


def sign(someone: Person, version: CodeVersion, when: datetime) -> None:
    """What signing does to the bookkeeping: the obligation is marked acknowledged."""
    updated = Obligation.objects.filter(person=someone, version=version).update(acknowledged_at=when)
    assert updated == 1, f"{someone.full_name} does not owe {version}"


def declare(someone: Person, organisation: Organisation, made_on: date) -> Declaration:
    return Declaration.objects.create(
        person=someone,
        organisation=organisation,
        nothing_to_declare=True,
        made_at=at(made_on, 18),
        academic_year_start=academic_year_start(made_on),
    )


def end_role(someone: Person, organisation: Organisation, on: date) -> None:
    Role.objects.filter(person=someone, organisation=organisation).update(ends_on=on)


def run_daily(day: date, hour: int = 7) -> list[mail.EmailMessage]:
    """Beat's daily run on ``day`` at ``hour`` UK time, tasks executed inline; returns the emails sent."""

    mail.outbox.clear()
    with frozen(day, hour), TestCase.captureOnCommitCallbacks(execute=True):
        plan_reminders.delay()
    return list(mail.outbox)


def days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def every(first: date, step_days: int, until: date) -> list[date]:
    """``first`` and every ``step_days`` after it, up to ``until``."""
    return [first + timedelta(days=n * step_days) for n in range((until - first).days // step_days + 1)]


@dataclass(frozen=True)
class Sent:
    """One reminder as the tests compare them: the day, to whom, what kind, which step."""

    day: date
    email: str
    kind: str
    step: str


def sent_log() -> set[Sent]:
    log = set()
    for r in ReminderLog.objects.filter(status="sent").select_related("recipient"):
        assert r.sent_at is not None  # the reminder_sent_has_time constraint
        log.add(Sent(r.sent_at.astimezone(LONDON).date(), r.recipient.email, r.kind, r.step))
    return log


def adopted_code(
    orgs: dict[str, Organisation],
    held_on: date,
    *,
    audience: tuple[str, ...] = ("employee",),
    chair: Person | None = None,
    **adoption,
) -> tuple[Code, CodeVersion]:
    """A code owned by the trust, adopted by its board for everything below it on ``held_on``."""

    with frozen(held_on, hour=6):
        code = CodeFactory.create(owner=orgs["trust"], audience=list(audience), signing_due_days=30)
        version = make_version(code, "2025-2026")
        adopt(version, orgs["board"], chair=chair, held_on=held_on, **adoption)
    return code, version


def organisation_of(reminder: ReminderLog) -> Organisation:
    """The organisation a declaration reminder or a digest is about (those always name one)."""
    assert reminder.organisation is not None, f"{reminder} names no organisation"
    return reminder.organisation


def planned() -> list[tuple[str, str, str]]:
    """The reminders planned so far, as (email, kind, step), sorted."""
    return sorted(ReminderLog.objects.values_list("recipient__email", "kind", "step"))


class SimulatedKill(BaseException):
    """The worker process is killed (SIGKILL): nothing after the line that raises it runs."""


class DyingBackend:
    """A mail backend that delivers to ``mail.outbox`` and dies at message number ``die_at``,
    either before the message is handed over or just after the server accepted it."""

    die_at: int | None = None
    die_after_delivery = False
    handed_over = 0

    def __init__(self, fail_silently: bool = False, **kwargs) -> None:
        from django.core.mail.backends.locmem import EmailBackend

        self._outbox = EmailBackend()

    @classmethod
    def reset(cls, die_at: int | None, after_delivery: bool = False) -> None:
        cls.die_at, cls.die_after_delivery, cls.handed_over = die_at, after_delivery, 0

    def open(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def send_messages(self, messages) -> int:
        for message in messages:
            type(self).handed_over += 1
            dies_now = type(self).handed_over == self.die_at
            if dies_now and not self.die_after_delivery:
                raise SimulatedKill()
            self._outbox.send_messages([message])
            if dies_now:
                raise SimulatedKill()
        return len(messages)


class SlowOutbox:
    """``mail.outbox`` delivery that takes a little while per message, so concurrent workers interleave."""

    delay = 0.005

    def __init__(self, fail_silently: bool = False, **kwargs) -> None:
        from django.core.mail.backends.locmem import EmailBackend

        self._outbox = EmailBackend()

    def open(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def send_messages(self, messages) -> int:
        import time as _time

        _time.sleep(self.delay)
        return self._outbox.send_messages(messages)


# ---------------------------------------------------------------------------
# For the real-worker test (run in the worker's own process and database)
# ---------------------------------------------------------------------------


class HangingFileBackend:
    """Django's file backend, one file per message, that hangs for good before writing message number
    ``REMINDER_TEST_HANG_AT`` (an environment variable): a worker stuck mid-batch, waiting to be killed."""

    written = 0

    def __init__(self, fail_silently: bool = False, **kwargs) -> None:
        from django.conf import settings

        self.directory = settings.EMAIL_FILE_PATH

    def open(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def send_messages(self, messages) -> int:
        import os
        import time as _time
        import uuid
        from pathlib import Path

        hang_at = int(os.environ.get("REMINDER_TEST_HANG_AT", "0"))
        for message in messages:
            if hang_at and type(self).written + 1 == hang_at:
                while True:
                    _time.sleep(60)
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            (Path(self.directory) / f"{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
            type(self).written += 1
        return len(messages)


def seed_for_worker(count: int = 10) -> None:
    """Ten people who owe a code adopted today: ten invitations for the worker to send."""
    from django.utils import timezone

    today = timezone.localdate()
    orgs = trust_tree("Worker Trust")
    chair = officer(orgs["board"], "chair", "Worker Chair")
    declare(chair, orgs["board"], today)
    for n in range(count):
        member(orgs["north"], "employee", f"Worker {n:02d}")
    adopted_code(orgs, today, chair=chair)
