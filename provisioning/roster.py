"""Roster sync from a file: the whole roster of an organisation, as a management information system exports it.

The columns are the CSV import's (``name, email, role, organisation, start date``, optional
``title``), plus optional ``end date`` and ``external id`` (the MIS's own id for the person). One
row is one role a person holds. ``roster_preview`` reads the file and compares it with what is
recorded, writing nothing: additions (new people, new roles), changes (name, email, role dates,
title), leavers (only when the admin says the file is the whole roster: people holding a role at
or below the organisation who are absent from it) and rejected rows with their line and reason.
``roster_apply`` makes exactly those changes, in one transaction, through the batch forms of the
people services (``conduct.people``'s ``*_batch``; new people through
``acknowledgements.invitations.invitations_create_batch``, which also invites them): the same checks,
rows and audit entries (``via: "csv"``) as the one-at-a-time services, in a number of queries that
does not grow with the file, plus one ``ROSTER_SYNCED`` entry. It plans again from the stored file
first, so applying the same file twice changes nothing the second time.

People are matched by external id where the row has one (``ExternalIdentity`` in the organisation),
else by email. Officer roles (admin, chair, clerk) are never ended because someone is absent from a
MIS export: those are changed by hand.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from acknowledgements.invitations import COLUMN_ALIASES, Invitee, invitations_create_batch
from conduct.audit import audit_log_record
from conduct.models import OFFICER_ROLE_KINDS, AuditAction, Organisation, Person, Role, role_kind_from_text, role_label
from conduct.people import (
    MAX_EMAIL,
    MAX_FULL_NAME,
    MAX_TITLE,
    DetailsChange,
    GovernanceChange,
    RoleEnding,
    people_details_update_batch,
    people_record_leaver_batch,
    roles_end_batch,
    roles_update_batch,
)
from conduct.permissions import can_change_role, can_manage_provisioning, may_grant_role, people_changeable_by
from core.dates import date_from_text, date_in_range, date_range_message
from core.tasks import enqueue_on_commit
from provisioning.models import EXTERNAL_ID_MAX_LENGTH, ExternalIdentity, RosterUpload

MAX_FILE_BYTES = 10 * 1024 * 1024  # a 50,000-person trust's roster is about 5 MB
MAX_ROWS = 60_000
REQUIRED_COLUMNS = ("name", "email", "role", "organisation", "start date")
OPTIONAL_COLUMNS = ("title", "end date", "external id")
ALIASES = {
    **COLUMN_ALIASES,
    "end": "end date",
    "ends on": "end date",
    "leaving date": "end date",
    "end date dd mm yyyy": "end date",
    "external id": "external id",
    "externalid": "external id",
    "mis id": "external id",
    "upn": "external id",
    "id": "external id",
}
VIA = "csv"
ROW_END_REASON = "End date in the roster"
# What the plan reads of people and roles (not password hashes and the rest), for a 50,000-person trust.
PERSON_FIELDS = ("id", "email", "full_name", "is_superuser", "is_active")
ROLE_FIELDS = (
    "id",
    "person_id",
    "organisation_id",
    "kind",
    "starts_on",
    "ends_on",
    "title",
    "category",
    "appointed_by",
    "term_ends_on",
)


class RosterFileError(Exception):
    """The file as a whole cannot be read (encoding, size, columns); nothing in it is used."""


def _column(header: str) -> str:
    name = re.sub(r"[\s_\-/()]+", " ", header.replace("\ufeff", "")).strip().lower()
    return ALIASES.get(name, name)


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark) or UTF-16 with its byte-order mark; nothing else is guessed.

    A spreadsheet saved in an older Windows encoding could be read wrongly without any error (names
    silently changed on signed records), so it is refused with what to do instead.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise RosterFileError("The file says it is UTF-16 but cannot be read as UTF-16.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterFileError(
            "The file is not in UTF-8, so names in it could be misread. In Excel choose "
            "File › Save As › “CSV UTF-8 (comma delimited)” and upload that file."
        ) from None
    if "\x00" in text:
        raise RosterFileError("The file is not a CSV file. Save the spreadsheet as “CSV UTF-8 (comma delimited)”.")
    return text


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    email: str
    kind: str
    organisation: Organisation
    starts_on: date
    ends_on: date | None
    title: str
    external_id: str

    @property
    def kind_label(self) -> str:
        return role_label(self.kind)


def _read(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[Rejected]]:
    first_line = text.split("\n", 1)[0]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first_line, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise RosterFileError("The file is empty.") from None
    except csv.Error as error:
        raise RosterFileError(f"The first row cannot be read as CSV ({error}).") from None
    columns = [_column(cell) for cell in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        found = ", ".join(cell.strip() for cell in header if cell.strip()) or "nothing"
        raise RosterFileError(
            f"The first row must name the columns: {', '.join(REQUIRED_COLUMNS)} (and optionally "
            f"{', '.join(OPTIONAL_COLUMNS)}). Missing: {', '.join(missing)}. Found: {found}."
        )
    duplicates = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicates:
        raise RosterFileError(f"The column(s) {', '.join(duplicates)} appear more than once in the first row.")
    rows: list[tuple[int, dict[str, str]]] = []
    rejected: list[Rejected] = []
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise RosterFileError(f"Line {reader.line_num} cannot be read as CSV ({error}).") from None
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue
        if len(values) > len(columns) and any(value.strip() for value in values[len(columns) :]):
            rejected.append(Rejected(line, f"{len(values)} values but {len(columns)} columns; check for stray commas."))
            continue
        rows.append((line, {c: (values[i].strip() if i < len(values) else "") for i, c in enumerate(columns)}))
        if len(rows) > MAX_ROWS:
            raise RosterFileError(f"The file has more than {MAX_ROWS:,} rows; sync each school's roster on its own.")
    return rows, rejected


class _Places:
    """Organisations at or below the synced one, by short web name, name or short name (ignoring case)."""

    def __init__(self, organisation: Organisation):
        self.by_key: dict[str, list[Organisation]] = defaultdict(list)
        for place in Organisation.objects.filter(path__startswith=organisation.path):
            for key in {place.slug.lower(), " ".join(place.name.split()).lower(), place.short_name.lower()}:
                if key:
                    self.by_key[key].append(place)
        self.organisation = organisation

    def find(self, value: str) -> tuple[Organisation | None, str]:
        matches = self.by_key.get(" ".join(value.split()).lower(), [])
        if len(matches) == 1:
            return matches[0], ""
        if len(matches) > 1:
            return None, f"“{value}” matches more than one organisation; use its short web name"
        return None, f"“{value}” is not {self.organisation.name} or an organisation below it"


# The CSV import's reading of a role's name, remembered: a roster names a handful of roles thousands of times.
_kind = lru_cache(maxsize=512)(role_kind_from_text)
# Likewise its dates: a file of 10,000 rows gives a few dozen distinct start dates (strptime is the cost).
_day_from_text = lru_cache(maxsize=4096)(date_from_text)


def _date(value: str, what: str, problems: list[str], *, required: bool) -> date | None:
    if not value:
        if required:
            problems.append(f"the {what} is missing")
        return None
    day = _day_from_text(value)
    if day is None:
        problems.append(f"“{value}” is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
    elif not date_in_range(day):
        problems.append(f"the {what} {value}: {date_range_message()[0].lower()}{date_range_message()[1:-1]}")
        return None
    return day


def _validate(line: int, values: dict[str, str], actor: Person, places: _Places) -> RosterRow | Rejected:
    problems: list[str] = []
    name = " ".join(values["name"].split())
    email = values["email"].strip().lower()
    title = " ".join(values.get("title", "").split())
    external_id = values.get("external id", "").strip()
    if not name:
        problems.append("the name is missing")
    elif len(name) > MAX_FULL_NAME:
        problems.append(f"the name has {len(name)} characters (at most {MAX_FULL_NAME})")
    if not email:
        problems.append("the email is missing")
    elif len(email) > MAX_EMAIL:
        problems.append(f"the email address has {len(email)} characters (at most {MAX_EMAIL})")
    else:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"“{values['email']}” is not a valid email address")
    if len(title) > MAX_TITLE:
        problems.append(f"the title has {len(title)} characters (at most {MAX_TITLE})")
    if len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        problems.append(f"the external id has {len(external_id)} characters (at most {EXTERNAL_ID_MAX_LENGTH})")
    kind = _kind(values["role"]) if values["role"] else None
    if kind is None:
        problems.append(f"unknown role “{values['role']}”" if values["role"] else "the role is missing")
    organisation, problem = places.find(values["organisation"]) if values["organisation"] else (None, "")
    if not values["organisation"]:
        problems.append("the organisation is missing")
    elif problem:
        problems.append(problem)
    starts_on = _date(values["start date"], "start date", problems, required=True)
    ends_on = _date(values.get("end date", ""), "end date", problems, required=False)
    if starts_on and ends_on and ends_on < starts_on:
        problems.append("the end date is before the start date")
    if organisation is not None and kind is not None and not may_grant_role(actor, kind, organisation):
        problems.append(f"you cannot give people the {role_label(kind).lower()} role at {organisation.name}")
    if problems or kind is None or organisation is None or starts_on is None:
        message = "; ".join(problems)
        return Rejected(line, message[0].upper() + message[1:] + ".")
    return RosterRow(line, name, email, kind, organisation, starts_on, ends_on, title, external_id)


# ---------------------------------------------------------------------------
# The plan: what applying the file would change
# ---------------------------------------------------------------------------


@dataclass
class Addition:
    row: RosterRow
    person: Person | None  # None: someone new (invited)


@dataclass
class PersonChange:
    person: Person
    line: int
    full_name: str
    email: str
    external_id: str  # to record for the person ("" if none or already recorded)
    words: list[str]  # "name from X to Y", "email …"


@dataclass
class RoleChange:
    role: Role
    row: RosterRow
    words: list[str]
    starts_on: date | None = None  # a new start date
    title: str | None = None  # a new title
    ends_on: date | None = None  # ends on this day


@dataclass
class Leaver:
    person: Person
    roles: list[Role]
    whole: bool  # absent from the file altogether (a leaver), else only these roles are absent


@dataclass
class RosterPlan:
    organisation: Organisation
    whole_roster: bool
    leavers_on: date
    rows: int = 0
    additions: list[Addition] = field(default_factory=list)
    person_changes: list[PersonChange] = field(default_factory=list)
    role_changes: list[RoleChange] = field(default_factory=list)
    leavers: list[Leaver] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # absent officer roles, left as they are
    identities: list[tuple[Person, str]] = field(default_factory=list)  # external ids to record
    unchanged: int = 0

    @property
    def change_count(self) -> int:
        return (
            len(self.additions)
            + len(self.person_changes)
            + len(self.role_changes)
            + len(self.leavers)
            + len(self.identities)
        )


def _check_file(data: bytes) -> None:
    if not data.strip():
        raise RosterFileError("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise RosterFileError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")


def roster_plan(
    *, actor: Person, organisation: Organisation, data: bytes, whole_roster: bool, leavers_on: date
) -> RosterPlan:
    """What applying ``data`` to the roster would change, writing nothing; RosterFileError if the file is unreadable."""
    if not can_manage_provisioning(actor, organisation):
        raise PermissionDenied(f"Only an admin of {organisation.name} can sync its roster.")
    _check_file(data)
    raw_rows, rejected = _read(decode(data))
    plan = RosterPlan(organisation=organisation, whole_roster=whole_roster, leavers_on=leavers_on, rejected=rejected)
    places = _Places(organisation)
    rows: list[RosterRow] = []
    for line, values in raw_rows:
        checked = _validate(line, values, actor, places)
        (plan.rejected if isinstance(checked, Rejected) else rows).append(checked)  # type: ignore[arg-type]
    rows = _without_conflicts(rows, plan.rejected)
    plan.rows = len(raw_rows)

    # Who each row is: by external id (recorded for this organisation), else by email.
    by_external = {
        identity.external_id: identity.person
        for identity in ExternalIdentity.objects.filter(
            organisation=organisation, external_id__in={r.external_id for r in rows if r.external_id}
        )
        .select_related("person")
        .only("external_id", *(f"person__{f}" for f in PERSON_FIELDS))
    }
    known_ids = dict(
        ExternalIdentity.objects.filter(organisation=organisation)
        .exclude(external_id="")
        .values_list("person_id", "external_id")
    )
    by_email = {p.email: p for p in Person.objects.filter(email__in={r.email for r in rows}).only(*PERSON_FIELDS)}
    person_rows: dict[int, list[RosterRow]] = defaultdict(list)
    new_rows: list[RosterRow] = []
    for row in rows:
        person = by_external.get(row.external_id) if row.external_id else None
        email_owner = by_email.get(row.email)
        if person is not None and email_owner is not None and email_owner.pk != person.pk:
            plan.rejected.append(
                Rejected(row.line, f"The external id is {person.full_name}'s but {row.email} is someone else's.")
            )
            continue
        if person is None and email_owner is not None and row.external_id:
            recorded = known_ids.get(email_owner.pk)
            if recorded and recorded != row.external_id:
                plan.rejected.append(
                    Rejected(
                        row.line, f"{row.email} is recorded with the external id {recorded}, not {row.external_id}."
                    )
                )
                continue
        person = person or email_owner
        if person is None:
            new_rows.append(row)
        else:
            person_rows[person.pk].append(row)

    # New people: one addition per row (the first row creates them; invitation_create finds them after).
    plan.additions.extend(Addition(row, None) for row in new_rows)
    people = {p.pk: p for p in [*by_email.values(), *by_external.values()] if p.pk in person_rows}
    roles_by_person: dict[int, list[Role]] = defaultdict(list)
    for role in Role.objects.filter(person_id__in=people, organisation__path__startswith=organisation.path).only(
        *ROLE_FIELDS
    ):
        roles_by_person[role.person_id].append(role)
    differing = {
        person_id
        for person_id, its_rows in person_rows.items()
        if (its_rows[0].name, its_rows[0].email) != (people[person_id].full_name, people[person_id].email)
    }
    changeable = people_changeable_by(actor, differing)
    for person_id, its_rows in person_rows.items():
        person = people[person_id]
        first = its_rows[0]
        words = []
        if first.name != person.full_name:
            words.append(f"name from “{person.full_name}” to “{first.name}”")
        if first.email != person.email:
            words.append(f"email from {person.email} to {first.email}")
        if words:
            if person_id in changeable:
                plan.person_changes.append(PersonChange(person, first.line, first.name, first.email, "", words))
            else:
                plan.rejected.append(
                    Rejected(
                        first.line,
                        f"The {' and '.join(w.split()[0] for w in words)} differs from the one on "
                        f"record, which you cannot change (they have roles outside your reach).",
                    )
                )
                continue
        external_id = next((r.external_id for r in its_rows if r.external_id), "")
        if external_id and known_ids.get(person_id) != external_id:
            plan.identities.append((person, external_id))
        held = roles_by_person.get(person_id, [])
        for row in its_rows:
            match = _matching_role(held, row)
            if match is None:
                plan.additions.append(Addition(row, person))
                continue
            change = _role_change(match, row)
            if change is None:
                plan.unchanged += 1
            else:
                plan.role_changes.append(change)
    if whole_roster:
        _plan_leavers(plan, rows, by_email, by_external, actor)
    plan.rejected.sort(key=lambda r: r.line)
    return plan


def _without_conflicts(rows: list[RosterRow], rejected: list[Rejected]) -> list[RosterRow]:
    """Rows that repeat one before them, or give one email two names or two external ids, are refused."""
    seen: dict[tuple, int] = {}
    first_by_email: dict[str, RosterRow] = {}
    first_by_external: dict[str, RosterRow] = {}
    kept = []
    for row in rows:
        key = (row.email, row.organisation.pk, row.kind)
        if key in seen:
            rejected.append(
                Rejected(row.line, f"Duplicate email: {row.email} already has this role on line {seen[key]}.")
            )
            continue
        earlier = first_by_email.get(row.email)
        if earlier and earlier.name.casefold() != row.name.casefold():
            rejected.append(
                Rejected(row.line, f"Duplicate email: {row.email} is {earlier.name} on line {earlier.line}.")
            )
            continue
        if earlier and row.external_id and earlier.external_id and earlier.external_id != row.external_id:
            rejected.append(Rejected(row.line, f"{row.email} has another external id on line {earlier.line}."))
            continue
        other = first_by_external.get(row.external_id) if row.external_id else None
        if other and other.email != row.email:
            rejected.append(Rejected(row.line, f"The external id is {other.email}'s on line {other.line}."))
            continue
        seen[key] = row.line
        first_by_email.setdefault(row.email, row)
        if row.external_id:
            first_by_external.setdefault(row.external_id, row)
        kept.append(row)
    return kept


def _matching_role(held: list[Role], row: RosterRow) -> Role | None:
    """The recorded role a row stands for: same organisation and kind, the same start, else the one not ended."""
    same = [r for r in held if r.organisation_id == row.organisation.pk and r.kind == row.kind]
    exact = next((r for r in same if r.starts_on == row.starts_on), None)
    if exact is not None:
        return exact
    return next((r for r in sorted(same, key=lambda r: r.starts_on, reverse=True) if r.ends_on is None), None)


def _role_change(role: Role, row: RosterRow) -> RoleChange | None:
    words: list[str] = []
    change = RoleChange(role=role, row=row, words=words)
    if row.starts_on != role.starts_on:
        words.append(f"start date from {role.starts_on:%d/%m/%Y} to {row.starts_on:%d/%m/%Y}")
        change.starts_on = row.starts_on
    if row.title and row.title != role.title:
        words.append(f"title from “{role.title}” to “{row.title}”" if role.title else f"title “{row.title}”")
        change.title = row.title
    if row.ends_on is not None and role.ends_on != row.ends_on and (role.ends_on is None or role.ends_on > row.ends_on):
        words.append(f"ends on {row.ends_on:%d/%m/%Y}")
        change.ends_on = row.ends_on
    return change if words else None


def _plan_leavers(
    plan: RosterPlan,
    rows: list[RosterRow],
    by_email: dict[str, Person],
    by_external: dict[str, Person],
    actor: Person,
) -> None:
    """People holding a role at or below the organisation after the leaving day, whom the file does not list."""
    listed_roles = set()
    listed_people = set()
    for row in rows:
        person = by_external.get(row.external_id) if row.external_id else None
        person = person or by_email.get(row.email)
        if person is not None:
            listed_people.add(person.pk)
            listed_roles.add((person.pk, row.organisation.pk, row.kind))
    absent_roles: dict[int, list[Role]] = defaultdict(list)
    keeps_a_role: set[int] = set()
    held = (
        Role.objects.filter(organisation__path__startswith=plan.organisation.path, starts_on__lte=plan.leavers_on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=plan.leavers_on))
        .select_related("person", "organisation")
        .only(*ROLE_FIELDS, *(f"person__{f}" for f in PERSON_FIELDS), "organisation__name", "organisation__path")
        .order_by("person__full_name", "person_id", "organisation__path", "kind")
    )
    for role in held:
        if (role.person_id, role.organisation_id, role.kind) in listed_roles:
            continue
        officer = role.kind in OFFICER_ROLE_KINDS or role.person_id == actor.pk
        if officer or not can_change_role(actor, role):
            keeps_a_role.add(role.person_id)
            plan.kept.append(
                f"{role.person.full_name}: {role_label(role.kind).lower()} at {role.organisation.name}"
                + (" (officer roles are changed by hand)" if officer else " (you cannot end this role)")
            )
            continue
        absent_roles[role.person_id].append(role)
    for person_id, roles in absent_roles.items():
        whole = person_id not in listed_people and person_id not in keeps_a_role
        plan.leavers.append(Leaver(person=roles[0].person, roles=roles, whole=whole))


# ---------------------------------------------------------------------------
# Upload, preview, apply
# ---------------------------------------------------------------------------


@transaction.atomic
def roster_upload_create(
    *, actor: Person, organisation: Organisation, data: bytes, file_name: str, whole_roster: bool, leavers_on: date
) -> RosterUpload:
    """Keep the file for its preview (checked readable first: RosterFileError otherwise)."""
    if not can_manage_provisioning(actor, organisation):
        raise PermissionDenied(f"Only an admin of {organisation.name} can sync its roster.")
    _check_file(data)
    _read(decode(data))  # unreadable columns or rows are refused now, not first found when it is applied
    if not date_in_range(leavers_on):
        raise ValidationError({"leavers_on": date_range_message()})
    return RosterUpload.objects.create(
        organisation=organisation,
        uploaded_by=actor,
        file_name=file_name[:255],
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        whole_roster=whole_roster,
        leavers_on=leavers_on,
    )


def roster_preview(*, actor: Person, upload: RosterUpload) -> RosterPlan:
    return roster_plan(
        actor=actor,
        organisation=upload.organisation,
        data=bytes(upload.data),
        whole_roster=upload.whole_roster,
        leavers_on=upload.leavers_on,
    )


def _record_external_ids(organisation: Organisation, recorded: list[tuple[Person, str]]) -> None:
    """Record the MIS's ids of these people for the organisation, in a few statements for any number."""
    if not recorded:
        return
    now = timezone.now()
    known = {
        identity.person_id: identity
        for identity in ExternalIdentity.objects.filter(
            organisation=organisation, person_id__in=[person.pk for person, _ in recorded]
        )
    }
    changed, new = [], []
    for person, external_id in recorded:
        identity = known.get(person.pk)
        if identity is None:
            new.append(ExternalIdentity(organisation=organisation, person=person, external_id=external_id))
        elif identity.external_id != external_id:
            identity.external_id, identity.updated_at = external_id, now
            changed.append(identity)
    ExternalIdentity.objects.bulk_update(changed, ["external_id", "updated_at"], batch_size=1000)
    ExternalIdentity.objects.bulk_create(new, batch_size=1000)


