"""The retention schedule (issue 13; docs/retention.md): how long each kind of record is kept, and the sweep.

The schedule is data (``retention_schedule``): one rule per kind of record, with its period read from
settings (``RETENTION_*``, checked strictly here as well as at start-up, since tests and shells may set
them directly), the date it runs from and what happens at its end. A person's records are kept until
the latest of their rules has run out (``retention_ends_on``); until then, and while they hold any role,
nothing of theirs is due.

The sweep (``retention_apply``, nightly from beat and ``manage.py apply_retention``) deletes the rows that
are no evidence of anything once their period has passed (email and reminder rows) and, for each person
whose retention has ended, either flags them once for an admin's review (the default) or, with
``RETENTION_AUTO_ERASE``, erases them through ``privacy.erasure.person_erase`` (never while a legal hold
is on them). A day's run is claimed in the database, so two beats at once run it once; every deletion,
flag and erasure is counted in a ``RETENTION_APPLIED`` audit entry of the trust it belongs to.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from acknowledgements.models import Declaration, EmailStatus, OutgoingEmail
from conduct.audit import audit_log_record
from conduct.models import Adoption, AuditAction, AuditLogEntry, Organisation, Person, Role, root_path
from core.claims import work_claim, work_done
from core.models import WorkClaim
from privacy.models import ErasureRecord, LegalHold
from reminders.models import ReminderLog, ReminderStatus
from reports.models import JOB_RETENTION

logger = logging.getLogger(__name__)

RUN_CLAIM_PREFIX = "retention:run:"
FLAG_CLAIM_PREFIX = "retention:flagged:"
# A run that died is taken over by the next one after this long (a night's run takes minutes).
RUN_STALE_AFTER = timedelta(hours=6)
DELETE_CHUNK = 2000
# Entries about keeping or erasing a person's data are not part of the relationship: a legal hold placed today
# must not itself push the person's retention six years on (the hold is what keeps them, for as long as it lasts).
PRIVACY_ACTIONS = (
    AuditAction.LEGAL_HOLD_SET,
    AuditAction.LEGAL_HOLD_RELEASED,
    AuditAction.PERSON_ERASED,
    AuditAction.RETENTION_APPLIED,
)
EMAIL_DONE = (EmailStatus.SENT, EmailStatus.FAILED, EmailStatus.GIVEN_UP)
REMINDER_DONE = (ReminderStatus.SENT, ReminderStatus.FAILED, ReminderStatus.GIVEN_UP, ReminderStatus.SKIPPED)


class AtEnd(models.TextChoices):
    DELETE = "delete", "Deleted"
    ERASE = "erase", "Personal data erased with the person's (review, or automatic erasure)"
    REVIEW = "review", "Kept and counted for review (part of the evidence chain)"


@dataclass(frozen=True)
class RetentionRule:
    """One kind of record: how long it is kept, from when, under which setting, and what happens at the end."""

    key: str
    record: str
    amount: int
    unit: str  # "years" or "days"
    runs_from: str
    setting: str
    at_end: AtEnd
    enforced_by: str

    @property
    def period(self) -> str:
        unit = self.unit[:-1] if self.amount == 1 else self.unit
        return f"{self.amount} {unit}"


def _setting(name: str) -> int:
    """A period setting: a whole number of at least 1, or a clear ImproperlyConfigured naming it."""
    value = getattr(settings, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ImproperlyConfigured(
            f"{name} must be a whole number of at least 1 (it is {value!r}): see docs/retention.md."
        )
    return value


def retention_schedule() -> tuple[RetentionRule, ...]:
    """The schedule in force, from settings (each period checked)."""
    sweep = "the nightly retention sweep (privacy.retention.retention_apply)"
    person = "each person's retention end (privacy.retention.retention_ends_on), then the sweep"
    return (
        RetentionRule(
            "acknowledgements",
            "Signed acknowledgements and their sealed PDFs",
            _setting("RETENTION_ACKNOWLEDGEMENTS_YEARS"),
            "years",
            "the end of the person's last role",
            "RETENTION_ACKNOWLEDGEMENTS_YEARS",
            AtEnd.ERASE,
            person,
        ),
        RetentionRule(
            "declarations",
            "Declarations of interests",
            _setting("RETENTION_DECLARATIONS_YEARS"),
            "years",
            "the end of the appointment they were made for",
            "RETENTION_DECLARATIONS_YEARS",
            AtEnd.ERASE,
            person,
        ),
        RetentionRule(
            "paper_scans",
            "Paper signature scans",
            _setting("RETENTION_ACKNOWLEDGEMENTS_YEARS"),
            "years",
            "the end of the person's last role, as the acknowledgement they prove",
            "RETENTION_ACKNOWLEDGEMENTS_YEARS",
            AtEnd.ERASE,
            person,
        ),
        RetentionRule(
            "adoptions",
            "Adoption records and certificates (the chair's typed signature)",
            _setting("RETENTION_ADOPTIONS_YEARS"),
            "years",
            "the board adopting a newer version",
            "RETENTION_ADOPTIONS_YEARS",
            AtEnd.ERASE,
            person,
        ),
        RetentionRule(
            "audit_entries",
            "Officers' audit entries",
            _setting("RETENTION_AUDIT_YEARS"),
            "years",
            "the action",
            "RETENTION_AUDIT_YEARS",
            AtEnd.REVIEW,
            "counted here; the people they name are erased with their own records",
        ),
        RetentionRule(
            "email_rows",
            "Email rows (receipts, invitations)",
            _setting("RETENTION_EMAIL_ROWS_DAYS"),
            "days",
            "when sent (or refused, or given up)",
            "RETENTION_EMAIL_ROWS_DAYS",
            AtEnd.DELETE,
            sweep,
        ),
        RetentionRule(
            "reminder_rows",
            "Reminder log rows (reminders, digests)",
            _setting("RETENTION_EMAIL_ROWS_DAYS"),
            "days",
            "when sent (or refused, or given up); the newest per person and subject is kept for the planner",
            "RETENTION_EMAIL_ROWS_DAYS",
            AtEnd.DELETE,
            sweep,
        ),
        RetentionRule(
            "report_files",
            "Report files (archives, detailed PDFs, spreadsheets)",
            JOB_RETENTION.days,
            "days",
            "when built",
            "reports.models.JOB_RETENTION",
            AtEnd.DELETE,
            "reports' nightly purge (reports-purge-expired-files)",
        ),
    )


def _rule(key: str) -> RetentionRule:
    return next(rule for rule in retention_schedule() if rule.key == key)


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February in a year without one."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# ---------------------------------------------------------------------------
# People: when their retention ends
# ---------------------------------------------------------------------------


def _latest(queryset: QuerySet, field_name: str) -> Subquery:
    return Subquery(
        queryset.filter(**{f"{field_name}__isnull": False}).order_by(f"-{field_name}").values(field_name)[:1]
    )


def _with_retention_facts(people: QuerySet[Person], today: date) -> QuerySet[Person]:
    """People annotated with what their retention depends on (subqueries, so no join multiplies another)."""
    roles = Role.objects.filter(person=OuterRef("pk"))
    chaired = Adoption.objects.filter(chair=OuterRef("pk"))
    declared_in = Declaration.objects.filter(person=OuterRef(OuterRef("pk"))).values("organisation")
    audited = AuditLogEntry.objects.exclude(action__in=PRIVACY_ACTIONS)
    return people.annotate(
        holds_role=Exists(roles.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))),
        last_role_end=_latest(roles, "ends_on"),
        has_declarations=Exists(Declaration.objects.filter(person=OuterRef("pk"))),
        last_appointment_end=_latest(roles.filter(organisation__in=declared_in), "ends_on"),
        chairs_adoption_in_force=Exists(chaired.filter(version__superseded_at__isnull=True)),
        last_adoption_superseded=_latest(chaired, "version__superseded_at"),
        last_audit_as_subject=_latest(audited.filter(subject=OuterRef("pk")), "at"),
        last_audit_as_actor=_latest(audited.filter(actor=OuterRef("pk")), "at"),
        on_legal_hold=Exists(LegalHold.objects.filter(person=OuterRef("pk"), released_at__isnull=True)),
    )


def _ends_on(person: Person) -> date | None:
    """The day a person annotated by ``_with_retention_facts`` stops being kept (None: kept while a role lasts)."""
    facts = person.__dict__
    if facts["holds_role"] or facts["chairs_adoption_in_force"]:
        return None
    left_on = facts["last_role_end"] or timezone.localdate(person.date_joined)
    ends = [years_after(left_on, _setting("RETENTION_ACKNOWLEDGEMENTS_YEARS"))]
    if facts["has_declarations"]:
        ends.append(years_after(facts["last_appointment_end"] or left_on, _setting("RETENTION_DECLARATIONS_YEARS")))
    if facts["last_adoption_superseded"]:
        superseded_on = timezone.localdate(facts["last_adoption_superseded"])
        ends.append(years_after(superseded_on, _setting("RETENTION_ADOPTIONS_YEARS")))
    audited = [moment for moment in (facts["last_audit_as_subject"], facts["last_audit_as_actor"]) if moment]
    if audited:
        ends.append(years_after(timezone.localdate(max(audited)), _setting("RETENTION_AUDIT_YEARS")))
    return max(ends)


def retention_ends_on(person: Person, *, today: date | None = None) -> date | None:
    """The first day none of ``person``'s records need be kept; None while they hold a role (or chair an
    adoption in force). From that day their personal data may be erased (basis "retention ended")."""
    today = today or timezone.localdate()
    return _ends_on(_with_retention_facts(Person.objects.filter(pk=person.pk), today).get())


@dataclass(frozen=True)
class DuePerson:
    person: Person
    ends_on: date
    on_legal_hold: bool


def people_due_for_erasure(
    *, organisation: Organisation | None, today: date | None = None, limit: int | None = None
) -> list[DuePerson]:
    """People whose retention has ended and who are not yet erased, oldest first, in one query.

    ``organisation`` scopes it to people who held a role in it or below it (a trust admin: their trust);
    None is everyone (platform operators and the sweep), people who never held a role included.
    """
    today = today or timezone.localdate()
    # Every person's end is at least their acknowledgements' (from their last role): nobody who left later can be
    # due, which narrows the scan in SQL to the long-gone.
    left_before = years_after(today, -_setting("RETENTION_ACKNOWLEDGEMENTS_YEARS"))
    people = Person.objects.filter(is_superuser=False).exclude(
        Exists(ErasureRecord.objects.filter(person=OuterRef("pk")))
    )
    if organisation is not None:
        people = people.filter(
            Exists(Role.objects.filter(person=OuterRef("pk"), organisation__path__startswith=organisation.path))
        )
    candidates = (
        _with_retention_facts(people, today)
        .filter(Q(holds_role=False), Q(chairs_adoption_in_force=False))  # Q: the annotations are not model fields
        .filter(Q(last_role_end__lte=left_before) | Q(last_role_end__isnull=True, date_joined__date__lte=left_before))
        .order_by(F("last_role_end").asc(nulls_first=True), "pk")
    )
    due = []
    for person in candidates.iterator():
        ends_on = _ends_on(person)
        if ends_on is not None and ends_on <= today:
            due.append(DuePerson(person=person, ends_on=ends_on, on_legal_hold=person.__dict__["on_legal_hold"]))
            if limit is not None and len(due) >= limit:
                break
    return due


# ---------------------------------------------------------------------------
# Rows with no evidence value: email and reminder rows past their period
# ---------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _rows_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=_setting("RETENTION_EMAIL_ROWS_DAYS"))


def _finished_before(queryset: QuerySet, done: Iterable[str], cutoff: datetime) -> QuerySet:
    """Rows whose outcome is settled, timed by when they were sent, else last tried, else made."""
    return (
        queryset.filter(status__in=list(done))
        .annotate(finished_at=Coalesce("sent_at", "claimed_at", "created_at"))
        .filter(finished_at__lt=cutoff)
    )


def _scoped(queryset: QuerySet, organisation: Organisation | None) -> QuerySet:
    return queryset if organisation is None else queryset.filter(organisation__path__startswith=organisation.path)


def expired_email_rows(*, now: datetime | None = None, organisation: Organisation | None = None) -> QuerySet:
    """Receipt and invitation rows sent (or refused, or given up) longer ago than ``RETENTION_EMAIL_ROWS_DAYS``.

    Nothing references them (no evidence record, event or PDF names an email row), so they are deleted.
    Rows still waiting are never due: the reconciliation sweep is still working on them.
    """
    cutoff = _rows_cutoff(now or timezone.now())
    return _scoped(_finished_before(OutgoingEmail.objects.all(), EMAIL_DONE, cutoff), organisation)


def expired_reminder_rows(*, now: datetime | None = None, organisation: Organisation | None = None) -> QuerySet:
    """Reminder log rows settled longer ago than ``RETENTION_EMAIL_ROWS_DAYS``, except each person's newest row
    about each subject: the planner reads that one to know a step was sent, and without it would send it again.
    """
    cutoff = _rows_cutoff(now or timezone.now())
    newer = ReminderLog.objects.filter(recipient=OuterRef("recipient"), subject=OuterRef("subject")).filter(
        Q(planned_for__gt=OuterRef("planned_for")) | Q(planned_for=OuterRef("planned_for"), pk__gt=OuterRef("pk"))
    )
    rows = _finished_before(ReminderLog.objects.filter(Exists(newer)), REMINDER_DONE, cutoff)
    return _scoped(rows, organisation)


def audit_entries_past_period(*, now: datetime | None = None, organisation: Organisation | None = None) -> QuerySet:
    """Officers' audit entries older than ``RETENTION_AUDIT_YEARS``: kept (each is a link of the evidence chain)
    and counted for review; the personal data in them goes with each person's erasure."""
    today = timezone.localdate(now or timezone.now())
    # As for people: an entry made on day D is past its period from D + N years, that day included.
    made_before = years_after(today, -_setting("RETENTION_AUDIT_YEARS")) + timedelta(days=1)
    return _scoped(AuditLogEntry.objects.filter(at__lt=_start_of(made_before)), organisation)


