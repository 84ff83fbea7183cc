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
sends ``conduct.signals.role_ended``; acknowledgements closes what the person owed through it
from the day after (no reminders, not counted as owed), unless another role they still hold
owes the same code.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import Q

from conduct.audit import audit_log_record
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
    can_change_person,
    can_change_role,
    can_deactivate_person,
    can_manage_people,
    may_grant_role,
)
from conduct.services import role_create
from conduct.signals import role_ended
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


def _locked_role(role: Role) -> Role:
    return Role.objects.select_for_update(of=("self",)).select_related("organisation", "person").get(pk=role.pk)


def _home_organisation(person: Person, actor: Person | None) -> Organisation | None:
    """Where an entry about the person (not one role) is filed: their first role the actor reaches, else their first."""
    roles = list(Role.objects.filter(person=person).select_related("organisation").order_by("-starts_on", "pk"))
    if actor is not None:
        for role in roles:
            if can_manage_people(actor, role.organisation):
                return role.organisation
    return roles[0].organisation if roles else None


def _day(day: date) -> str:
    return f"{day:%-d %B %Y}"


# ---------------------------------------------------------------------------
# A person's details and account
# ---------------------------------------------------------------------------


def person_details_check(*, full_name: str, email: str, person: Person | None = None) -> tuple[str, str]:
    """The cleaned name and email, or a ValidationError naming each problem (no write; the sync's preview uses it)."""
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
    if "email" not in errors:
        others = Person.objects.filter(email__iexact=email)
        addresses = EmailAddress.objects.filter(email__iexact=email)
        if person is not None:
            others = others.exclude(pk=person.pk)
            addresses = addresses.exclude(user_id=person.pk)
        if others.exists() or addresses.exists():
            errors.add("email", f"Someone else already has the email address {email}.")
    errors.raise_any()
    return full_name, email


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
    _check_via(via)
    if actor is not None and not can_change_person(actor, person):
        raise PermissionDenied("You cannot change this person's details.")
    person = _locked_person(person)
    full_name, email = person_details_check(full_name=full_name, email=email, person=person)
    before = _person_facts(person)
    if full_name == person.full_name and email == person.email:
        return person
    email_changed = email != person.email
    person.full_name, person.email = full_name, email
    try:
        with transaction.atomic():
            person.save(update_fields=["full_name", "email"])
    except IntegrityError:  # another request took the address between the check and the save
        raise ValidationError({"email": [f"Someone else already has the email address {email}."]}) from None
    if email_changed:
        EmailAddress.objects.filter(user=person).exclude(email__iexact=email).delete()
        EmailAddress.objects.update_or_create(user=person, email=email, defaults={"primary": True, "verified": False})
    changed = [
        word for word, differs in (("name", before["full_name"] != full_name), ("email", email_changed)) if differs
    ]
    audit_log_record(
        actor=actor,
        action=AuditAction.PERSON_CHANGED,
        organisation=_home_organisation(person, actor),
        target=person,
        subject=person,
        summary=f"Corrected the {' and '.join(changed)} of {person.full_name}"
        + (f" (was {before['full_name']})" if before["full_name"] != full_name else "")
        + ".",
        details={"before": before, "after": _person_facts(person), "via": via},
    )
    return person


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


