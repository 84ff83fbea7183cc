"""Setting organisations up in the app: create, rename, move and close them; network memberships.

Each service takes the acting officer as ``by``, asks ``conduct.permissions`` whether they may
(``PermissionDenied`` if not), refuses bad input with a ``ValidationError`` keyed by argument name
before it writes anything, makes the change and its audit log entry in one transaction, and
returns the saved row freshly read (the caller's instance may be stale: a move rewrites paths).

The shape of a tree: a trust holds its academies and its trust board; a trust board holds the
local governing boards; boards hold committees; a network holds its hubs and its own board.
Schools join networks across trusts by a membership the network asks for and the school accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from conduct.audit import audit_log_record
from conduct.models import (
    AuditAction,
    MembershipStatus,
    NetworkMembership,
    Organisation,
    OrganisationKind,
    Person,
    RoleKind,
)
from conduct.permissions import (
    can_accept_membership,
    can_add_organisation_under,
    can_close_organisation,
    can_end_membership,
    can_manage_organisation,
    can_move_organisation,
    can_request_membership,
)
from conduct.services import role_create
from core.display import long_date

Kind = OrganisationKind

# What may sit directly under each kind of organisation (None: the top of a tree).
ALLOWED_CHILDREN: dict[str | None, tuple[str, ...]] = {
    None: (Kind.TRUST, Kind.NETWORK),
    Kind.TRUST: (Kind.SCHOOL, Kind.BOARD),
    Kind.NETWORK: (Kind.HUB, Kind.BOARD),
    Kind.BOARD: (Kind.BOARD, Kind.COMMITTEE),
    Kind.SCHOOL: (),
    Kind.HUB: (),
    Kind.COMMITTEE: (),
}
# What a board may govern: the body it answers for, never another board.
GOVERNABLE_KINDS = (Kind.TRUST, Kind.NETWORK, Kind.HUB, Kind.SCHOOL)
NETWORK_KINDS = (Kind.NETWORK, Kind.HUB)

NAME_LENGTH = Organisation._meta.get_field("name").max_length or 200
SLUG_LENGTH = Organisation._meta.get_field("slug").max_length or 80
PATH_LENGTH = Organisation._meta.get_field("path").max_length or 255
PATH_SEGMENT = len("000001/")  # each level adds a zero-padded primary key and a slash


class Errors(dict[str, list[str]]):
    """Messages by argument name, raised together so a form can show each beside its field."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def _kind_label(kind: str) -> str:
    return Kind(kind).label if kind in Kind.values else kind


def _locked(organisation: Organisation) -> Organisation:
    """The organisation as stored now, its row locked until the transaction ends (PostgreSQL)."""
    return Organisation.objects.select_for_update().get(pk=organisation.pk)


def _open_on(organisation: Organisation, day: date) -> bool:
    return organisation.closed_on is None or organisation.closed_on > day


# ---------------------------------------------------------------------------
# The checks each change shares
# ---------------------------------------------------------------------------


def _clean_name(name: str, *, parent: Organisation | None, errors: Errors, exclude: Organisation | None = None) -> str:
    """The name with whitespace tidied; refused if empty, too long or already used by a sibling."""
    name = " ".join((name or "").split())
    if not name:
        errors.add("name", "Give the organisation a name.")
    elif len(name) > NAME_LENGTH:
        errors.add("name", f"Keep the name to {NAME_LENGTH} characters; this one has {len(name)}.")
    elif _sibling_named(name, parent=parent, exclude=exclude):
        where = parent.name if parent is not None else "this installation"
        errors.add("name", f"{where} already has an organisation called “{name}”.")
    return name


def _sibling_named(name: str, *, parent: Organisation | None, exclude: Organisation | None) -> bool:
    siblings = Organisation.objects.filter(parent=parent)  # parent None: the other tops of trees
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    return siblings.filter(name__iexact=name).exists()


