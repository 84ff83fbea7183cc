"""People through the year: correct their details; joiners, movers and leavers; accounts on and off.

Each service takes the acting officer as ``actor`` and asks ``conduct.permissions`` whether they may
(``PermissionDenied`` if not). ``actor`` is None only where the caller has settled who may act
another way: the operator at the command line, or a provisioning token scoped to an organisation
(the ``provisioning`` app checks the scope before it calls). ``via`` says how the change arrived
("web", "csv", "scim", "command") and is kept in the audit entry's details.

Bad input is refused with a ``ValidationError`` keyed by argument name, listing every problem,
before anything is written. Each change and its audit entry (``subject`` = the person) are saved in
one transaction, or neither is. Evidence is never touched: a signed record keeps the name typed
and the name on record when it was signed, whatever the person is called later.

A role's end date is the last day it is held (``Role.objects.current`` counts it). Ending a role
sends ``conduct.signals.roles_ended``; acknowledgements closes what the person owed through it
from the day after (no reminders, not counted as owed), unless another role they still hold
owes the same code.

The services that change people and roles have a batch form for the roster sync
(``people_details_update_batch``, ``roles_add_batch``, ``roles_update_batch``, ``roles_end_batch``,
``people_record_leaver_batch``): every item checked first with the same helpers, then bulk statements,
the same rows and audit entries, in a number of queries that does not grow with the items. The
one-at-a-time service is its batch of one, so each rule has one implementation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from conduct.audit import AuditEntry, audit_entries_record_batch, audit_log_record
from conduct.models import (
    AuditAction,
    GovernorCategory,
    Organisation,
    Person,
    Role,
    RoleKind,
    role_label,
)
from conduct.permissions import (
    ERASED_EMAIL_DOMAIN,
    can_change_role,
    can_deactivate_person,
    can_manage_people,
    may_grant_role,
    people_changeable_by,
)
from conduct.services import role_create
from conduct.signals import roles_ended, roles_started
from core.dates import date_in_range, date_range_message

VIA = ("web", "csv", "scim", "command")


def _max_length(model: type[models.Model], field: str) -> int:
    column = model._meta.get_field(field)
    assert isinstance(column, models.CharField) and column.max_length is not None
    return column.max_length


MAX_FULL_NAME = _max_length(Person, "full_name")
MAX_EMAIL = _max_length(Person, "email")
MAX_TITLE = _max_length(Role, "title")
MAX_APPOINTED_BY = _max_length(Role, "appointed_by")
MAX_END_REASON = _max_length(Role, "end_reason")


class Errors(dict[str, list[str]]):
    """Messages by argument name, raised together so a form shows each beside its field."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def _check_via(via: str) -> None:
    if via not in VIA:
        raise ValueError(f"Unknown channel {via!r}; one of {', '.join(VIA)}.")


def _check_date(errors: Errors, field: str, day: date | None, *, required: bool = True) -> None:
    if day is None:
        if required:
            errors.add(field, "Give a date.")
        return
    if not date_in_range(day):
        errors.add(field, date_range_message())


def _check_length(errors: Errors, field: str, value: str, limit: int, what: str) -> None:
    if len(value) > limit:
        errors.add(field, f"The {what} can be at most {limit} characters (it has {len(value)}).")


def _clean_text(value: str | None) -> str:
    return " ".join((value or "").split())


def _role_facts(role: Role) -> dict[str, Any]:
    """What an audit entry keeps of a role, before or after a change."""
    return {
        "role_id": role.pk,
        "organisation_id": role.organisation_id,
        "kind": role.kind,
        "title": role.title,
        "starts_on": role.starts_on,
        "ends_on": role.ends_on,
        "end_reason": role.end_reason,
        "category": role.category,
        "appointed_by": role.appointed_by,
        "term_ends_on": role.term_ends_on,
    }


def _person_facts(person: Person) -> dict[str, Any]:
    return {"full_name": person.full_name, "email": person.email, "is_active": person.is_active}


def _locked_person(person: Person) -> Person:
    return Person.objects.select_for_update().get(pk=person.pk)


def _lock_people(person_ids: Iterable[int]) -> None:
    """Hold these people's rows until the transaction ends: every row (not ``exists()``, whose LIMIT 1 locks one)."""
    # In primary-key order, so two batches over the same people queue behind each other instead of deadlocking.
    people = Person.objects.select_for_update().filter(pk__in=set(person_ids)).order_by("pk")
    list(people.values_list("pk", flat=True))


def _locked_role(role: Role) -> Role:
    return Role.objects.select_for_update(of=("self",)).select_related("organisation", "person").get(pk=role.pk)


def _home_organisation(person: Person, actor: Person | None) -> Organisation | None:
    """Where an entry about the person (not one role) is filed: their first role the actor reaches, else their first."""
    return _home_organisations([person.pk], actor).get(person.pk)