@dataclass(frozen=True)
class DueCounts:
    email_rows: int
    reminder_rows: int
    audit_entries: int


def retention_due_counts(*, organisation: Organisation | None, now: datetime | None = None) -> DueCounts:
    """How many rows of each swept kind are due now (three queries)."""
    now = now or timezone.now()
    return DueCounts(
        email_rows=expired_email_rows(now=now, organisation=organisation).count(),
        reminder_rows=expired_reminder_rows(now=now, organisation=organisation).count(),
        audit_entries=audit_entries_past_period(now=now, organisation=organisation).count(),
    )


# ---------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------


@dataclass
class TrustOutcome:
    """What one run did in one trust (under the key "": rows filed under no organisation, people with no role)."""

    email_rows: int = 0
    reminder_rows: int = 0
    flagged: list[int] = field(default_factory=list)
    erased: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)

    def details(self) -> dict:
        return {
            "email_rows_deleted": self.email_rows,
            "reminder_rows_deleted": self.reminder_rows,
            "flagged_for_review": self.flagged,
            "erased": self.erased,
            "on_legal_hold": self.held,
            "erasure_refused": self.refused,
        }

    def summary(self) -> str:
        return (
            f"Retention applied: {self.email_rows} email and {self.reminder_rows} reminder row(s) deleted, "
            f"{len(self.flagged)} person(s) flagged for review, {len(self.erased)} erased, "
            f"{len(self.held)} on legal hold, {len(self.refused)} erasure(s) refused"
        )

    def __bool__(self) -> bool:
        return bool(self.email_rows or self.reminder_rows or self.flagged or self.erased or self.held or self.refused)