def _check_kind(kind: str, *, parent: Organisation | None, errors: Errors, field: str = "kind") -> None:
    """Refuses a kind that makes no sense where it would sit, and says what does."""
    if kind not in Kind.values:
        errors.add("kind", "Choose a kind of organisation.")
        return
    allowed = ALLOWED_CHILDREN[parent.kind if parent is not None else None]
    if kind in allowed:
        return
    if parent is None:
        errors.add(field, f"Only a trust or a network stands at the top of a tree, not a {_kind_label(kind).lower()}.")
    elif not allowed:
        errors.add(field, f"Nothing sits under a {_kind_label(parent.kind).lower()}, so not under {parent.name}.")
    else:
        choices = ", ".join(_kind_label(k).lower() for k in allowed)
        errors.add(
            field,
            f"A {_kind_label(kind).lower()} cannot sit under {parent.name} (a {_kind_label(parent.kind).lower()}); "
            f"there you can add: {choices}.",
        )


def _check_place(parent: Organisation | None, *, depth_below: int, errors: Errors, field: str) -> None:
    """A parent must be open, and the tree must not grow deeper than a path can hold."""
    if parent is None:
        return
    if parent.closed_on is not None:
        errors.add(field, f"{parent.name} closed on {long_date(parent.closed_on)}; nothing new goes under it.")
    if len(parent.path) + depth_below * PATH_SEGMENT > PATH_LENGTH:
        errors.add(field, f"{parent.name} is too deep in the tree to hold more levels.")


def _check_governs(kind: str, *, parent: Organisation | None, governs: Organisation | None, errors: Errors) -> None:
    """A board governs an open trust, network, hub or school in its own tree."""
    if governs is None:
        return
    if kind not in (Kind.BOARD, Kind.COMMITTEE):
        errors.add("governs", "Only boards and committees govern another organisation.")
    elif governs.kind not in GOVERNABLE_KINDS:
        errors.add("governs", f"A board governs a trust, network, hub or school, not a {_kind_label(governs.kind)}.")
    elif parent is None or governs.root_path != parent.root_path:
        errors.add("governs", f"{governs.name} belongs to another trust or network; a board governs only its own.")
    elif governs.closed_on is not None:
        errors.add("governs", f"{governs.name} closed on {long_date(governs.closed_on)}.")