def _home_organisations(person_ids: Iterable[int], actor: Person | None) -> dict[int, Organisation]:
    """``_home_organisation`` of each person, in one query for any number."""
    roles_by_person: dict[int, list[Role]] = defaultdict(list)
    for role in (
        Role.objects.filter(person_id__in=list(person_ids)).select_related("organisation").order_by("-starts_on", "pk")
    ):
        roles_by_person[role.person_id].append(role)
    homes = {}
    for person_id, roles in roles_by_person.items():
        reached = next((r for r in roles if actor is not None and can_manage_people(actor, r.organisation)), None)
        homes[person_id] = (reached or roles[0]).organisation
    return homes


def _many_errors(errors: Errors, who: Person | None, many: bool) -> Errors:
    """In a batch, each message says whom it is about; alone, the form shows it beside its field."""
    if not many or who is None:
        return errors
    named = Errors()
    for field, messages in errors.items():
        for message in messages:
            named.add(field, f"{who.full_name} <{who.email}>: {message}")
    return named


def _day(day: date) -> str:
    return f"{day:%-d %B %Y}"


# ---------------------------------------------------------------------------
# A person's details and account
# ---------------------------------------------------------------------------


def _details_cleaned(full_name: str, email: str) -> tuple[str, str, Errors]:
    """The cleaned name and email and what is wrong with their form (not yet whether the address is taken)."""
    full_name = _clean_text(full_name)
    email = (email or "").strip().lower()
    errors = Errors()
    if not full_name:
        errors.add("full_name", "Give the person's full name, as it should appear on signed records.")
    _check_length(errors, "full_name", full_name, MAX_FULL_NAME, "name")
    if not email:
        errors.add("email", "Give an email address.")
    elif len(email) > MAX_EMAIL:
        _check_length(errors, "email", email, MAX_EMAIL, "email address")
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors.add("email", f"“{email}” is not a valid email address.")
        else:
            if email.endswith(f"@{ERASED_EMAIL_DOMAIN}"):  # what erasure writes; never a real address
                errors.add("email", f"“{email}” is not a valid email address.")
    return full_name, email, errors


def _email_holders(emails: Iterable[str]) -> dict[str, set[int]]:
    """Who holds each address (ignoring case), as their account's email or one allauth knows: two queries."""
    wanted = {email.lower() for email in emails}
    holders: dict[str, set[int]] = defaultdict(set)
    if not wanted:
        return holders
    for email, pk in (
        Person.objects.annotate(lowered=Lower("email")).filter(lowered__in=wanted).values_list("lowered", "pk")
    ):
        holders[email].add(pk)
    for email, user_id in (
        EmailAddress.objects.annotate(lowered=Lower("email"))
        .filter(lowered__in=wanted)
        .values_list("lowered", "user_id")
    ):
        holders[email].add(user_id)
    return holders


def _check_email_free(errors: Errors, email: str, person: Person | None, holders: dict[str, set[int]]) -> None:
    if "email" not in errors and holders.get(email, set()) - ({person.pk} if person is not None else set()):
        errors.add("email", f"Someone else already has the email address {email}.")


def person_details_check(*, full_name: str, email: str, person: Person | None = None) -> tuple[str, str]:
    """The cleaned name and email, or a ValidationError naming each problem (no write; the sync's preview uses it)."""
    full_name, email, errors = _details_cleaned(full_name, email)
    if "email" not in errors:
        _check_email_free(errors, email, person, _email_holders([email]))
    errors.raise_any()
    return full_name, email


@dataclass(frozen=True)
class DetailsChange:
    """A correction of one person's name or email (``person_details_update``'s arguments)."""

    person: Person
    full_name: str
    email: str


@transaction.atomic
def person_details_update(
    *, actor: Person | None, person: Person, full_name: str, email: str, via: str = "web"
) -> Person:
    """Correct a person's name or email address.

    A changed address must be verified again: allauth's record of it is replaced by an unverified
    one, so the next sign-in sends a confirmation to the new address (mandatory verification), and
    password-reset links sent to the old one stop working (their token covers the address).
    Signed records keep the name as it was signed.
    """
    return people_details_update_batch(actor=actor, changes=[DetailsChange(person, full_name, email)], via=via)[0]


