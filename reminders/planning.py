"""The daily planner: which reminders go out today, written as pending ``ReminderLog`` rows.

Everything is set-based: each kind reads what it needs in a fixed number of
queries (signing, the big one, streams every open obligation together with the
day it was last reminded in a single query), works out each subject's latest
step in Python (``steps.latest_step``) and inserts the new rows with one
``INSERT … ON CONFLICT DO NOTHING`` per chunk of ``CHUNK``.

For each subject (an obligation, an adoption's review, a governor's yearly
declaration, an officer's digest) the planner takes the latest step whose date
has arrived and plans it unless a reminder about the same subject was already
planned on or after that step's date. So:

- a rerun of the day, a duplicated beat or two planners at once insert nothing
  new (and the unique key (recipient, subject, step) settles any race);
- a day the planner did not run is caught up the next day with one reminder,
  the latest, never a burst of the missed ones;
- changing a code's steps never re-sends a step that was already passed.

Planning never sends; ``sending`` does, and checks again that each reminder is
still needed at the moment it goes out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field, Max
from django.utils import timezone

from acknowledgements.models import Declaration, Obligation
from conduct.models import (
    GOVERNANCE_ROLE_KINDS,
    Adoption,
    Code,
    Organisation,
    Role,
    RoleKind,
    default_signing_steps,
    root_id,
)
from conduct.reviews import replaced_for_review
from core.academic_year import academic_year_start, academic_year_start_in
from reminders.models import ReminderKind, ReminderLog, ReminderStatus
from reminders.steps import Step, latest_step

CHUNK = 2000
DECLARATION_REPEAT_DAYS = 7
REVIEW_OFFICERS = (RoleKind.CHAIR, RoleKind.CLERK)
ESCALATION_OFFICERS = (RoleKind.ADMIN, RoleKind.CLERK)


@dataclass
class PlanResult:
    signing: int = 0
    review: int = 0
    declaration: int = 0
    escalation: int = 0

    @property
    def total(self) -> int:
        return self.signing + self.review + self.declaration + self.escalation


@dataclass(frozen=True)
class Candidate:
    """A reminder the planner would like to send today, before checking what was already planned."""

    recipient_id: int
    kind: str
    subject: str
    step: Step
    organisation_id: int
    code_id: int | None = None
    obligation_id: int | None = None
    adoption_id: int | None = None
    due_on: date | None = None


def planning_key(day: date) -> str:
    """The claim a day's planning run holds (``core.claims``), so the sweep never starts a second one beside it."""
    return f"reminders:plan:{day.isoformat()}"


def planned_key(day: date) -> str:
    """Marked done when a day's planning has run to the end."""
    return f"reminders:planned:{day.isoformat()}"


def reminders_plan(*, today: date | None = None) -> PlanResult:
    """Plan every reminder due today. Safe to run any number of times, concurrently too.

    Not one transaction: each chunk's insert commits on its own, and a planner
    interrupted half-way is simply completed by the next run (nothing it
    inserted is planned twice).
    """
    today = today or timezone.localdate()
    escalations: dict[int, date] = {}  # filled while planning signing: per organisation, the latest day one escalated
    return PlanResult(
        signing=_plan_signing(today, escalations),
        review=_plan_reviews(today),
        declaration=_plan_declarations(today),
        escalation=_plan_escalations(today, escalations),
    )


# ---------------------------------------------------------------------------
# Shared mechanics
# ---------------------------------------------------------------------------


def _chunks_of(rows: Iterable[tuple]) -> Iterator[list[tuple]]:
    """Group a stream of rows into lists of CHUNK."""
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def last_planned(subjects: Iterable[tuple[int, str]]) -> dict[tuple[int, str], date]:
    """For each (recipient, subject) given, the last day a reminder about it was planned (one query)."""
    subjects = list(subjects)
    rows = (
        ReminderLog.objects.filter(
            subject__in={subject for _, subject in subjects}, recipient_id__in={recipient for recipient, _ in subjects}
        )
        .order_by()
        .values_list("recipient_id", "subject")
        .annotate(last=Max("planned_for"))
    )
    return {(recipient_id, subject): last for recipient_id, subject, last in rows}