def _clean_slug(slug: str | None, *, name: str, errors: Errors) -> str:
    """The slug given (refused if malformed or taken), or one made from the name that no one uses yet."""
    if slug is not None:
        slug = slug.strip().lower()
        try:
            validate_slug(slug)
        except ValidationError:
            errors.add("slug", "Use only letters, numbers, hyphens and underscores in the short web name.")
            return slug
        if len(slug) > SLUG_LENGTH:
            errors.add("slug", f"Keep the short web name to {SLUG_LENGTH} characters; this one has {len(slug)}.")
        elif Organisation.objects.filter(slug__iexact=slug).exists():
            errors.add("slug", f"The short web name “{slug}” is already taken.")
        return slug
    base = slugify(name)[: SLUG_LENGTH - 4].strip("-") or "organisation"
    candidate, number = base, 1
    while Organisation.objects.filter(slug__iexact=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _insert(
    *, parent: Organisation | None, kind: str, name: str, slug: str, governs: Organisation | None
) -> Organisation:
    organisation = Organisation(parent=parent, kind=kind, name=name, slug=slug, governs=governs)
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError:
        # Another request took the slug between the check and the insert.
        raise ValidationError({"slug": f"The short web name “{slug}” is already taken."}) from None
    return organisation


def _validated_new(
    *, parent: Organisation | None, kind: str, name: str, slug: str | None, governs: Organisation | None
) -> tuple[str, str]:
    """The cleaned name and slug of a new organisation, or a ValidationError listing every problem."""
    errors = Errors()
    name = _clean_name(name, parent=parent, errors=errors)
    _check_kind(kind, parent=parent, errors=errors)
    _check_place(parent, depth_below=1, errors=errors, field="parent")
    _check_governs(kind, parent=parent, governs=governs, errors=errors)
    slug = _clean_slug(slug, name=name, errors=errors)
    errors.raise_any()
    return name, slug


def _record_created(organisation: Organisation, *, by: Person | None) -> None:
    parent = organisation.parent
    where = f" under {parent.name}" if parent is not None else ""
    governs = f", governing {organisation.governs.name}" if organisation.governs is not None else ""
    audit_log_record(
        actor=by,
        action=AuditAction.ORGANISATION_CREATED,
        organisation=organisation,
        target=organisation,
        summary=f"Added {organisation.name} ({_kind_label(organisation.kind).lower()}){where}{governs}.",
        details={
            "name": organisation.name,
            "slug": organisation.slug,
            "kind": organisation.kind,
            "parent_id": organisation.parent_id,
            "governs_id": organisation.governs_id,
            "path": organisation.path,
        },
    )


# ---------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------


@transaction.atomic
def organisation_create(
    *,
    by: Person,
    parent: Organisation | None,
    kind: str,
    name: str,
    slug: str | None = None,
    governs: Organisation | None = None,
) -> Organisation:
    """Add an organisation under ``parent``: an academy or the trust board under a trust, a local governing
    board under the trust board (``governs`` names its academy), a committee under a board.

    Without ``slug`` one is made from the name. The top of a new tree (``parent`` None) is for a
    platform operator; a fresh installation's first trust comes from ``trust_create_first``.
    """
    if not can_add_organisation_under(by, parent):
        raise PermissionDenied(f"You cannot add organisations under {parent.name if parent else 'the top level'}.")
    parent = _locked(parent) if parent is not None else None
    name, slug = _validated_new(parent=parent, kind=kind, name=name, slug=slug, governs=governs)
    organisation = _insert(parent=parent, kind=kind, name=name, slug=slug, governs=governs)
    _record_created(organisation, by=by)
    return organisation


@transaction.atomic
def organisation_rename(*, by: Person, organisation: Organisation, name: str) -> Organisation:
    """Give an organisation a new name. Records keep pointing at it, so they show the new name."""
    if not can_manage_organisation(by, organisation):
        raise PermissionDenied(f"You cannot rename {organisation.name}.")
    organisation = _locked(organisation)
    errors = Errors()
    name = _clean_name(name, parent=organisation.parent, errors=errors, exclude=organisation)
    errors.raise_any()
    old_name = organisation.name
    if name == old_name:
        return organisation
    Organisation.objects.filter(pk=organisation.pk).update(name=name)
    organisation.name = name
    audit_log_record(
        actor=by,
        action=AuditAction.ORGANISATION_RENAMED,
        organisation=organisation,
        target=organisation,
        summary=f"Renamed {old_name} to {name}.",
        details={"from": old_name, "to": name},
    )
    return organisation


@transaction.atomic
def organisation_close(*, by: Person, organisation: Organisation, closed_on: date) -> Organisation:
    """Close an organisation, and everything below it that is still open, from ``closed_on``.

    From that day nobody owes anything new there (no obligations open for its roles or for
    adoptions covering it). What exists stays: obligations, signatures, adoptions and their
    evidence keep the organisation they were made for.
    """
    if not can_close_organisation(by, organisation):
        raise PermissionDenied(f"You cannot close {organisation.name}.")
    organisation = _locked(organisation)
    errors = Errors()
    if organisation.closed_on is not None:
        errors.add("closed_on", f"{organisation.name} already closed on {long_date(organisation.closed_on)}.")
    errors.raise_any()
    # Below it, anything still open (or due to close later) closes the same day; earlier closures stand.
    closing = Organisation.objects.filter(path__startswith=organisation.path).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gt=closed_on)
    )
    also_closed = sorted(closing.exclude(pk=organisation.pk).values_list("pk", flat=True))
    closing.update(closed_on=closed_on)
    organisation.closed_on = closed_on
    below = f" and {len(also_closed)} organisation(s) below it" if also_closed else ""
    audit_log_record(
        actor=by,
        action=AuditAction.ORGANISATION_CLOSED,
        organisation=organisation,
        target=organisation,
        summary=f"Closed {organisation.name}{below} from {long_date(closed_on)}.",
        details={"closed_on": closed_on, "also_closed": also_closed},
    )
    return organisation