class AlreadyApplied(Exception):
    pass


@transaction.atomic
def roster_apply_request(*, actor: Person, upload: RosterUpload) -> bool:
    """Ask for the upload to be applied by the worker (a large roster takes longer than a page may). Once only:
    a second click, or a second tab, queues nothing more. False if it was already asked for or applied."""
    if not can_manage_provisioning(actor, upload.organisation):
        raise PermissionDenied(f"Only an admin of {upload.organisation.name} can sync its roster.")
    claimed = RosterUpload.objects.filter(
        pk=upload.pk, applied_at__isnull=True, apply_requested_at__isnull=True
    ).update(apply_requested_at=timezone.now(), apply_requested_by=actor, apply_error="")
    if claimed:
        from provisioning.tasks import apply_roster_upload  # here: the tasks module imports this one

        enqueue_on_commit(apply_roster_upload, upload.pk, actor.pk)
    return bool(claimed)


def roster_uploads_waiting(*, requested_before: datetime) -> QuerySet[RosterUpload]:
    """Uploads asked to be applied before then and neither applied nor failed: their message may have been lost."""
    return RosterUpload.objects.filter(
        apply_requested_at__lt=requested_before, applied_at__isnull=True, apply_requested_by__isnull=False
    ).order_by("apply_requested_at", "pk")