@transaction.atomic
def people_details_update_batch(
    *, actor: Person | None, changes: Sequence[DetailsChange], via: str = "web"
) -> list[Person]:
    """``person_details_update`` for many people at once, all or none, in a constant number of queries.

    Every change is checked (permission, name, email free) before anything is written; the people
    are returned as saved, in the order given. One person may appear once.
    """
    _check_via(via)
    if not changes:
        return []
    ids = [change.person.pk for change in changes]
    if actor is not None and set(ids) - people_changeable_by(actor, set(ids)):
        raise PermissionDenied("You cannot change this person's details.")
    locked = Person.objects.select_for_update().in_bulk(ids)
    cleaned = [(locked[change.person.pk], *_details_cleaned(change.full_name, change.email)) for change in changes]
    holders = _email_holders(email for _, _, email, errors in cleaned if "email" not in errors)
    many = len(changes) > 1
    changed: list[tuple[Person, dict[str, Any]]] = []
    for person, full_name, email, errors in cleaned:
        _check_email_free(errors, email, person, holders)
        _many_errors(errors, person, many).raise_any()
        if full_name != person.full_name or email != person.email:
            changed.append((person, _person_facts(person)))
            person.full_name, person.email = full_name, email
    if changed:
        _details_save([person for person, _ in changed], [before for _, before in changed])
        homes = _home_organisations([person.pk for person, _ in changed], actor)
        audit_entries_record_batch(
            [_details_entry(actor, person, before, homes.get(person.pk), via) for person, before in changed]
        )
    return [locked[pk] for pk in ids]


def _details_save(people: list[Person], before: list[dict[str, Any]]) -> None:
    """Save corrected names and emails; a changed address's allauth record is replaced by an unverified one."""
    try:
        with transaction.atomic():
            Person.objects.bulk_update(people, ["full_name", "email"], batch_size=1000)
    except IntegrityError:  # another request took an address between the check and the save
        raise ValidationError({"email": ["Someone else already has one of these email addresses."]}) from None
    moved = {
        person.pk: person.email for person, facts in zip(people, before, strict=True) if facts["email"] != person.email
    }
    if not moved:
        return
    addresses = list(EmailAddress.objects.filter(user_id__in=list(moved)))
    stale = [a.pk for a in addresses if a.email.lower() != moved[a.user_id]]
    EmailAddress.objects.filter(pk__in=stale).delete()
    kept = [a for a in addresses if a.pk not in set(stale)]
    for address in kept:
        address.primary, address.verified = True, False
    EmailAddress.objects.bulk_update(kept, ["primary", "verified"])
    have = {a.user_id for a in kept}
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user_id=pk, email=email, primary=True, verified=False)
            for pk, email in moved.items()
            if pk not in have
        ]
    )


def _details_entry(
    actor: Person | None, person: Person, before: dict[str, Any], home: Organisation | None, via: str
) -> AuditEntry:
    changed = [
        word
        for word, differs in (
            ("name", before["full_name"] != person.full_name),
            ("email", before["email"] != person.email),
        )
        if differs
    ]
    return AuditEntry(
        actor=actor,
        action=AuditAction.PERSON_CHANGED,
        organisation=home,
        target=person,
        subject=person,
        summary=f"Corrected the {' and '.join(changed)} of {person.full_name}"
        + (f" (was {before['full_name']})" if before["full_name"] != person.full_name else "")
        + ".",
        details={"before": before, "after": _person_facts(person), "via": via},
    )


def _set_active(*, actor: Person | None, person: Person, active: bool, via: str) -> Person:
    _check_via(via)
    if actor is not None and not can_deactivate_person(actor, person):
        raise PermissionDenied("You cannot " + ("reactivate" if active else "deactivate") + " this person's account.")
    before = _person_facts(_locked_person(person))
    # Conditional: a second click (or a retried request) finds nothing to change and records nothing.
    changed = Person.objects.filter(pk=person.pk, is_active=not active).update(is_active=active)
    person.refresh_from_db()
    if changed:
        audit_log_record(
            actor=actor,
            action=AuditAction.PERSON_REACTIVATED if active else AuditAction.PERSON_DEACTIVATED,
            organisation=_home_organisation(person, actor),
            target=person,
            subject=person,
            summary=(
                f"Reactivated the account of {person.full_name}."
                if active
                else f"Deactivated the account of {person.full_name}: no sign-in; their history stays."
            ),
            details={"before": before, "after": _person_facts(person), "via": via},
        )
    return person


@transaction.atomic
def person_deactivate(*, actor: Person | None, person: Person, via: str = "web") -> Person:
    """Stop a person signing in. Roles, records and evidence stay as they are (end roles to record a leaver)."""
    return _set_active(actor=actor, person=person, active=False, via=via)


@transaction.atomic
def person_reactivate(*, actor: Person | None, person: Person, via: str = "web") -> Person:
    """Let a deactivated person sign in again."""
    return _set_active(actor=actor, person=person, active=True, via=via)


# ---------------------------------------------------------------------------
# Roles: joiners, governance details, movers and leavers
# ---------------------------------------------------------------------------