@transaction.atomic
def organisation_move(*, by: Person, organisation: Organisation, new_parent: Organisation) -> Organisation:
    """Move an organisation, with everything below it, under ``new_parent`` (e.g. a local board to
    another trust board, or an academy to another trust when it transfers).

    Only the tree's paths change (one statement for the whole subtree). Obligations, signatures,
    adoptions and their evidence refer to organisations by id, so none of them is rewritten.
    """
    if not can_move_organisation(by, organisation, new_parent):
        raise PermissionDenied(f"You cannot move {organisation.name} under {new_parent.name}.")
    organisation, new_parent = _locked(organisation), _locked(new_parent)
    _validate_move(organisation, new_parent)
    old_parent, old_path = organisation.parent, organisation.path
    moved = Organisation.objects.filter(path__startswith=organisation.path).count()
    organisation.parent = new_parent
    organisation.save()  # recomputes the paths of the organisation and everything below it
    audit_log_record(
        actor=by,
        action=AuditAction.ORGANISATION_MOVED,
        organisation=organisation,
        target=organisation,
        summary=f"Moved {organisation.name} from {old_parent.name if old_parent else 'the top'} to {new_parent.name}.",
        details={
            "from_parent_id": old_parent.pk if old_parent else None,
            "to_parent_id": new_parent.pk,
            "from_path": old_path,
            "to_path": organisation.path,
            "organisations_moved": moved,
        },
    )
    return organisation


def _validate_move(organisation: Organisation, new_parent: Organisation) -> None:
    errors = Errors()
    if new_parent.pk == organisation.parent_id:
        errors.add("new_parent", f"{organisation.name} already sits under {new_parent.name}.")
    elif new_parent.path.startswith(organisation.path):
        errors.add("new_parent", f"{organisation.name} cannot move under itself or one of its own sub-organisations.")
    else:
        _check_kind(organisation.kind, parent=new_parent, errors=errors, field="new_parent")
        depth = _subtree_depth(organisation)
        _check_place(new_parent, depth_below=depth, errors=errors, field="new_parent")
        if _sibling_named(organisation.name, parent=new_parent, exclude=organisation):
            errors.add("new_parent", f"{new_parent.name} already has an organisation called “{organisation.name}”.")
        for message in _governance_split_by_move(organisation, new_parent):
            errors.add("new_parent", message)
    errors.raise_any()


def _subtree_depth(organisation: Organisation) -> int:
    """How many levels the organisation and everything below it span (1: it has nothing below)."""
    paths = Organisation.objects.filter(path__startswith=organisation.path).values_list("path", flat=True)
    return max(path.count("/") for path in paths) - organisation.path.count("/") + 1


def _governance_split_by_move(organisation: Organisation, new_parent: Organisation) -> list[str]:
    """Boards that would end up governing an organisation of another trust (or network) after the move."""
    if organisation.root_path == new_parent.root_path:
        return []
    inside = Q(path__startswith=organisation.path)
    links = (
        Organisation.objects.filter(governs__isnull=False)
        .filter(inside | Q(governs__path__startswith=organisation.path))
        .values_list("name", "path", "governs__name", "governs__path")
    )
    problems = []
    for board, board_path, governed, governed_path in links:
        if board_path.startswith(organisation.path) != governed_path.startswith(organisation.path):
            problems.append(f"{board} governs {governed}; they would be in different trusts or networks.")
    return problems


# ---------------------------------------------------------------------------
# Network memberships: the network asks, the school accepts, either side ends it
# ---------------------------------------------------------------------------


def _locked_membership(membership: NetworkMembership) -> NetworkMembership:
    return NetworkMembership.objects.select_for_update().select_related("network", "school").get(pk=membership.pk)


def _membership_details(membership: NetworkMembership) -> dict[str, object]:
    return {
        "network_id": membership.network_id,
        "school_id": membership.school_id,
        "status": membership.status,
        "joined_on": membership.joined_on,
        "left_on": membership.left_on,
    }


