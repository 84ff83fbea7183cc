"""Inviting people: one at a time, or many from a spreadsheet saved as CSV.

Sign-up is closed; accounts exist because an admin or clerk invited someone.
An invitation creates the person (no password yet) and their role, which opens
whatever they owe, and emails a link to allauth's set-password page. Following
the link proves the address, so it is marked verified (see ``signals``).

A CSV import reports each bad row by line number and reason and imports the
good ones, each in its own savepoint, so a row is never half-imported. Rows
already imported are recognised (same person, organisation, role and start
date) and left alone, so uploading the same file twice creates nothing new.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from acknowledgements.events import event_invited, events_invited_batch
from acknowledgements.evidence import hold_person_evidence
from acknowledgements.models import Invitation, OutgoingEmail
from acknowledgements.outgoing import invitation_email_record, invitation_emails_record_batch, outgoing_deliver
from conduct.accounts import invitation_days, set_password_url
from conduct.audit import AuditEntry, audit_entries_record_batch, audit_log_record
from conduct.models import AuditAction, Organisation, Person, Role, RoleKind, role_kind_from_text, role_label
from conduct.people import MAX_EMAIL, MAX_FULL_NAME, MAX_TITLE, RoleGrant, roles_add_batch
from conduct.permissions import can_manage_people, may_grant_role, organisations_managed_by
from core.dates import date_from_text, date_in_range
from core.site import absolute_url
from core.tasks import enqueue_on_commit
from core.text_files import decode_upload

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# One invitation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationResult:
    person: Person
    role: Role
    invitation: Invitation | None
    person_created: bool
    role_created: bool

    @property
    def outcome(self) -> str:
        if self.person_created:
            return "invited"
        return "role added" if self.role_created else "already present"


def invitation_check_permission(*, invited_by: Person, organisation: Organisation, kind: str) -> None:
    if not can_manage_people(invited_by, organisation):
        raise PermissionDenied(f"You cannot add people to {organisation.name}.")
    if not may_grant_role(invited_by, kind, organisation):
        raise PermissionDenied(f"Only an admin of {organisation.name} can make someone an admin, chair or clerk.")


@dataclass(frozen=True)
class Invitee:
    """Someone to invite to a role (``invitation_create``'s arguments)."""

    full_name: str
    email: str
    organisation: Organisation
    kind: str
    starts_on: date
    title: str = ""


def _invitees_checked(invitees: Sequence[Invitee]) -> list[Invitee]:
    """The invitees cleaned, or a ValidationError for the first with a problem (naming whom, in a batch)."""
    cleaned = []
    for invitee in invitees:
        checked, errors = _invitee_cleaned(invitee)
        if errors:
            if len(invitees) > 1:
                errors = {f: [f"{checked.email or checked.full_name}: {m}" for m in ms] for f, ms in errors.items()}
            raise ValidationError(errors)
        cleaned.append(checked)
    return cleaned


def _invitee_cleaned(invitee: Invitee) -> tuple[Invitee, dict[str, list[str]]]:
    """The invitee with name and email cleaned, and what is wrong with them (by argument name)."""
    email = (invitee.email or "").strip().lower()
    full_name = " ".join((invitee.full_name or "").split())
    errors: dict[str, list[str]] = {}
    if not full_name:
        errors["full_name"] = ["Give the person's full name, as it should appear on signed records."]
    elif len(full_name) > MAX_FULL_NAME:
        errors["full_name"] = [f"The name can be at most {MAX_FULL_NAME} characters (it has {len(full_name)})."]
    if len(email) > MAX_EMAIL:
        errors["email"] = [f"The email address can be at most {MAX_EMAIL} characters (it has {len(email)})."]
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [f"“{email}” is not a valid email address."]
    if invitee.kind not in RoleKind.values:
        errors["kind"] = ["Choose a role."]
    cleaned = Invitee(full_name, email, invitee.organisation, invitee.kind, invitee.starts_on, invitee.title.strip())
    return cleaned, errors


def _people_for(invitees: list[Invitee]) -> tuple[dict[str, Person], set[str]]:
    """Each invitee's account by email (created, without a password, if new) and the emails created."""
    from allauth.account.models import EmailAddress

    emails = {invitee.email for invitee in invitees}
    people: dict[str, Person] = {
        person.email.lower(): person
        for person in Person.objects.annotate(lowered=Lower("email")).filter(lowered__in=emails)
    }
    created = []
    for invitee in invitees:
        if invitee.email not in people:
            person = Person(email=invitee.email, full_name=invitee.full_name, is_staff=False, is_superuser=False)
            person.set_unusable_password()
            people[invitee.email] = person
            created.append(person)
    Person.objects.bulk_create(created, batch_size=1000)
    # allauth must know each address; it is verified when the person follows the invitation link.
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=person, email=person.email, primary=True, verified=False) for person in created],
        batch_size=1000,
    )
    return people, {person.email for person in created}