@dataclass
class RetentionResult:
    """What a run did (or, for a dry run, would do), per trust path."""

    ran: bool
    dry_run: bool
    auto_erase: bool
    by_trust: defaultdict[str, TrustOutcome] = field(default_factory=lambda: defaultdict(TrustOutcome))
    flag_keys: list[str] = field(default_factory=list)  # written with the run's audit entries

    def people(self, outcome: str) -> set[int]:
        """Everyone with this outcome ("flagged", "erased", "held", "refused"), each once whatever their trusts."""
        return {int(pk) for record in self.by_trust.values() for pk in getattr(record, outcome)}

    def rows(self, kind: str) -> int:
        return sum(getattr(record, kind) for record in self.by_trust.values())


def _delete_rows(queryset: QuerySet, *, dry_run: bool) -> Counter[str]:
    """Delete the rows (in chunks), returning how many per trust path ("" for rows filed under none)."""
    rows = list(queryset.values_list("pk", "organisation__path"))
    per_trust: Counter[str] = Counter(root_path(path) if path else "" for _pk, path in rows)
    if not dry_run:
        ids = [pk for pk, _path in rows]
        for start in range(0, len(ids), DELETE_CHUNK):
            queryset.model.objects.filter(pk__in=ids[start : start + DELETE_CHUNK]).delete()
    return per_trust