# What varies per row (with its PostgreSQL type), and what every row planned in one run shares.
PER_ROW = (
    ("recipient", "bigint"),
    ("kind", "text"),
    ("subject", "text"),
    ("step", "text"),
    ("organisation", "bigint"),
    ("code", "bigint"),
    ("obligation", "bigint"),
    ("adoption", "bigint"),
    ("due_on", "date"),
)
SHARED = ("planned_for", "status", "attempts", "last_error", "note", "created_at")


def _column(name: str) -> str:
    """The quoted database column of a ReminderLog field."""
    field = ReminderLog._meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:
        raise ValueError(f"ReminderLog.{name} is not a column.")
    return connection.ops.quote_name(field.column)


def _columns(names: Iterable[str]) -> str:
    return ", ".join(_column(name) for name in names)


def _insert_rows(rows: list[tuple], shared: tuple) -> None:
    """``INSERT … ON CONFLICT DO NOTHING`` of many rows in few statements.

    PostgreSQL gets one statement per chunk with a column array per field
    (``unnest``): a handful of parameters however many rows. SQLite gets
    multi-row ``VALUES``, as many rows per statement as it takes parameters.
    """
    table = connection.ops.quote_name(ReminderLog._meta.db_table)
    columns = _columns([name for name, _type in PER_ROW] + list(SHARED))
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{pg_type}[]" for _name, pg_type in PER_ROW)
            sql = (
                f"INSERT INTO {table} ({columns}) SELECT *, {', '.join(['%s'] * len(SHARED))} "
                f"FROM unnest({arrays}) ON CONFLICT DO NOTHING"
            )
            cursor.execute(sql, [*shared, *map(list, zip(*rows, strict=True))])  # callers pass at most CHUNK rows
            return
        width = len(PER_ROW) + len(SHARED)
        max_params = connection.features.max_query_params or CHUNK * width  # None: the backend sets no limit
        per_statement = max(1, min(CHUNK, max_params // width))
        placeholders = f"({', '.join(['%s'] * width)})"
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            values = ", ".join([placeholders] * len(batch))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT DO NOTHING",
                [value for row in batch for value in (*row, *shared)],
            )


def _insert(candidates: Iterable[Candidate], last_planned: dict[tuple[int, str], date], today: date) -> int:
    """Insert the candidates whose step is newer than the last reminder about the same subject.

    Plain SQL rather than ``bulk_create``: for 100,000 rows, building model
    instances and preparing each of their fields took most of the planner's
    time. The conflict clause (PostgreSQL, and SQLite since 3.24) lets a
    concurrent planner that got there first win quietly.
    """
    ops = connection.ops
    rows = [
        (
            c.recipient_id,
            c.kind,
            c.subject,
            c.step.key,
            c.organisation_id,
            c.code_id,
            c.obligation_id,
            c.adoption_id,
            ops.adapt_datefield_value(c.due_on),
        )
        for c in candidates
        if last_planned.get((c.recipient_id, c.subject), date.min) < c.step.on
    ]
    if rows:
        shared = (
            ops.adapt_datefield_value(today),
            ReminderStatus.PENDING.value,
            0,
            "",
            "",
            ops.adapt_datetimefield_value(timezone.now()),
        )
        _insert_rows(rows, shared)
    return len(rows)


def _plan(candidates: list[Candidate], today: date) -> int:
    """Insert, a chunk at a time, the candidates no earlier reminder about the same subject covers.

    One lookup per chunk, by (recipient, subject): the unique key's index answers it.
    """
    planned = 0
    for chunk in _chunks(candidates):
        last = last_planned((c.recipient_id, c.subject) for c in chunk)
        planned += _insert(chunk, last, today)
    return planned


# ---------------------------------------------------------------------------
# Signing: everyone who owes an acknowledgement, for a role they still hold
# ---------------------------------------------------------------------------


def _plan_signing(today: date, escalations: dict[int, date]) -> int:
    """One streamed query over open obligations, each with the day it was last reminded (a LEFT JOIN
    aggregate: the reminders of an obligation all go to the person who owes it)."""
    codes = {
        pk: (signing_days, repeat_days, escalate_days)
        for pk, signing_days, repeat_days, escalate_days in Code.objects.values_list(
            "pk", "signing_reminder_days", "overdue_repeat_days", "escalate_after_days"
        )
    }
    owed = (
        Obligation.objects.open()
        .for_current_roles(today)
        # owed_from is not enough: an admin may move a role's start later after it was owed (RoleAdmin).
        .filter(owed_from__lte=today, person__is_active=True, role__starts_on__lte=today)
        .order_by()
        .values_list("pk", "person_id", "organisation_id", "code_id", "owed_from", "due_on")
        .annotate(last_reminded=Max("reminders__planned_for"))
    )
    planned = 0
    for chunk in _chunks_of(owed.iterator(chunk_size=CHUNK)):
        candidates, last = [], {}
        for pk, person_id, organisation_id, code_id, owed_from, due_on, last_reminded in chunk:
            signing_days, repeat_days, escalate_days = codes[code_id]
            step = latest_step(
                starts_on=owed_from,
                due_on=due_on,
                before_days=signing_days,
                repeat_days=repeat_days,
                today=today,
                opening=True,
            )
            if step:
                subject = f"obligation:{pk}"
                candidates.append(
                    Candidate(
                        recipient_id=person_id,
                        kind=ReminderKind.SIGNING,
                        subject=subject,
                        step=step,
                        organisation_id=organisation_id,
                        code_id=code_id,
                        obligation_id=pk,
                        due_on=due_on,
                    )
                )
                if last_reminded:
                    last[(person_id, subject)] = last_reminded
            # "More than N days overdue": escalated from the (N+1)th day after the due date.
            escalated_on = due_on + timedelta(days=escalate_days + 1)
            if escalated_on <= today:
                escalations[organisation_id] = max(escalated_on, escalations.get(organisation_id, escalated_on))
        planned += _insert(candidates, last, today)
    return planned


# ---------------------------------------------------------------------------
# Reviews: the chair and clerk of each board, before its adopted version's review date
# ---------------------------------------------------------------------------


def _plan_reviews(today: date) -> int:
    # The review is done when the board adopts a newer version, or when another board's adoption covers it (a
    # trust-wide adoption over a local board): the same rule as the pages (conduct.reviews.replaced_for_review).
    latest: dict[tuple[int, int], tuple[int, date, date]] = {}
    adoptions = (
        Adoption.objects.exclude(replaced_for_review())
        .order_by("adopted_on", "recorded_at", "pk")
        .values_list("pk", "board_id", "version__code_id", "adopted_on", "review_due_on")
    )
    for pk, board_id, code_id, adopted_on, review_due_on in adoptions:
        latest[(board_id, code_id)] = (pk, adopted_on, review_due_on)
    if not latest:
        return 0
    codes = {
        pk: (review_days, repeat_days)
        for pk, review_days, repeat_days in Code.objects.values_list(
            "pk", "review_reminder_days", "overdue_repeat_days"
        )
    }
    officers: dict[int, set[int]] = defaultdict(set)
    for person_id, board_id in (
        Role.objects.current(today)
        .filter(kind__in=REVIEW_OFFICERS, organisation_id__in={board for board, _ in latest}, person__is_active=True)
        .values_list("person_id", "organisation_id")
    ):
        officers[board_id].add(person_id)

    candidates = []
    for (board_id, code_id), (adoption_id, adopted_on, review_due_on) in latest.items():
        review_days, repeat_days = codes[code_id]
        step = latest_step(
            starts_on=adopted_on,
            due_on=review_due_on,
            before_days=review_days,
            repeat_days=repeat_days,
            today=today,
            opening=False,
        )
        if step is None:
            continue
        for person_id in sorted(officers.get(board_id, ())):
            candidates.append(
                Candidate(
                    recipient_id=person_id,
                    kind=ReminderKind.REVIEW,
                    subject=f"adoption:{adoption_id}",
                    step=step,
                    organisation_id=board_id,
                    code_id=code_id,
                    adoption_id=adoption_id,
                    due_on=review_due_on,
                )
            )
    return _plan(candidates, today)


# ---------------------------------------------------------------------------
# Declarations of interest: governors whose yearly declaration has lapsed (1 September)
# ---------------------------------------------------------------------------


def declaration_subject(root: int, year_start: date) -> str:
    """A governor's declaration for a top-level organisation and academic year, e.g. "declaration:1:2026"."""
    return f"declaration:{root}:{year_start.year}"


def declaration_subject_parts(subject: str) -> tuple[int, date]:
    """The top-level organisation's id and the academic year's 1 September that ``declaration_subject`` wrote."""
    _kind, root, year = subject.split(":")
    return int(root), academic_year_start_in(int(year))


def _plan_declarations(today: date) -> int:
    """One series per governor per top-level organisation (trust or network) per academic year.

    A declaration made for any organisation under the same top-level
    organisation counts: the register of interests is kept per trust.
    """
    year_start = academic_year_start(today)
    first_role: dict[tuple[int, int], tuple[int, date]] = {}
    for person_id, organisation_id, path, starts_on in (
        Role.objects.current(today)
        .filter(kind__in=GOVERNANCE_ROLE_KINDS, person__is_active=True)
        .order_by("starts_on", "pk")
        .values_list("person_id", "organisation_id", "organisation__path", "starts_on")
    ):
        first_role.setdefault((person_id, root_id(path)), (organisation_id, starts_on))
    if not first_role:
        return 0
    declared = {
        (person_id, root_id(path))
        for person_id, path in Declaration.objects.filter(academic_year_start__gte=year_start).values_list(
            "person_id", "organisation__path"
        )
    }
    due_days = settings.REMINDERS_DECLARATION_DUE_DAYS
    candidates = []
    for (person_id, root), (organisation_id, starts_on) in first_role.items():
        if (person_id, root) in declared:
            continue
        owed_from = max(year_start, starts_on)
        due_on = owed_from + timedelta(days=due_days)
        step = latest_step(
            starts_on=owed_from,
            due_on=due_on,
            before_days=default_signing_steps(),
            repeat_days=DECLARATION_REPEAT_DAYS,
            today=today,
            opening=True,
        )
        if step:
            candidates.append(
                Candidate(
                    recipient_id=person_id,
                    kind=ReminderKind.DECLARATION,
                    subject=declaration_subject(root, year_start),
                    step=step,
                    organisation_id=organisation_id,
                    due_on=due_on,
                )
            )
    return _plan(candidates, today)


# ---------------------------------------------------------------------------
# Escalation: one digest per clerk or admin when someone in their reach becomes seriously overdue
# ---------------------------------------------------------------------------


def escalation_subject(organisation_id: int) -> str:
    return f"escalation:{organisation_id}"


def _plan_escalations(today: date, escalations: dict[int, date]) -> int:
    """A digest to each clerk and admin at or above an organisation where an obligation newly escalated.

    An officer holding several roles gets one digest for the topmost
    organisation they look after (a trust admin who is also a board's clerk
    gets the trust's digest only). The digest is planned when something
    escalated since their last one; its contents are read when it is sent.
    """
    if not escalations:
        return 0
    escalated_paths = dict(Organisation.objects.filter(pk__in=list(escalations)).values_list("pk", "path"))
    held: dict[int, dict[int, str]] = defaultdict(dict)
    for person_id, organisation_id, path in (
        Role.objects.current(today)
        .filter(kind__in=ESCALATION_OFFICERS, person__is_active=True)
        .values_list("person_id", "organisation_id", "organisation__path")
    ):
        held[person_id][organisation_id] = path

    candidates = []
    for person_id, organisations in held.items():
        for organisation_id, path in organisations.items():
            if any(path != other and path.startswith(other) for other in organisations.values()):
                continue  # covered by the digest of an organisation above it
            newest = max(
                (
                    escalations[escalated_id]
                    for escalated_id, escalated_path in escalated_paths.items()
                    if escalated_path.startswith(path)
                ),
                default=None,
            )
            if newest:
                candidates.append(
                    Candidate(
                        recipient_id=person_id,
                        kind=ReminderKind.ESCALATION,
                        subject=escalation_subject(organisation_id),
                        step=Step(today.isoformat(), newest),
                        organisation_id=organisation_id,
                    )
                )
    return _plan(candidates, today)