@transaction.atomic
def network_membership_request(*, by: Person, network: Organisation, school: Organisation) -> NetworkMembership:
    """The network (or hub) asks a school of any trust to join; the membership counts once the school accepts."""
    if not can_request_membership(by, network):
        raise PermissionDenied(f"You cannot ask schools to join {network.name}.")
    network, school = _locked(network), _locked(school)
    today = timezone.localdate()
    errors = Errors()
    if network.kind not in NETWORK_KINDS:
        errors.add("network", f"{network.name} is not a network or hub; only those have member schools.")
    elif not _open_on(network, today):
        errors.add("network", f"{network.name} has closed.")
    if school.kind != Kind.SCHOOL:
        errors.add("school", f"{school.name} is not a school or academy.")
    elif not _open_on(school, today):
        errors.add("school", f"{school.name} has closed.")
    links = NetworkMembership.objects.filter(network=network, school=school)
    if links.filter(status=MembershipStatus.PENDING).exists():
        errors.add("school", f"{school.name} has already been asked to join {network.name}.")
    elif links.current(today).exists() or links.accepted().filter(joined_on__gt=today).exists():
        errors.add("school", f"{school.name} is already a member of {network.name}.")
    errors.raise_any()
    membership = NetworkMembership.objects.create(
        network=network, school=school, status=MembershipStatus.PENDING, requested_at=timezone.now()
    )
    audit_log_record(
        actor=by,
        action=AuditAction.MEMBERSHIP_REQUESTED,
        organisation=network,
        target=membership,
        summary=f"Asked {school.name} to join {network.name}.",
        details=_membership_details(membership),
    )
    return membership


@transaction.atomic
def network_membership_accept(
    *, by: Person, membership: NetworkMembership, joined_on: date | None = None
) -> NetworkMembership:
    """The school accepts a network's request; it is a member from ``joined_on`` (today if not given)."""
    if not can_accept_membership(by, membership):
        raise PermissionDenied(f"Only {membership.school.name}'s admins can accept this request.")
    membership = _locked_membership(membership)
    joined_on = joined_on or timezone.localdate()
    errors = Errors()
    if membership.status != MembershipStatus.PENDING:
        errors.add("membership", f"{membership.school.name} has already accepted.")
    elif not _open_on(membership.school, joined_on):
        errors.add("membership", f"{membership.school.name} has closed.")
    elif not _open_on(membership.network, joined_on):
        errors.add("membership", f"{membership.network.name} has closed.")
    errors.raise_any()
    membership.status, membership.joined_on = MembershipStatus.ACCEPTED, joined_on
    try:
        with transaction.atomic():
            membership.save(update_fields=["status", "joined_on"])
    except IntegrityError:
        raise ValidationError({"joined_on": "The school already has a membership starting that day."}) from None
    audit_log_record(
        actor=by,
        action=AuditAction.MEMBERSHIP_ACCEPTED,
        organisation=membership.school,
        target=membership,
        summary=f"{membership.school.name} joined {membership.network.name} from {long_date(joined_on)}.",
        details=_membership_details(membership),
    )
    return membership


@transaction.atomic
def network_membership_end(*, by: Person, membership: NetworkMembership, ended_on: date) -> NetworkMembership:
    """Either side ends a membership; ``ended_on`` is the last day it counts. The spell stays as history."""
    if not can_end_membership(by, membership):
        raise PermissionDenied(f"You cannot end {membership.school.name}'s membership of {membership.network.name}.")
    membership = _locked_membership(membership)
    errors = Errors()
    if membership.status != MembershipStatus.ACCEPTED or membership.joined_on is None:
        errors.add("membership", f"{membership.school.name} has not accepted this request; there is nothing to end.")
    elif membership.left_on is not None:
        errors.add("ended_on", f"This membership already ended on {long_date(membership.left_on)}.")
    elif ended_on < membership.joined_on:
        errors.add("ended_on", f"Give a day on or after it began ({long_date(membership.joined_on)}).")
    errors.raise_any()
    membership.left_on = ended_on
    membership.save(update_fields=["left_on"])
    side = membership.network if can_manage_organisation(by, membership.network) else membership.school
    audit_log_record(
        actor=by,
        action=AuditAction.MEMBERSHIP_ENDED,
        organisation=side,
        target=membership,
        summary=f"Ended {membership.school.name}'s membership of {membership.network.name} on {long_date(ended_on)}.",
        details=_membership_details(membership),
    )
    return membership