def _check_role_fields(
    errors: Errors,
    *,
    kind: str | None = None,
    title: str,
    category: str,
    appointed_by: str,
    starts_on: date | None,
    ends_on: date | None = None,
    term_ends_on: date | None = None,
) -> None:
    if kind is not None and kind not in RoleKind.values:
        errors.add("kind", f"Unknown role “{kind}”." if kind else "Choose a role.")
    _check_length(errors, "title", title, MAX_TITLE, "job title")
    _check_length(errors, "appointed_by", appointed_by, MAX_APPOINTED_BY, "appointing body")
    if category and category not in GovernorCategory.values:
        errors.add("category", f"Unknown governor category “{category}”.")
    _check_date(errors, "starts_on", starts_on)
    _check_date(errors, "ends_on", ends_on, required=False)
    _check_date(errors, "term_ends_on", term_ends_on, required=False)
    if starts_on and ends_on and ends_on < starts_on:
        errors.add("ends_on", "The end date cannot be before the start date.")
    if starts_on and term_ends_on and term_ends_on < starts_on:
        errors.add("term_ends_on", "The term cannot end before it starts.")


def _first_overlap(held: Iterable[Role], *, starts_on: date, ends_on: date | None) -> Role | None:
    """Of roles of one kind in one place, the earliest whose period meets the given one."""
    meeting = [
        role
        for role in held
        if (role.ends_on is None or role.ends_on >= starts_on) and (ends_on is None or role.starts_on <= ends_on)
    ]
    return min(meeting, key=lambda role: role.starts_on, default=None)


def _same_roles(person_ids: Iterable[int], organisation_ids: Iterable[int], kinds: Iterable[str]) -> dict:
    """The people's roles of these kinds in these places, by (person, organisation, kind): one query."""
    held: dict[tuple[int, int, str], list[Role]] = defaultdict(list)
    for role in Role.objects.filter(
        person_id__in=set(person_ids), organisation_id__in=set(organisation_ids), kind__in=set(kinds)
    ):
        held[(role.person_id, role.organisation_id, role.kind)].append(role)
    return held


def _role_add_errors(grant: RoleGrant, *, held: Iterable[Role], who: Person | None) -> Errors:
    """Every problem with the grant (``who`` None: someone new), given the roles of its kind there they hold."""
    errors = Errors()
    _check_role_fields(
        errors,
        kind=grant.kind,
        title=grant.title,
        category=grant.category,
        appointed_by=grant.appointed_by,
        starts_on=grant.starts_on,
        ends_on=grant.ends_on,
        term_ends_on=grant.term_ends_on,
    )
    organisation, starts_on = grant.organisation, grant.starts_on
    if starts_on and organisation.closed_on is not None and organisation.closed_on <= starts_on:
        errors.add("organisation", f"{organisation.name} closed on {_day(organisation.closed_on)}.")
    if who is not None and starts_on and "kind" not in errors and "ends_on" not in errors:
        clash = _first_overlap(held, starts_on=starts_on, ends_on=grant.ends_on)
        if clash is not None:
            errors.add(
                "starts_on",
                f"{who.full_name} is already {role_label(grant.kind).lower()} at {organisation.name} "
                f"from {_day(clash.starts_on)}" + (f" to {_day(clash.ends_on)}." if clash.ends_on else "."),
            )
    return errors


@dataclass(frozen=True)
class RoleGrant:
    """One role to give one person (``role_add``'s arguments)."""

    person: Person | None  # None only when checking a role for someone not yet created
    organisation: Organisation
    kind: str
    starts_on: date | None  # None only when checking: a grant without a start is refused
    ends_on: date | None = None
    title: str = ""
    category: str = ""
    appointed_by: str = ""
    term_ends_on: date | None = None


def role_add_check(
    *,
    person: Person | None,
    organisation: Organisation,
    kind: str,
    starts_on: date | None,
    ends_on: date | None = None,
    title: str = "",
    category: str = "",
    appointed_by: str = "",
    term_ends_on: date | None = None,
) -> None:
    """Every problem with giving ``person`` (None: someone new) this role, as a ValidationError; nothing is written."""
    grant = RoleGrant(
        person,
        organisation,
        kind,
        starts_on,
        ends_on,
        title,
        category,
        appointed_by,
        term_ends_on,
    )
    held = (
        _same_roles([person.pk], [organisation.pk], [kind]).get((person.pk, organisation.pk, kind), [])
        if person is not None
        else []
    )
    _role_add_errors(grant, held=held, who=person).raise_any()


def _grant_refusal(actor: Person, kind: str, organisation: Organisation) -> str:
    """Why ``actor`` may not grant the role there ("" if they may)."""
    if may_grant_role(actor, kind, organisation):
        return ""
    if can_manage_people(actor, organisation):
        return f"Only an admin of {organisation.name} can make someone an admin, chair or clerk."
    return f"You cannot add people to {organisation.name}."