def _trust_paths_of(person_ids: list[int]) -> dict[int, set[str]]:
    paths: dict[int, set[str]] = defaultdict(set)
    for person_id, path in Role.objects.filter(person_id__in=person_ids).values_list("person_id", "organisation__path"):
        paths[person_id].add(root_path(path))
    return paths


def _erase(due: DuePerson) -> tuple[str, str]:
    """Erase one person whose retention ended: ("erased", "") or ("refused", why). Its own transaction."""
    from privacy.erasure import BASIS_RETENTION_ENDED, ErasureRefused, person_erase  # erasure imports this module

    try:
        person_erase(
            actor=None,  # the sweep's, not an officer's: erased_by and the audit entry's actor stay empty
            person=due.person,
            reason=f"Retention ended on {due.ends_on.isoformat()} (docs/retention.md)",
            basis=BASIS_RETENTION_ENDED,
        )
    except ErasureRefused as refusal:
        return "refused", str(refusal)
    return "erased", ""


def _flag_key(due: DuePerson) -> str:
    """A person is flagged once for each retention end: again only if a new role moved their end on."""
    return f"{FLAG_CLAIM_PREFIX}{due.person.pk}:{due.ends_on.isoformat()}"


def _settle(due: DuePerson, result: RetentionResult, flagged_before: set[str]) -> tuple[str, str]:
    """What the run does with one person whose retention ended: held, flagged (once), erased or refused."""
    if not result.auto_erase:
        if due.on_legal_hold or _flag_key(due) in flagged_before:  # held: nothing to review until it is released
            return "", ""
        result.flag_keys.append(_flag_key(due))
        return "flagged", ""
    if due.on_legal_hold:
        return "held", ""
    return ("erased", "") if result.dry_run else _erase(due)