def roster_apply_run(*, upload_id: int, actor_id: int) -> None:
    """The worker's part: apply the upload, or record why it could not be (nothing of it saved) so the page says."""
    upload = RosterUpload.objects.select_related("organisation").get(pk=upload_id)
    if upload.applied_at is not None:
        return
    actor = Person.objects.get(pk=actor_id)
    try:
        roster_apply(actor=actor, upload=upload)
    except AlreadyApplied:
        return
    except (ValidationError, PermissionDenied, RosterFileError) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        RosterUpload.objects.filter(pk=upload_id, applied_at__isnull=True).update(
            apply_error=message[:2000], apply_requested_at=None
        )


@transaction.atomic
def roster_apply(*, actor: Person, upload: RosterUpload) -> RosterPlan:
    """Apply the upload once, all or nothing (a ValidationError or PermissionDenied undoes every change)."""
    claimed = RosterUpload.objects.filter(pk=upload.pk, applied_at__isnull=True).update(applied_at=timezone.now())
    if not claimed:
        raise AlreadyApplied("This file has already been applied.")
    plan = roster_preview(actor=actor, upload=upload)
    organisation = upload.organisation
    people_details_update_batch(
        actor=actor,
        changes=[DetailsChange(change.person, change.full_name, change.email) for change in plan.person_changes],
        via=VIA,
    )
    _apply_additions(actor, organisation, plan)
    _apply_role_changes(actor, plan.role_changes)
    _apply_leavers(actor, upload, plan)
    summary = {
        "rows": plan.rows,
        "additions": len(plan.additions),
        "people_changed": len(plan.person_changes),
        "roles_changed": len(plan.role_changes),
        "leavers": sum(1 for leaver in plan.leavers if leaver.whole),
        "roles_ended_as_absent": sum(len(leaver.roles) for leaver in plan.leavers if not leaver.whole),
        "external_ids_recorded": len(plan.identities),
        "rejected_rows": len(plan.rejected),
        "unchanged": plan.unchanged,
    }
    RosterUpload.objects.filter(pk=upload.pk).update(summary=summary)
    audit_log_record(
        actor=actor,
        action=AuditAction.ROSTER_SYNCED,
        organisation=organisation,
        target=upload,
        summary=f"Roster of {organisation.name} synchronised from {upload.file_name or 'a file'}: "
        f"{summary['additions']} added, {summary['people_changed'] + summary['roles_changed']} changed, "
        f"{summary['leavers']} leaver(s), {summary['rejected_rows']} row(s) rejected.",
        details={
            "before": None,
            "after": summary,
            "via": VIA,
            "file_sha256": upload.sha256,
            "whole_roster": upload.whole_roster,
            "leavers_on": upload.leavers_on,
        },
    )
    upload.refresh_from_db()
    return plan