@transaction.atomic
def role_add(
    *,
    actor: Person | None,
    person: Person,
    organisation: Organisation,
    kind: str,
    starts_on: date,
    ends_on: date | None = None,
    title: str = "",
    category: str = "",
    appointed_by: str = "",
    term_ends_on: date | None = None,
    via: str = "web",
) -> Role:
    """Give a person a role (a joiner, or someone taking on another role). They owe from ``starts_on``
    every code in force there for the role (``conduct.signals.roles_started``).

    Only admins grant the officer roles (admin, chair, clerk); clerks grant the others on their boards.
    A role of the same kind in the same place for a period that meets this one is refused.
    """
    grant = RoleGrant(person, organisation, kind, starts_on, ends_on, title, category, appointed_by, term_ends_on)
    return roles_add_batch(actor=actor, grants=[grant], via=via)[0]


@transaction.atomic
def roles_add_batch(*, actor: Person | None, grants: Sequence[RoleGrant], via: str = "web") -> list[Role]:
    """``role_add`` for many grants at once, all or none, in a constant number of queries (whatever the number).

    Each grant is checked as ``role_add`` checks it, against the roles the person holds and the grants
    before it in the batch; the roles are inserted together, what they open is opened in one pass
    (``roles_started``) and each is audited. Returns the roles in the order given.
    """
    _check_via(via)
    if not grants:
        return []
    _check_may_grant(actor, grants)
    people = [grant.person for grant in grants]
    assert all(person is not None for person in people), "a role is given to someone saved"
    # Two requests adding the same role one after the other, not side by side.
    _lock_people(person.pk for person in people)  # type: ignore[union-attr]
    held = _same_roles((p.pk for p in people), (g.organisation.pk for g in grants), (g.kind for g in grants))  # type: ignore[union-attr]
    many, roles = len(grants) > 1, []
    for given in grants:
        grant = replace(given, title=_clean_text(given.title), appointed_by=_clean_text(given.appointed_by))
        person: Person = grant.person  # type: ignore[assignment]
        key = (person.pk, grant.organisation.pk, grant.kind)
        errors = _role_add_errors(grant, held=held[key], who=person)
        _many_errors(errors, person, many).raise_any()
        role = _unsaved_role(grant, person)
        held[key].append(role)  # a later grant in the batch meets this one
        roles.append(role)
    try:
        with transaction.atomic():
            Role.objects.bulk_create(roles, batch_size=1000)
    except IntegrityError:
        raise ValidationError({"starts_on": ["This person already has this role from that date."]}) from None
    roles_started.send(sender=Role, roles=roles)
    audit_entries_record_batch([_granted_entry(actor, role, via) for role in roles])
    return roles


def _check_may_grant(actor: Person | None, grants: Sequence[RoleGrant]) -> None:
    """PermissionDenied, saying why, if the actor may not grant one of the roles (asked once a kind and place)."""
    if actor is None:
        return
    refusals = {(g.kind, g.organisation.pk): _grant_refusal(actor, g.kind, g.organisation) for g in grants}
    refused = next((message for message in refusals.values() if message), "")
    if refused:
        raise PermissionDenied(refused)


def _unsaved_role(grant: RoleGrant, person: Person) -> Role:
    assert grant.starts_on is not None  # a grant without a start date is refused before
    role = Role(
        person=person,
        organisation=grant.organisation,
        kind=grant.kind,
        starts_on=grant.starts_on,
        ends_on=grant.ends_on,
        title=grant.title,
        category=grant.category,
        appointed_by=grant.appointed_by,
        term_ends_on=grant.term_ends_on,
    )
    role.clean()
    return role


def _granted_entry(actor: Person | None, role: Role, via: str) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        action=AuditAction.ROLE_GRANTED,
        organisation=role.organisation,
        target=role,
        subject=role.person,
        summary=f"{role.person.full_name} became {role_label(role.kind).lower()} at {role.organisation.name} "
        f"from {_day(role.starts_on)}.",
        details={"before": None, "after": _role_facts(role), "via": via},
    )


@dataclass(frozen=True)
class GovernanceChange:
    """New details for one role (``role_update_governance``'s arguments)."""

    role: Role
    category: str
    appointed_by: str
    starts_on: date
    term_ends_on: date | None
    title: str


@transaction.atomic
def role_update_governance(
    *,
    actor: Person | None,
    role: Role,
    category: str,
    appointed_by: str,
    starts_on: date,
    term_ends_on: date | None,
    title: str,
    via: str = "web",
) -> Role:
    """Correct a role's details: governor category, appointing body, date of appointment, term of office, title."""
    change = GovernanceChange(role, category, appointed_by, starts_on, term_ends_on, title)
    return roles_update_batch(actor=actor, changes=[change], via=via)[0]


def _locked_roles(roles: Iterable[Role]) -> dict[int, Role]:
    return (
        Role.objects.select_for_update(of=("self",))
        .select_related("organisation", "person")
        .in_bulk([role.pk for role in roles])
    )