@transaction.atomic
def invitation_create(
    *,
    invited_by: Person,
    full_name: str,
    email: str,
    organisation: Organisation,
    kind: str,
    starts_on: date,
    title: str = "",
    via: str = "web",
) -> InvitationResult:
    """Give the person (created if new) the role (``conduct.people.role_add``), and email them an invitation.

    Someone who already has this role from this date is left alone (no second
    email): re-importing a file changes nothing. The role and the invitation are
    each in the officers' audit log; ``via`` says how it arrived ("web", "csv").
    """
    invitee = Invitee(full_name, email, organisation, kind, starts_on, title)
    return invitations_create_batch(invited_by=invited_by, invitees=[invitee], via=via)[0]


@transaction.atomic
def invitations_create_batch(
    *, invited_by: Person, invitees: Sequence[Invitee], via: str = "web"
) -> list[InvitationResult]:
    """``invitation_create`` for many people at once, all or none, in a constant number of queries.

    Every invitee is checked first; then the new accounts are inserted together, the roles given
    through ``conduct.people.roles_add_batch`` (what they owe opened in one pass), and the
    invitations, their evidence events, audit entries and email rows inserted together; each email is
    queued once the transaction commits. An invitee who already has the role from that date (or is
    listed twice) is left alone. Returns one result an invitee, in order.
    """
    cleaned = _invitees_checked(invitees)
    for organisation, kind in {(i.organisation, i.kind) for i in cleaned}:
        invitation_check_permission(invited_by=invited_by, organisation=organisation, kind=kind)
    if not cleaned:
        return []
    people, created = _people_for(cleaned)
    # The INVITED events below may be covered by a signature being made now (``hold_person_evidence``).
    # Every row held (a list, not exists(), whose LIMIT 1 would hold one).
    list(
        Person.objects.select_for_update(no_key=True)
        .filter(pk__in=[p.pk for p in people.values()])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    present = _roles_present(cleaned, people)
    grants = []
    for invitee in cleaned:
        key = (people[invitee.email].pk, invitee.organisation.pk, invitee.kind, invitee.starts_on)
        if key not in present:
            present[key] = None  # a second row for the same role is left alone, as a second call would be
            grants.append(_grant(people[invitee.email], invitee))
    roles = roles_add_batch(actor=invited_by, grants=grants, via=via)
    invitations = Invitation.objects.bulk_create(
        [Invitation(person=role.person, role=role, invited_by=invited_by) for role in roles]
    )
    events_invited_batch(invitations=invitations, invited_by=invited_by)
    first_invitations = set(created)  # a new account's first invitation says so, as when invited one by one
    audit_entries_record_batch(
        [
            _invited_entry(invited_by, invitation, _first_of(invitation.person.email, first_invitations), via)
            for invitation in invitations
        ]
    )
    _queue_sends(invitations)
    made = {(i.person.pk, i.role.organisation_id, i.role.kind, i.role.starts_on): i for i in invitations}  # type: ignore[union-attr]
    new_accounts = set(created)
    used: set[int] = set()  # an invitee listed twice: the second listing is "already present"
    return [_result(invitee, people, present, made, new_accounts, used) for invitee in cleaned]


def _first_of(email: str, new_accounts: set[str]) -> bool:
    if email in new_accounts:
        new_accounts.discard(email)
        return True
    return False


def _roles_present(invitees: list[Invitee], people: dict[str, Person]) -> dict[tuple, Role | None]:
    """The roles the invitees already hold from the given dates: one query."""
    ids = {person.pk for person in people.values() if person.pk is not None}
    return {
        (role.person_id, role.organisation_id, role.kind, role.starts_on): role
        for role in Role.objects.filter(
            person_id__in=ids,
            organisation_id__in={invitee.organisation.pk for invitee in invitees},
            kind__in={invitee.kind for invitee in invitees},
            starts_on__in={invitee.starts_on for invitee in invitees},
        )
    }


def _grant(person: Person, invitee: Invitee) -> RoleGrant:
    return RoleGrant(person, invitee.organisation, invitee.kind, invitee.starts_on, title=invitee.title)


def _invited_entry(invited_by: Person, invitation: Invitation, new_account: bool, via: str) -> AuditEntry:
    person, role = invitation.person, invitation.role
    assert role is not None
    return AuditEntry(
        actor=invited_by,
        action=AuditAction.PERSON_INVITED,
        organisation=role.organisation,
        target=invitation,
        subject=person,
        summary=f"Invited {person.full_name} <{person.email}> as {role_label(role.kind).lower()} "
        f"at {role.organisation.name}.",
        details={
            "before": None,
            "after": {"invitation_id": invitation.pk, "role_id": role.pk, "new_account": new_account},
            "via": via,
        },
    )


def _result(
    invitee: Invitee,
    people: dict[str, Person],
    present: dict[tuple, Role | None],
    made: dict[tuple, Invitation],
    new_accounts: set[str],
    used: set[int],
) -> InvitationResult:
    person = people[invitee.email]
    key = (person.pk, invitee.organisation.pk, invitee.kind, invitee.starts_on)
    invitation = made.get(key)
    role = invitation.role if invitation is not None else present[key]
    assert role is not None  # held before, or made now for its first listing
    if invitation is not None and invitation.pk not in used:
        used.add(invitation.pk)
        return InvitationResult(person, role, invitation, _first_of(invitee.email, new_accounts), role_created=True)
    return InvitationResult(person, role, None, person_created=False, role_created=False)


@transaction.atomic
def invitation_resend(*, invitation: Invitation, invited_by: Person) -> Invitation:
    """A fresh invitation for the same person and role (the old link may have expired)."""
    if invitation.role is None or not can_manage_people(invited_by, invitation.role.organisation):
        raise PermissionDenied("You cannot invite people to this organisation.")
    hold_person_evidence(invitation.person_id)  # as in invitation_create
    fresh = Invitation.objects.create(person=invitation.person, role=invitation.role, invited_by=invited_by)
    event_invited(invitation=fresh, invited_by=invited_by, resent_from=invitation)
    audit_log_record(
        actor=invited_by,
        action=AuditAction.INVITATION_RESENT,
        organisation=invitation.role.organisation,
        target=fresh,
        subject=invitation.person,
        summary=f"Sent {invitation.person.full_name} a fresh invitation.",
        details={"before": {"invitation_id": invitation.pk}, "after": {"invitation_id": fresh.pk}, "via": "web"},
    )
    _queue_send(fresh)
    return fresh


def _queue_send(invitation: Invitation) -> None:
    """Record the invitation's email (same transaction) and queue it once the invitation commits."""
    _queue_sends([invitation])


def _queue_sends(invitations: Sequence[Invitation]) -> None:
    """Record the invitations' emails (one insert, same transaction) and queue each once they commit."""
    from acknowledgements.tasks import send_invitation  # here, not at the top: the tasks module imports this one

    invitation_emails_record_batch(invitations=invitations)
    for invitation in invitations:
        enqueue_on_commit(send_invitation, invitation.pk)


def invitation_send(*, invitation_id: int, final_attempt: bool = False) -> bool:
    """Send the invitation email once: its row (``OutgoingEmail``) is claimed first and records the outcome.

    ``Invitation.sent_at`` is set when the mail server has taken it. False if it went already, another
    worker has it, or the server refused it (recorded on the row); a transient failure is recorded on
    the row and raised for the task to retry.
    """
    invitation = Invitation.objects.select_related("person", "role__organisation", "invited_by").get(pk=invitation_id)
    if invitation.sent_at is not None:
        return False
    row = invitation_email_record(invitation=invitation)

    def build(row: OutgoingEmail) -> EmailMessage:
        person = invitation.person
        has_password = person.has_usable_password()
        context = {
            "person": person,
            "invitation": invitation,
            "role": invitation.role,
            "role_label": role_label(invitation.role.kind) if invitation.role else "",
            "organisation": invitation.role.organisation if invitation.role else None,
            "invited_by": invitation.invited_by,
            "has_password": has_password,
            "link": absolute_url(reverse("account_login")) if has_password else set_password_url(person),
            "timeout_days": invitation_days(),
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
        }
        subject = (
            settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
            + render_to_string("acknowledgements/email/invitation_subject.txt", context).strip()
        )
        message = EmailMultiAlternatives(
            subject=subject, body=render_to_string("acknowledgements/email/invitation_message.txt", context)
        )
        # The same words in the trust's branding (its name, logo and colour), for mail clients that show HTML.
        html_context = {
            **context,
            "subject": subject,
            "action_url": context["link"],
            "action_label": "Sign in" if has_password else "Set your password",
        }
        message.attach_alternative(
            render_to_string("acknowledgements/email/invitation_message.html", html_context), "text/html"
        )
        return message

    sent = outgoing_deliver(email_id=row.pk, build=build, final_attempt=final_attempt)
    if sent:
        Invitation.objects.filter(pk=invitation_id, sent_at__isnull=True).update(sent_at=timezone.now())
    return sent


def invitations_accept(*, person: Person) -> int:
    """The person has proved their address (set a password from the link, or signed in): mark them accepted."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=person, email__iexact=person.email, verified=False).update(verified=True)
    if not EmailAddress.objects.filter(user=person, email__iexact=person.email).exists():
        EmailAddress.objects.create(user=person, email=person.email, primary=True, verified=True)
    return Invitation.objects.filter(person=person, accepted_at__isnull=True).update(accepted_at=timezone.now())


# ---------------------------------------------------------------------------
# CSV import
# ---------------------------------------------------------------------------

MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_CSV_ROWS = 5000
REQUIRED_COLUMNS = ("name", "email", "role", "organisation", "start date")
OPTIONAL_COLUMNS = ("title",)


def import_template_csv() -> bytes:
    """The file the import page offers to fill in: the header row of exactly the columns the importer reads
    (required then optional), UTF-8 with a byte-order mark so Excel opens it with accents intact."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


COLUMN_ALIASES = {
    "full name": "name",
    "email address": "email",
    "e mail": "email",
    "organization": "organisation",
    "school": "organisation",
    "start": "start date",
    "starts on": "start date",
    "start date dd mm yyyy": "start date",
    "job title": "title",
}


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass(frozen=True)
class RowDone:
    line: int
    name: str
    email: str
    role: str
    organisation: str
    outcome: str  # "invited", "role added", "already present"


@dataclass
class ImportReport:
    file_error: str = ""
    errors: list[RowError] = field(default_factory=list)
    done: list[RowDone] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.done if row.outcome == outcome)

    @property
    def imported(self) -> int:
        return sum(1 for row in self.done if row.outcome != "already present")

    @property
    def invited(self) -> int:
        return self.count("invited")

    @property
    def roles_added(self) -> int:
        return self.count("role added")

    @property
    def already_present(self) -> int:
        return self.count("already present")