def _overlapping(
    *, person: Person, organisation: Organisation, kind: str, starts_on: date, ends_on: date | None
) -> Role | None:
    """A role of the same kind in the same place whose period meets the given one."""
    roles = Role.objects.filter(person=person, organisation=organisation, kind=kind).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on)
    )
    if ends_on is not None:
        roles = roles.filter(starts_on__lte=ends_on)
    return roles.order_by("starts_on").first()


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
    errors = Errors()
    _check_role_fields(
        errors,
        kind=kind,
        title=title,
        category=category,
        appointed_by=appointed_by,
        starts_on=starts_on,
        ends_on=ends_on,
        term_ends_on=term_ends_on,
    )
    if starts_on and organisation.closed_on is not None and organisation.closed_on <= starts_on:
        errors.add("organisation", f"{organisation.name} closed on {_day(organisation.closed_on)}.")
    if person is not None and starts_on and "kind" not in errors and "ends_on" not in errors:
        clash = _overlapping(person=person, organisation=organisation, kind=kind, starts_on=starts_on, ends_on=ends_on)
        if clash is not None:
            errors.add(
                "starts_on",
                f"{person.full_name} is already {role_label(kind).lower()} at {organisation.name} "
                f"from {_day(clash.starts_on)}" + (f" to {_day(clash.ends_on)}." if clash.ends_on else "."),
            )
    errors.raise_any()


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
    every code in force there for the role (``conduct.signals.role_started``).

    Only admins grant the officer roles (admin, chair, clerk); clerks grant the others on their boards.
    A role of the same kind in the same place for a period that meets this one is refused.
    """
    _check_via(via)
    if actor is not None and not may_grant_role(actor, kind, organisation):
        raise PermissionDenied(
            f"Only an admin of {organisation.name} can make someone an admin, chair or clerk."
            if can_manage_people(actor, organisation)
            else f"You cannot add people to {organisation.name}."
        )
    title, appointed_by = _clean_text(title), _clean_text(appointed_by)
    _locked_person(person)  # two requests adding the same role one after the other, not side by side
    role_add_check(
        person=person,
        organisation=organisation,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        title=title,
        category=category,
        appointed_by=appointed_by,
        term_ends_on=term_ends_on,
    )
    try:
        with transaction.atomic():
            role = role_create(
                person=person,
                organisation=organisation,
                kind=kind,
                starts_on=starts_on,
                ends_on=ends_on,
                title=title,
                category=category,
                appointed_by=appointed_by,
                term_ends_on=term_ends_on,
            )
    except IntegrityError:
        raise ValidationError({"starts_on": ["This person already has this role from that date."]}) from None
    audit_log_record(
        actor=actor,
        action=AuditAction.ROLE_GRANTED,
        organisation=organisation,
        target=role,
        subject=person,
        summary=f"{person.full_name} became {role_label(kind).lower()} at {organisation.name} from {_day(starts_on)}.",
        details={"before": None, "after": _role_facts(role), "via": via},
    )
    return role


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
    _check_via(via)
    if actor is not None and not can_change_role(actor, role):
        raise PermissionDenied("You cannot change this role.")
    role = _locked_role(role)
    title, appointed_by = _clean_text(title), _clean_text(appointed_by)
    errors = Errors()
    _check_role_fields(
        errors,
        title=title,
        category=category,
        appointed_by=appointed_by,
        starts_on=starts_on,
        ends_on=role.ends_on,
        term_ends_on=term_ends_on,
    )
    if "ends_on" in errors:  # the stored end date is not an input here: say it against the start date
        errors.setdefault("starts_on", []).append(
            f"The role ended on {_day(role.ends_on)}; the start date cannot be after that."  # type: ignore[arg-type]
        )
        del errors["ends_on"]
    errors.raise_any()
    before = _role_facts(role)
    role.category, role.appointed_by, role.starts_on = category, appointed_by, starts_on
    role.term_ends_on, role.title = term_ends_on, title
    after = _role_facts(role)
    if after == before:
        return role
    try:
        with transaction.atomic():
            role.save(update_fields=["category", "appointed_by", "starts_on", "term_ends_on", "title"])
    except IntegrityError:
        raise ValidationError({"starts_on": ["This person already has this role from that date."]}) from None
    changed = sorted(key for key in after if after[key] != before[key])
    audit_log_record(
        actor=actor,
        action=AuditAction.ROLE_CHANGED,
        organisation=role.organisation,
        target=role,
        subject=role.person,
        summary=f"Changed the {', '.join(f.replace('_', ' ') for f in changed)} of {role.person.full_name}'s "
        f"role as {role_label(role.kind).lower()} at {role.organisation.name}.",
        details={"before": before, "after": after, "via": via},
    )
    return role


def _end_checked(role: Role, *, ends_on: date | None, reason: str) -> str:
    reason = _clean_text(reason)
    errors = Errors()
    _check_date(errors, "ends_on", ends_on)
    if ends_on is not None and ends_on < role.starts_on:
        errors.add("ends_on", f"The end date cannot be before the role began ({_day(role.starts_on)}).")
    if not reason:
        errors.add("reason", "Say why the role ends (for example: left the school, term of office ended).")
    _check_length(errors, "reason", reason, MAX_END_REASON, "reason")
    errors.raise_any()
    return reason


def _end(role: Role, *, ends_on: date, reason: str) -> bool:
    """End the role on ``ends_on`` if it is held beyond that day; False if it had already ended by then.

    A conditional update, so a second click or a retried request ends nothing twice.
    """
    ended = (
        Role.objects.filter(pk=role.pk)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=ends_on))
        .update(ends_on=ends_on, end_reason=reason)
    )
    if not ended:
        return False
    role.ends_on, role.end_reason = ends_on, reason
    role_ended.send(sender=Role, role=role)
    return True


@transaction.atomic
def role_end(*, actor: Person | None, role: Role, ends_on: date, reason: str, via: str = "web") -> Role:
    """End a role on a date (its last day) with a reason. What the person owed through it closes after that day.

    A role already ended on or before ``ends_on`` is refused with a message and left as it is.
    """
    _check_via(via)
    if actor is not None and not can_change_role(actor, role):
        raise PermissionDenied("You cannot end this role.")
    role = _locked_role(role)
    reason = _end_checked(role, ends_on=ends_on, reason=reason)
    before = _role_facts(role)
    if not _end(role, ends_on=ends_on, reason=reason):
        raise ValidationError({"ends_on": [f"This role already ended on {_day(role.ends_on)}."]})  # type: ignore[arg-type]
    audit_log_record(
        actor=actor,
        action=AuditAction.ROLE_ENDED,
        organisation=role.organisation,
        target=role,
        subject=role.person,
        summary=f"Ended {role.person.full_name}'s role as {role_label(role.kind).lower()} at "
        f"{role.organisation.name} on {_day(ends_on)}: {reason}",
        details={"before": before, "after": _role_facts(role), "via": via},
    )
    return role


def roles_held_within(person: Person, within: Organisation, on: date) -> list[Role]:
    """The person's roles at or below ``within`` held on ``on`` or later: those a leaver's date ends."""
    return list(
        Role.objects.filter(person=person, organisation__path__startswith=within.path, starts_on__lte=on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=on))
        .select_related("organisation")
        .order_by("organisation__path", "kind", "pk")
    )


@transaction.atomic
def person_record_leaver(
    *, actor: Person | None, person: Person, ends_on: date, reason: str, within: Organisation, via: str = "web"
) -> list[Role]:
    """Someone leaves: every role they hold at or below ``within`` ends on ``ends_on`` (their last day), at once.

    Their roles elsewhere (another trust, a network) are not touched. What they signed stays; what they
    owed through these roles closes after the day. Returns the roles ended.
    """
    _check_via(via)
    if actor is not None and not can_manage_people(actor, within):
        raise PermissionDenied(f"You cannot record leavers at {within.name}.")
    _locked_person(person)
    errors = Errors()
    _check_date(errors, "ends_on", ends_on)
    reason = _clean_text(reason)
    if not reason:
        errors.add("reason", "Say why they are leaving (for example: resigned, retired, contract ended).")
    _check_length(errors, "reason", reason, MAX_END_REASON, "reason")
    errors.raise_any()
    roles = roles_held_within(person, within, ends_on)
    if not roles:
        raise ValidationError({"ends_on": [f"{person.full_name} holds no role at {within.name} on {_day(ends_on)}."]})
    refused = [role for role in roles if actor is not None and not can_change_role(actor, role)]
    if refused:
        raise PermissionDenied(
            f"Only an admin can end {person.full_name}'s role as {role_label(refused[0].kind).lower()} "
            f"at {refused[0].organisation.name}."
        )
    before = [_role_facts(role) for role in roles]
    ended = [role for role in roles if _end(_locked_role(role), ends_on=ends_on, reason=reason)]
    for role in ended:
        role.refresh_from_db(fields=["ends_on", "end_reason"])
    audit_log_record(
        actor=actor,
        action=AuditAction.PERSON_LEFT,
        organisation=within,
        target=person,
        subject=person,
        summary=f"{person.full_name} left {within.name} on {_day(ends_on)} ({len(ended)} role(s) ended): {reason}",
        details={"before": before, "after": [_role_facts(role) for role in ended], "via": via},
    )
    return ended


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