def _governance_errors(role: Role, change: GovernanceChange, title: str, appointed_by: str) -> Errors:
    errors = Errors()
    _check_role_fields(
        errors,
        title=title,
        category=change.category,
        appointed_by=appointed_by,
        starts_on=change.starts_on,
        ends_on=role.ends_on,
        term_ends_on=change.term_ends_on,
    )
    if "ends_on" in errors:  # the stored end date is not an input here: say it against the start date
        errors.setdefault("starts_on", []).append(
            f"The role ended on {_day(role.ends_on)}; the start date cannot be after that."  # type: ignore[arg-type]
        )
        del errors["ends_on"]
    return errors


@transaction.atomic
def roles_update_batch(*, actor: Person | None, changes: Sequence[GovernanceChange], via: str = "web") -> list[Role]:
    """``role_update_governance`` for many roles at once, all or none; returns the roles as saved, in order."""
    _check_via(via)
    if not changes:
        return []
    locked = _locked_roles(change.role for change in changes)  # with their organisations, for the check
    if actor is not None and not all(can_change_role(actor, role) for role in locked.values()):
        raise PermissionDenied("You cannot change this role.")
    many, changed = len(changes) > 1, []
    for change in changes:
        role = locked[change.role.pk]
        title, appointed_by = _clean_text(change.title), _clean_text(change.appointed_by)
        _many_errors(_governance_errors(role, change, title, appointed_by), role.person, many).raise_any()
        before = _role_facts(role)
        role.category, role.appointed_by, role.starts_on = change.category, appointed_by, change.starts_on
        role.term_ends_on, role.title = change.term_ends_on, title
        if _role_facts(role) != before:
            changed.append((role, before))
    if changed:
        try:
            with transaction.atomic():
                Role.objects.bulk_update(
                    [role for role, _ in changed],
                    ["category", "appointed_by", "starts_on", "term_ends_on", "title"],
                    batch_size=1000,
                )
        except IntegrityError:
            raise ValidationError({"starts_on": ["This person already has this role from that date."]}) from None
        audit_entries_record_batch([_changed_entry(actor, role, before, via) for role, before in changed])
    return [locked[change.role.pk] for change in changes]


def _changed_entry(actor: Person | None, role: Role, before: dict[str, Any], via: str) -> AuditEntry:
    after = _role_facts(role)
    changed = sorted(key for key in after if after[key] != before[key])
    return AuditEntry(
        actor=actor,
        action=AuditAction.ROLE_CHANGED,
        organisation=role.organisation,
        target=role,
        subject=role.person,
        summary=f"Changed the {', '.join(f.replace('_', ' ') for f in changed)} of {role.person.full_name}'s "
        f"role as {role_label(role.kind).lower()} at {role.organisation.name}.",
        details={"before": before, "after": after, "via": via},
    )


def _end_checked(role: Role, *, ends_on: date | None, reason: str) -> tuple[str, Errors]:
    reason = _clean_text(reason)
    errors = Errors()
    _check_date(errors, "ends_on", ends_on)
    if ends_on is not None and ends_on < role.starts_on:
        errors.add("ends_on", f"The end date cannot be before the role began ({_day(role.starts_on)}).")
    if not reason:
        errors.add("reason", "Say why the role ends (for example: left the school, term of office ended).")
    _check_length(errors, "reason", reason, MAX_END_REASON, "reason")
    return reason, errors


def _held_beyond(ends_on: date) -> Q:
    return Q(ends_on__isnull=True) | Q(ends_on__gt=ends_on)


def _end_many(endings: Sequence[tuple[Role, date, str]]) -> list[Role]:
    """End each role on its day if it is held beyond that day; the roles ended (the others had ended by then).

    Conditional updates (one per end date and reason), so a second click or a retried request ends nothing
    twice. What the people owed through the ended roles closes in one pass (``roles_ended``).
    """
    by_day: dict[tuple[date, str], list[Role]] = defaultdict(list)
    for role, ends_on, reason in endings:
        by_day[(ends_on, reason)].append(role)
    ended = []
    for (ends_on, reason), roles in by_day.items():
        held = Role.objects.filter(pk__in=[role.pk for role in roles]).filter(_held_beyond(ends_on))
        to_end = set(held.values_list("pk", flat=True))
        if not to_end:
            continue
        updated = (
            Role.objects.filter(pk__in=to_end).filter(_held_beyond(ends_on)).update(ends_on=ends_on, end_reason=reason)
        )
        if updated != len(to_end):  # the callers hold these rows: nothing else can have ended them meanwhile
            raise ValidationError({"ends_on": ["Another change ended one of these roles first; try again."]})
        for role in roles:
            if role.pk in to_end:
                role.ends_on, role.end_reason = ends_on, reason
                ended.append(role)
    if ended:
        roles_ended.send(sender=Role, roles=ended)
    return ended


def _end(role: Role, *, ends_on: date, reason: str) -> bool:
    """End the role on ``ends_on`` if it is held beyond that day; False if it had already ended by then."""
    return bool(_end_many([(role, ends_on, reason)]))