def _column(header: str) -> str:
    name = re.sub(r"[\s_\-/()]+", " ", header.replace("\ufeff", "")).strip().lower()
    return COLUMN_ALIASES.get(name, name)


class _Organisations:
    """Finds an organisation by slug or name (ignoring case) among those the importer manages."""

    def __init__(self, user: Person):
        self.reachable = list(organisations_managed_by(user))
        self.by_key: dict[str, list[Organisation]] = {}
        for organisation in self.reachable:
            for key in {
                organisation.slug.lower(),
                " ".join(organisation.name.split()).lower(),
                organisation.short_name.lower(),
            }:
                if key:
                    self.by_key.setdefault(key, []).append(organisation)

    def find(self, value: str) -> tuple[Organisation | None, str]:
        matches = self.by_key.get(" ".join(value.split()).lower(), [])
        if len(matches) == 1:
            return matches[0], ""
        if len(matches) > 1:
            slugs = ", ".join(match.slug for match in matches)
            return None, f"“{value}” matches more than one organisation; use its short code ({slugs})."
        return None, f"Unknown organisation “{value}” (or not one you manage)."


@dataclass(frozen=True)
class _Row:
    line: int
    name: str
    email: str
    kind: str
    organisation: Organisation
    starts_on: date
    title: str


def _read_rows(text: str, report: ImportReport) -> list[tuple[int, dict[str, str]]] | None:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        report.file_error = "The file is empty."
        return None
    columns = [_column(cell) for cell in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        found = ", ".join(cell.strip() for cell in header if cell.strip()) or "nothing"
        report.file_error = (
            f"The first row must name the columns: {', '.join(REQUIRED_COLUMNS)}. "
            f"Missing: {', '.join(missing)}. Found: {found}."
        )
        return None
    duplicates = sorted({column for column in columns if columns.count(column) > 1 and column})
    if duplicates:
        report.file_error = f"The column(s) {', '.join(duplicates)} appear more than once in the first row."
        return None
    report.ignored_columns = [
        h.strip() for h, c in zip(header, columns, strict=True) if c and c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    ]
    rows = []
    for values in reader:
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue
        if len(values) > len(columns) and any(value.strip() for value in values[len(columns) :]):
            report.errors.append(
                RowError(line, f"{len(values)} values but {len(columns)} columns; check for stray commas.")
            )
            continue
        rows.append(
            (line, {column: (values[i].strip() if i < len(values) else "") for i, column in enumerate(columns)})
        )
        if len(rows) > MAX_CSV_ROWS:
            report.file_error = f"The file has more than {MAX_CSV_ROWS} rows; split it into smaller files."
            return None
    return rows


def _validate_row(line: int, values: dict[str, str], user: Person, organisations: _Organisations) -> _Row | RowError:
    problems = []
    name = " ".join(values["name"].split())
    email = values["email"].strip().lower()
    title = values.get("title", "").strip()
    if not name:
        problems.append("the name is missing")
    elif len(name) > MAX_FULL_NAME:
        problems.append(f"the name is longer than {MAX_FULL_NAME} characters")
    if len(email) > MAX_EMAIL:
        problems.append(f"the email address is longer than {MAX_EMAIL} characters")
    else:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"“{values['email']}” is not a valid email address" if email else "the email is missing")
    if len(title) > MAX_TITLE:
        problems.append(f"the title is longer than {MAX_TITLE} characters")
    kind = role_kind_from_text(values["role"])
    if kind is None:
        problems.append(f"unknown role “{values['role']}”" if values["role"] else "the role is missing")
    organisation, organisation_problem = (
        organisations.find(values["organisation"]) if values["organisation"] else (None, "the organisation is missing")
    )
    if organisation_problem:
        problems.append(organisation_problem[0].lower() + organisation_problem[1:].rstrip("."))
    starts_on = date_from_text(values["start date"])
    if starts_on is None:
        problems.append(
            f"“{values['start date']}” is not a date (use YYYY-MM-DD or DD/MM/YYYY)"
            if values["start date"]
            else "the start date is missing"
        )
    elif not date_in_range(starts_on):
        problems.append(f"the start date {starts_on:%d/%m/%Y} is not between 1900 and 2100")
        starts_on = None
    # The organisation is one the importer manages, so only an officer role can be refused here.
    if organisation and kind and not may_grant_role(user, kind, organisation):
        problems.append(f"only an admin of {organisation.name} can make someone an admin, chair or clerk")
    if problems or kind is None or organisation is None or starts_on is None:  # each missing value is a problem
        message = "; ".join(problems)
        return RowError(line, message[0].upper() + message[1:] + ".")
    return _Row(line, name, email, kind, organisation, starts_on, title)