def _apply_additions(actor: Person, organisation: Organisation, plan: RosterPlan) -> None:
    """New people and new roles, invited together; a row's end date ends its role; external ids recorded."""
    rows = [addition.row for addition in plan.additions]
    results = invitations_create_batch(
        invited_by=actor,
        invitees=[Invitee(r.name, r.email, r.organisation, r.kind, r.starts_on, r.title) for r in rows],
        via=VIA,
    )
    roles_end_batch(
        actor=actor,
        endings=[
            RoleEnding(result.role, row.ends_on, ROW_END_REASON)
            for row, result in zip(rows, results, strict=True)
            if row.ends_on is not None
        ],
        via=VIA,
    )
    recorded: list[tuple[Person, str]] = list(plan.identities)
    seen: set[str] = set()
    for addition, result in zip(plan.additions, results, strict=True):
        row = addition.row
        if addition.person is None and row.external_id and row.email not in seen:
            recorded.append((result.person, row.external_id))
        seen.add(row.email)
    _record_external_ids(organisation, recorded)


def _apply_role_changes(actor: Person, role_changes: list[RoleChange]) -> None:
    """New start dates and titles first, then the end dates the file gives."""
    detailed = [change for change in role_changes if change.starts_on is not None or change.title is not None]
    saved = roles_update_batch(
        actor=actor,
        changes=[
            GovernanceChange(
                role=change.role,
                category=change.role.category,
                appointed_by=change.role.appointed_by,
                starts_on=change.starts_on or change.role.starts_on,
                term_ends_on=change.role.term_ends_on,
                title=change.title if change.title is not None else change.role.title,
            )
            for change in detailed
        ],
        via=VIA,
    )
    current = {role.pk: role for role in saved}
    roles_end_batch(
        actor=actor,
        endings=[
            RoleEnding(current.get(change.role.pk, change.role), change.ends_on, ROW_END_REASON)
            for change in role_changes
            if change.ends_on is not None
        ],
        via=VIA,
    )


def _apply_leavers(actor: Person, upload: RosterUpload, plan: RosterPlan) -> None:
    """Leavers' roles end on the leaving day; a role absent from the file ends then too (not before it began)."""
    organisation = upload.organisation
    reason = f"Not on the roster of {organisation.name} uploaded {upload.uploaded_at:%d/%m/%Y}"
    people_record_leaver_batch(
        actor=actor,
        people=[leaver.person for leaver in plan.leavers if leaver.whole],
        ends_on=plan.leavers_on,
        reason=reason,
        within=organisation,
        via=VIA,
    )
    roles_end_batch(
        actor=actor,
        endings=[
            RoleEnding(role, max(plan.leavers_on, role.starts_on), reason)
            for leaver in plan.leavers
            if not leaver.whole
            for role in leaver.roles
        ],
        via=VIA,
    )