@dataclass(frozen=True)
class RoleEnding:
    """One role to end on a day (its last), with a reason (``role_end``'s arguments)."""

    role: Role
    ends_on: date
    reason: str


@transaction.atomic
def role_end(*, actor: Person | None, role: Role, ends_on: date, reason: str, via: str = "web") -> Role:
    """End a role on a date (its last day) with a reason. What the person owed through it closes after that day.

    A role already ended on or before ``ends_on`` is refused with a message and left as it is.
    """
    return roles_end_batch(actor=actor, endings=[RoleEnding(role, ends_on, reason)], via=via)[0]


@transaction.atomic
def roles_end_batch(*, actor: Person | None, endings: Sequence[RoleEnding], via: str = "web") -> list[Role]:
    """``role_end`` for many roles at once, all or none; returns the roles as ended, in order."""
    _check_via(via)
    if not endings:
        return []
    locked = _locked_roles(ending.role for ending in endings)  # with their organisations, for the check
    if actor is not None and not all(can_change_role(actor, role) for role in locked.values()):
        raise PermissionDenied("You cannot end this role.")
    many, checked, befores = len(endings) > 1, [], []
    for ending in endings:
        role = locked[ending.role.pk]
        reason, errors = _end_checked(role, ends_on=ending.ends_on, reason=ending.reason)
        if not errors and role.ends_on is not None and role.ends_on <= ending.ends_on:
            errors.add("ends_on", f"This role already ended on {_day(role.ends_on)}.")
        _many_errors(errors, role.person, many).raise_any()
        befores.append(_role_facts(role))
        checked.append((role, ending.ends_on, reason))
    if len(_end_many(checked)) != len(checked):
        raise ValidationError({"ends_on": ["One of these roles has already ended."]})
    audit_entries_record_batch(
        [_ended_entry(actor, role, before, via) for (role, _, _), before in zip(checked, befores, strict=True)]
    )
    return [role for role, _, _ in checked]


def _ended_entry(actor: Person | None, role: Role, before: dict[str, Any], via: str) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        action=AuditAction.ROLE_ENDED,
        organisation=role.organisation,
        target=role,
        subject=role.person,
        summary=f"Ended {role.person.full_name}'s role as {role_label(role.kind).lower()} at "
        f"{role.organisation.name} on {_day(role.ends_on)}: {role.end_reason}",  # type: ignore[arg-type]
        details={"before": before, "after": _role_facts(role), "via": via},
    )


def _held_within(person_ids: Iterable[int], within: Organisation, on: date) -> QuerySet[Role]:
    return (
        Role.objects.filter(
            person_id__in=list(person_ids), organisation__path__startswith=within.path, starts_on__lte=on
        )
        .filter(_held_beyond(on))
        .select_related("organisation")
        .order_by("organisation__path", "kind", "pk")
    )


def roles_held_within(person: Person, within: Organisation, on: date) -> list[Role]:
    """The person's roles at or below ``within`` held on ``on`` or later: those a leaver's date ends."""
    return list(_held_within([person.pk], within, on))


@transaction.atomic
def person_record_leaver(
    *, actor: Person | None, person: Person, ends_on: date, reason: str, within: Organisation, via: str = "web"
) -> list[Role]:
    """Someone leaves: every role they hold at or below ``within`` ends on ``ends_on`` (their last day), at once.

    Their roles elsewhere (another trust, a network) are not touched. What they signed stays; what they
    owed through these roles closes after the day. Returns the roles ended.
    """
    return people_record_leaver_batch(
        actor=actor, people=[person], ends_on=ends_on, reason=reason, within=within, via=via
    )[person.pk]


@transaction.atomic
def people_record_leaver_batch(
    *,
    actor: Person | None,
    people: Sequence[Person],
    ends_on: date,
    reason: str,
    within: Organisation,
    via: str = "web",
) -> dict[int, list[Role]]:
    """``person_record_leaver`` for many people leaving on one day, all or none: the roles ended, by person."""
    _check_via(via)
    if actor is not None and not can_manage_people(actor, within):
        raise PermissionDenied(f"You cannot record leavers at {within.name}.")
    if not people:
        return {}
    _lock_people(person.pk for person in people)
    reason = _leaving_reason_checked(ends_on, reason)
    held = _leavers_roles(actor, people, within, ends_on)
    locked = _locked_roles(role for roles in held.values() for role in roles)
    befores = {person.pk: [_role_facts(role) for role in held[person.pk]] for person in people}
    ended = {
        role.pk
        for role in _end_many([(locked[role.pk], ends_on, reason) for person in people for role in held[person.pk]])
    }
    result: dict[int, list[Role]] = {}
    for person in people:
        result[person.pk] = [locked[role.pk] for role in held[person.pk] if role.pk in ended]
    audit_entries_record_batch(
        [
            _leaver_entry(actor, person, within, ends_on, reason, befores[person.pk], result[person.pk], via)
            for person in people
        ]
    )
    return result