def _settle_people(result: RetentionResult, *, today: date) -> None:
    due = people_due_for_erasure(organisation=None, today=today)
    trusts = _trust_paths_of([entry.person.pk for entry in due])
    flagged_before = set(
        WorkClaim.objects.filter(key__in=[_flag_key(entry) for entry in due], done_at__isnull=False).values_list(
            "key", flat=True
        )
    )
    for entry in due:
        outcome, why = _settle(entry, result, flagged_before)
        for trust in trusts.get(entry.person.pk) or {""}:
            record = result.by_trust[trust]
            if outcome == "refused":
                record.refused[str(entry.person.pk)] = why
            elif outcome:
                getattr(record, outcome).append(entry.person.pk)


def _record(result: RetentionResult, *, now: datetime) -> None:
    """Flags kept, and one RETENTION_APPLIED entry per trust in which something was done (one for unfiled rows)."""
    for key in result.flag_keys:
        work_done(key, now=now)
    trusts = {org.path: org for org in Organisation.objects.filter(path__in=[path for path in result.by_trust if path])}
    for path, outcome in sorted(result.by_trust.items()):
        if outcome:
            audit_log_record(
                actor=None,
                action=AuditAction.RETENTION_APPLIED,
                organisation=trusts.get(path),
                summary=outcome.summary(),
                details={**outcome.details(), "run_at": now},
            )