def _common_ancestor(organisations: list[Organisation]) -> Organisation | None:
    """The lowest organisation above or at all of them (where an import touching several is filed)."""
    paths = [organisation.path for organisation in organisations]
    if not paths:
        return None
    prefix = os.path.commonprefix(paths)
    prefix = prefix[: prefix.rfind("/") + 1]
    return Organisation.objects.filter(path=prefix).first() if len(prefix) > 1 else None


class _ImportRefused(Exception):
    """A row the services refused: the whole import is rolled back."""


def people_import_csv(*, data: bytes, invited_by: Person) -> ImportReport:
    """Import people from CSV bytes: all of them, or (any row having a problem) none, with every problem listed.

    Every row is checked first (values, lengths against the columns, dates, duplicates); then the rows are
    imported in one transaction, so a row the services refuse rolls back the ones before it too.
    """
    report = ImportReport()
    if not data.strip():
        report.file_error = "The file is empty."
        return report
    if len(data) > MAX_CSV_BYTES:
        report.file_error = f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB; split it into smaller files."
        return report
    try:
        text = decode_upload(data)
    except ValidationError as exc:
        report.file_error = " ".join(exc.messages)
        return report
    rows = _read_rows(text, report)
    if rows is None:
        return report
    organisations = _Organisations(invited_by)
    seen: dict[tuple, int] = {}
    names: dict[str, tuple[str, int]] = {}
    valid: list[_Row] = []
    for line, values in rows:
        checked = _validate_row(line, values, invited_by, organisations)
        if isinstance(checked, RowError):
            report.errors.append(checked)
            continue
        key = (checked.email, checked.organisation.pk, checked.kind, checked.starts_on)
        if key in seen:
            report.errors.append(RowError(line, f"Duplicate of line {seen[key]}."))
            continue
        earlier = names.get(checked.email)
        if earlier and earlier[0].casefold() != checked.name.casefold():
            report.errors.append(
                RowError(line, f"Same email as line {earlier[1]} but a different name ({earlier[0]}).")
            )
            continue
        seen[key] = line
        names.setdefault(checked.email, (checked.name, line))
        valid.append(checked)
    report.errors.sort(key=lambda error: error.line)
    if report.errors:
        return report  # nothing imported: the page lists every problem to correct before uploading again
    imported_in: list[Organisation] = []
    try:
        with transaction.atomic():
            for row in valid:
                try:
                    with transaction.atomic():
                        result = invitation_create(
                            invited_by=invited_by,
                            full_name=row.name,
                            email=row.email,
                            organisation=row.organisation,
                            kind=row.kind,
                            starts_on=row.starts_on,
                            title=row.title,
                            via="csv",
                        )
                except (ValidationError, PermissionDenied) as exc:
                    messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                    report.errors.append(RowError(row.line, " ".join(messages)))
                    continue
                if result.role_created:
                    imported_in.append(row.organisation)
                report.done.append(
                    RowDone(
                        row.line,
                        row.name,  # as the file gives it: an existing account (perhaps another trust's) is not named
                        row.email,
                        role_label(row.kind),
                        row.organisation.name,
                        result.outcome,
                    )
                )
            if report.errors:
                raise _ImportRefused
    except _ImportRefused:
        report.done = []
        return report
    if report.imported:
        audit_log_record(
            actor=invited_by,
            action=AuditAction.PEOPLE_IMPORTED,
            organisation=_common_ancestor(imported_in),
            summary=f"Imported {report.imported} row(s) from a file ({report.invited} invited, "
            f"{report.roles_added} role(s) added, {len(report.errors)} rejected).",
            details={
                "after": {
                    "rows": [{"line": row.line, "email": row.email, "outcome": row.outcome} for row in report.done],
                    "rejected": [{"line": error.line, "message": error.message} for error in report.errors],
                },
                "via": "csv",
            },
        )
    return report