# ---------------------------------------------------------------------------
# A fresh installation's first trust (manage.py create_trust)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstTrust:
    trust: Organisation
    board: Organisation | None
    admin: Person
    admin_created: bool


class AlreadySetUp(Exception):
    """The installation already has organisations: the first-run path is closed."""


@transaction.atomic
def trust_create_first(
    *,
    name: str,
    admin_email: str,
    admin_name: str,
    slug: str | None = None,
    with_board: bool = True,
    board_name: str | None = None,
) -> FirstTrust:
    """The first trust of an empty installation, its trust board (unless ``with_board`` is False) and its
    first admin, who then sets up everything else in the app. Done by the operator, so the audit
    entries have no actor.

    Refused (``AlreadySetUp``) once any organisation exists; from then on organisations are added
    in the app. The admin is found by email if they already have an account (say, the operator's
    superuser), or created without a password; they set one from a link (see ``create_trust``).
    """
    if Organisation.objects.exists():
        raise AlreadySetUp("This installation already has organisations; add more in the app by an admin.")
    trust_name, trust_slug = _validated_new(parent=None, kind=Kind.TRUST, name=name, slug=slug, governs=None)
    admin_email, admin_name = _clean_admin(admin_email, admin_name)
    trust = _insert(parent=None, kind=Kind.TRUST, name=trust_name, slug=trust_slug, governs=None)
    _record_created(trust, by=None)
    board = None
    if with_board:
        try:
            board_name_clean, board_slug = _validated_new(
                parent=trust, kind=Kind.BOARD, name=board_name or f"{trust_name} Board", slug=None, governs=trust
            )
        except ValidationError as error:
            raise ValidationError({"board_name": error.messages}) from None
        board = _insert(parent=trust, kind=Kind.BOARD, name=board_name_clean, slug=board_slug, governs=trust)
        _record_created(board, by=None)
    admin, created = _admin_person(admin_email, admin_name)
    role = role_create(person=admin, organisation=trust, kind=RoleKind.ADMIN, starts_on=timezone.localdate())
    audit_log_record(
        actor=None,
        action=AuditAction.ROLE_GRANTED,
        organisation=trust,
        target=role,
        summary=f"Made {admin.full_name} an admin of {trust.name} (first-run set-up).",
        details={"person_id": admin.pk, "kind": role.kind, "starts_on": role.starts_on, "via": "create_trust"},
    )
    return FirstTrust(trust=trust, board=board, admin=admin, admin_created=created)


def _clean_admin(email: str, full_name: str) -> tuple[str, str]:
    errors = Errors()
    email = (email or "").strip().lower()
    full_name = " ".join((full_name or "").split())
    try:
        validate_email(email)
    except ValidationError:
        errors.add("admin_email", f"“{email}” is not a valid email address.")
    name_length = Person._meta.get_field("full_name").max_length or 200
    if not full_name:
        errors.add("admin_name", "Give the admin's full name, as it should appear on signed records.")
    elif len(full_name) > name_length:
        errors.add("admin_name", f"Keep the name to {name_length} characters; this one has {len(full_name)}.")
    errors.raise_any()
    return email, full_name


def _admin_person(email: str, full_name: str) -> tuple[Person, bool]:
    """The person with this email, or a new one without a password (they set it from a link)."""
    person = Person.objects.filter(email__iexact=email).first()
    if person is not None:
        return person, False
    person = Person.objects.create_user(email=email, password=None, full_name=full_name)
    # allauth must know the address; following the set-password link proves it (acknowledgements' signals).
    EmailAddress.objects.get_or_create(user=person, email=person.email, defaults={"primary": True, "verified": False})
    return person, True