def retention_apply(*, now: datetime | None = None, dry_run: bool = False) -> RetentionResult:
    """Apply the schedule (once a day): delete expired rows, flag or erase the people whose retention has ended.

    Claimed per day (``core.claims``): a second run the same day, or two beats at once, does nothing
    (``ran`` False). People are settled first, each erasure in its own transaction (``person_erase`` audits
    it as PERSON_ERASED); then one transaction deletes the expired rows, keeps the flags and writes the
    RETENTION_APPLIED entries, so no deletion is ever left uncounted. A dry run takes no claim and changes
    nothing: it says what a run would do now. A person is flagged once; a person on legal hold is counted
    every run, since the hold is what keeps them.
    """
    now = now or timezone.now()
    retention_schedule()  # a bad setting stops the run before it changes anything
    result = RetentionResult(ran=True, dry_run=dry_run, auto_erase=settings.RETENTION_AUTO_ERASE)
    key = f"{RUN_CLAIM_PREFIX}{timezone.localdate(now).isoformat()}"
    if not dry_run and not work_claim(key, stale_after=RUN_STALE_AFTER, now=now):
        result.ran = False
        return result
    try:
        _settle_people(result, today=timezone.localdate(now))
        with transaction.atomic():
            for path, count in _delete_rows(expired_email_rows(now=now), dry_run=dry_run).items():
                result.by_trust[path].email_rows = count
            for path, count in _delete_rows(expired_reminder_rows(now=now), dry_run=dry_run).items():
                result.by_trust[path].reminder_rows = count
            if not dry_run:
                _record(result, now=now)
                work_done(key, now=now)
    except Exception:
        if not dry_run:  # let the task's retry (or tomorrow's run) take the day again; what committed stays counted
            WorkClaim.objects.filter(key=key, claimed_at=now, done_at__isnull=True).delete()
        raise
    return result


def last_retention_run() -> WorkClaim | None:
    """The newest day's run that finished (its ``done_at``), if any."""
    return (
        WorkClaim.objects.filter(key__startswith=RUN_CLAIM_PREFIX, done_at__isnull=False)
        .order_by(F("done_at").desc())
        .first()
    )


def last_retention_entry(*, organisation: Organisation | None) -> AuditLogEntry | None:
    """The newest RETENTION_APPLIED entry filed under ``organisation``'s trust (None: any, for operators)."""
    entries = AuditLogEntry.objects.filter(action=AuditAction.RETENTION_APPLIED)
    if organisation is not None:
        entries = entries.filter(organisation__path=root_path(organisation.path))
    return entries.order_by("-at", "-pk").first()


# ---------------------------------------------------------------------------
# The admins' page
# ---------------------------------------------------------------------------

PAGE_PEOPLE_LIMIT = 100


@dataclass(frozen=True)
class RetentionOverview:
    schedule: tuple[RetentionRule, ...]
    auto_erase: bool
    counts: DueCounts
    people_due: list[DuePerson]
    people_due_total: int
    last_run: WorkClaim | None
    last_entry: AuditLogEntry | None


def retention_overview(*, organisation: Organisation | None, now: datetime | None = None) -> RetentionOverview:
    """What the retention page shows for ``organisation``'s tree (None: everything), in six queries."""
    now = now or timezone.now()
    due = people_due_for_erasure(organisation=organisation, today=timezone.localdate(now))
    return RetentionOverview(
        schedule=retention_schedule(),
        auto_erase=settings.RETENTION_AUTO_ERASE,
        counts=retention_due_counts(organisation=organisation, now=now),
        people_due=due[:PAGE_PEOPLE_LIMIT],
        people_due_total=len(due),
        last_run=last_retention_run(),
        last_entry=last_retention_entry(organisation=organisation),
    )