def _leaving_reason_checked(ends_on: date, reason: str) -> str:
    errors = Errors()
    _check_date(errors, "ends_on", ends_on)
    reason = _clean_text(reason)
    if not reason:
        errors.add("reason", "Say why they are leaving (for example: resigned, retired, contract ended).")
    _check_length(errors, "reason", reason, MAX_END_REASON, "reason")
    errors.raise_any()
    return reason


def _leavers_roles(
    actor: Person | None, people: Sequence[Person], within: Organisation, ends_on: date
) -> dict[int, list[Role]]:
    """The roles each leaver's date ends (one query); refused if someone holds none or one the actor cannot end."""
    held: dict[int, list[Role]] = defaultdict(list)
    for role in _held_within((person.pk for person in people), within, ends_on):
        held[role.person_id].append(role)
    for person in people:
        if not held[person.pk]:
            raise ValidationError(
                {"ends_on": [f"{person.full_name} holds no role at {within.name} on {_day(ends_on)}."]}
            )
        refused = [role for role in held[person.pk] if actor is not None and not can_change_role(actor, role)]
        if refused:
            raise PermissionDenied(
                f"Only an admin can end {person.full_name}'s role as {role_label(refused[0].kind).lower()} "
                f"at {refused[0].organisation.name}."
            )
    return held


def _leaver_entry(
    actor: Person | None,
    person: Person,
    within: Organisation,
    ends_on: date,
    reason: str,
    before: list[dict[str, Any]],
    ended: list[Role],
    via: str,
) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        action=AuditAction.PERSON_LEFT,
        organisation=within,
        target=person,
        subject=person,
        summary=f"{person.full_name} left {within.name} on {_day(ends_on)} ({len(ended)} role(s) ended): {reason}",
        details={"before": before, "after": [_role_facts(role) for role in ended], "via": via},
    )


@transaction.atomic
def person_move(
    *,
    actor: Person | None,
    role: Role,
    organisation: Organisation,
    kind: str,
    on: date,
    title: str = "",
    via: str = "web",
) -> Role:
    """Move someone: ``role`` ends the day before ``on`` and the new role starts on ``on``, as one action.

    What they owe for codes that apply to both roles carries over to the new one; what applies only
    to the old one closes. Returns the new role.
    """
    _check_via(via)
    if actor is not None and not can_change_role(actor, role):
        raise PermissionDenied("You cannot end this role.")
    if actor is not None and kind in RoleKind.values and not may_grant_role(actor, kind, organisation):
        raise PermissionDenied(
            f"Only an admin of {organisation.name} can make someone an admin, chair or clerk."
            if can_manage_people(actor, organisation)
            else f"You cannot add people to {organisation.name}."
        )
    role = _locked_role(role)
    person = role.person
    title = _clean_text(title)
    errors = Errors()
    _check_date(errors, "on", on)
    if on is not None and on <= role.starts_on:
        errors.add("on", f"The move must be after the current role began ({_day(role.starts_on)}).")
    if role.ends_on is not None and on is not None and role.ends_on < on - timedelta(days=1):
        errors.add("on", f"This role already ended on {_day(role.ends_on)}.")
    if kind == role.kind and organisation.pk == role.organisation_id:
        errors.add("kind", "Choose another role or organisation: this is the role they hold.")
    errors.raise_any()
    try:
        role_add_check(person=person, organisation=organisation, kind=kind, starts_on=on, title=title)
    except ValidationError as error:
        # The new role's start is this action's date.
        raise ValidationError(
            {("on" if field == "starts_on" else field): messages for field, messages in error.message_dict.items()}
        ) from None
    before = _role_facts(role)
    reason = f"Moved to {role_label(kind).lower()} at {organisation.name}"[:MAX_END_REASON]
    # The new role first, so what the old one owed can carry over to it when the old one ends.
    new_role = role_create(person=person, organisation=organisation, kind=kind, starts_on=on, title=title)
    if not _end(role, ends_on=on - timedelta(days=1), reason=reason):
        raise ValidationError({"on": [f"This role already ended on {_day(role.ends_on)}."]})  # type: ignore[arg-type]
    audit_log_record(
        actor=actor,
        action=AuditAction.PERSON_MOVED,
        organisation=organisation,
        target=new_role,
        subject=person,
        summary=f"Moved {person.full_name} from {role_label(role.kind).lower()} at {role.organisation.name} to "
        f"{role_label(kind).lower()} at {organisation.name} from {_day(on)}.",
        details={
            "before": before,
            "after": {"ended": _role_facts(role), "started": _role_facts(new_role)},
            "via": via,
        },
    )
    return new_role
