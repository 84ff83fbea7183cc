"""Read side of the people pages: the directory, a person's page, the audit page and the GIAS export.

Who may see whom is decided in ``conduct.permissions`` (``scope_q`` over the organisations where the
viewer manages people); every query here applies it, so one trust's officers never read another
trust's people, records or audit entries, even about someone both trusts know. Each page is a fixed
number of queries however many people, roles or entries there are.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import reduce
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OrderBy, OuterRef, Q, QuerySet
from django.utils import timezone

from acknowledgements.models import Acknowledgement, Declaration, Invitation, Obligation
from conduct.models import (
    BOARD_KINDS,
    GOVERNANCE_ROLE_KINDS,
    AuditLogEntry,
    Organisation,
    OrganisationKind,
    Person,
    Role,
    RoleKind,
    role_label,
)
from conduct.permissions import Action, audit_log_q, can_manage_people, organisations_for, scope_q
from core.db.reads import first_in_one_pass
from reminders.models import ReminderLog

ROLE_STATUSES = {"current": "Current roles", "ended": "Ended roles", "all": "All roles"}
INVITATION_STATES = {"pending": "Invitation not yet accepted", "accepted": "Invitation accepted"}
# Each sort's columns, all in one direction ("-" for descending), the pk last so that the order is total.
SORTS = {
    "name": ("full_name", "pk"),
    "-name": ("-full_name", "-pk"),
    "email": ("email",),
    "-email": ("-email",),
    "last_login": ("last_login", "pk"),
    "-last_login": ("-last_login", "-pk"),
    "joined": ("date_joined", "pk"),
    "-joined": ("-date_joined", "-pk"),
}
# Columns that may be null (never signed in). Ascending, a null comes after every date (PostgreSQL's default,
# NULLS LAST, the order of the index on it); descending, before. Said in the ORDER BY so that SQLite, whose default
# is the other way round, shows the same order, and the keyset below relies on it.
NULLABLE = frozenset({"last_login"})
SORT_LABELS = {
    "name": "Name (A to Z)",
    "-name": "Name (Z to A)",
    "email": "Email (A to Z)",
    "-email": "Email (Z to A)",
    "-last_login": "Signed in most recently",
    "last_login": "Signed in longest ago",
    "-joined": "Newest accounts",
    "joined": "Oldest accounts",
}


def _managed(user: Person, field: str) -> Q:
    """Rows whose ``field`` (a lookup to an Organisation) is where ``user`` manages people."""
    return scope_q(user, Action.MANAGE_PEOPLE, field)


# ---------------------------------------------------------------------------
# The directory
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    organisation: Organisation | None = None  # and everything below it
    kind: str = ""
    roles: str = "current"  # current / ended / all
    overdue: bool = False
    invitation: str = ""  # pending / accepted / ""
    never_signed_in: bool = False
    sort: str = "name"


def _within(user: Person, filters: DirectoryFilters, *, listed: bool = False) -> Q:
    """Rows (with an organisation) where ``user`` manages people, in the filter's organisation or below it. An
    organisation the user manages all of needs no scope besides its own subtree: the same ``path LIKE`` twice
    made PostgreSQL square its selectivity (as in ``reports.selectors.obligations_base``).

    ``listed``: the same organisations read first (one query) and named by id, for a walk that checks thousands
    of people one by one: each check then reads no organisation (on PostgreSQL about 30% less per person)."""
    if listed and not (user.is_superuser and filters.organisation is None):
        organisations = organisations_for(user, Action.MANAGE_PEOPLE)
        if filters.organisation is not None:
            organisations = organisations.filter(path__startswith=filters.organisation.path)
        return Q(organisation_id__in=list(organisations.values_list("pk", flat=True)))
    if filters.organisation is None:
        return _managed(user, "organisation")
    subtree = Q(organisation__path__startswith=filters.organisation.path)
    return subtree if can_manage_people(user, filters.organisation) else subtree & _managed(user, "organisation")


def _matching_roles(user: Person, filters: DirectoryFilters, today: date, *, listed: bool = False) -> QuerySet[Role]:
    roles = Role.objects.filter(_within(user, filters, listed=listed))
    if filters.kind:
        roles = roles.filter(kind=filters.kind)
    if filters.roles == "current":
        roles = roles.current(today)
    elif filters.roles == "ended":
        roles = roles.filter(ends_on__lt=today)
    return roles


def _overdue(user: Person, filters: DirectoryFilters, today: date, *, listed: bool = False) -> QuerySet[Obligation]:
    """What is overdue today through roles still held, where the user manages people (within the filter)."""
    overdue = Obligation.objects.open().for_current_roles(today).filter(due_on__lt=today)
    return overdue.filter(_within(user, filters, listed=listed))


def _person_terms(user: Person, filters: DirectoryFilters, today: date, *, listed: bool, on_roles: bool) -> list[Q]:
    """The filters about the person (search words, overdue, invitation, never signed in), as conditions on the
    people (``on_roles`` False) or on their roles, through the person's columns the roles copy (True)."""

    def column(name: str) -> str:
        return f"person_{name}" if on_roles else name

    person = OuterRef("person_id" if on_roles else "pk")
    terms = [
        Q(**{f"{column('full_name')}__icontains": word}) | Q(**{f"{column('email')}__icontains": word})
        for word in filters.q.split()
    ]
    if filters.overdue:
        overdue = _overdue(user, filters, today, listed=listed)
        terms.append(Q(Exists(overdue.filter(person_id=person).values("pk"))))
    if filters.invitation:
        accepted = Exists(Invitation.objects.filter(person_id=person, accepted_at__isnull=False).values("pk"))
        if filters.invitation == "accepted":
            terms.append(Q(accepted))
        else:
            pending = Exists(Invitation.objects.filter(person_id=person, accepted_at__isnull=True).values("pk"))
            terms.append(Q(pending) & ~Q(accepted))
    if filters.never_signed_in:
        terms.append(Q(**{f"{column('last_login')}__isnull": True}))
    return terms


def directory(user: Person, filters: DirectoryFilters, today: date | None = None) -> QuerySet[Person]:
    """The people ``user`` manages who match ``filters``, sorted (the caller paginates or exports)."""
    today = today or timezone.localdate()
    people = Person.objects.filter(
        Exists(_matching_roles(user, filters, today).filter(person_id=OuterRef("pk")).values("pk"))
    )
    for term in _person_terms(user, filters, today, listed=False, on_roles=False):
        people = people.filter(term)
    return people.order_by(*_ordering(filters.sort))


def directory_walk(user: Person, filters: DirectoryFilters, today: date | None = None) -> QuerySet[Any]:
    """The sort's columns of each person ``directory`` lists, in its order, one row a person, read from their roles
    in reach (which copy those columns, ``conduct.Role.person_full_name`` and the rest) with the scope's
    organisations named by id: for finding the person at a place far down the list (a page opened by its number)
    by walking one covering index on PostgreSQL rather than probing every person's roles on the way."""
    today = today or timezone.localdate()
    roles = _matching_roles(user, filters, today, listed=True)
    for term in _person_terms(user, filters, today, listed=True, on_roles=True):
        roles = roles.filter(term)
    columns = [_role_column(name) for name in _sort_fields(filters.sort)]
    # The sort's columns end with one unique to a person (the pk, or the email), so distinct rows are people.
    return roles.values_list(*columns).distinct().order_by(*_ordering(filters.sort, on_roles=True))


def _sort_fields(sort: str) -> list[str]:
    return [column.lstrip("-") for column in SORTS.get(sort, SORTS["name"])]


def _role_column(name: str) -> str:
    """A person's column as a role copies it: ``person_id`` for the pk, ``person_<name>`` for the others."""
    return "person_id" if name == "pk" else f"person_{name}"


def _ordering(sort: str, *, on_roles: bool = False) -> list[OrderBy]:
    """The ORDER BY of a sort, with the nulls placed as ``NULLABLE`` says (``on_roles``: of the roles' copies)."""
    ordering = []
    for column in SORTS.get(sort, SORTS["name"]):
        name = column.lstrip("-")
        field_name = _role_column(name) if on_roles else name
        if column.startswith("-"):
            ordering.append(F(field_name).desc(nulls_first=True) if name in NULLABLE else F(field_name).desc())
        else:
            ordering.append(F(field_name).asc(nulls_last=True) if name in NULLABLE else F(field_name).asc())
    return ordering


@dataclass(frozen=True)
class DirectoryPage:
    """One page of the directory, read without counting everyone who matches (a count of 50,000 people costs
    more than the page): the page's people, whether there are pages either side, and the people its Previous and
    Next links page from (keyset: the page beside it is read from that person onwards, not by an OFFSET)."""

    number: int
    object_list: list[Person]
    has_next: bool
    per_page: int
    next_after: int | None = None  # the last person's pk, for the Next link
    previous_before: int | None = None  # the first person's pk, for the Previous link

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)


def _whole_number(value: str | int | None, default: int, maximum: int) -> int:
    try:
        return min(max(default, int(value or default)), maximum)
    except (TypeError, ValueError):
        return default


def _equal(name: str, value: object) -> Q:
    return Q(**{f"{name}__isnull": True}) if value is None else Q(**{name: value})


def _past(name: str, value: object, greater: bool) -> Q | None:
    """Rows whose ``name`` comes strictly after (``greater``) or before ``value`` without leaving its kind (a date
    or null); None if none can (nothing differs from null but null)."""
    if value is None:
        return None
    return Q(**{f"{name}__{'gt' if greater else 'lt'}": value})


def _keyset(people: QuerySet[Person], anchor: int, sort: str, *, forward: bool, limit: int) -> list[Person] | None:
    """Up to ``limit`` people after ``anchor`` (a pk among ``people``) in the page's order (``forward``, for a Next
    link), or before it nearest first (for a Previous link); None if ``anchor`` is not among them. Its sort values
    are read in one query, scoped like the page, so nobody outside it serves as a bookmark."""
    values = people.filter(pk=anchor).values_list(*_sort_fields(sort)).first()
    if values is None:
        return None
    return _beyond(people, values, sort, forward=forward, limit=limit)


def _beyond(people: QuerySet[Person], values: tuple, sort: str, *, forward: bool, limit: int) -> list[Person]:
    """Up to ``limit`` people after (``forward``) or before the place whose sort columns hold ``values``."""
    columns = SORTS.get(sort, SORTS["name"])
    fields = [column.lstrip("-") for column in columns]
    greater = forward != columns[0].startswith("-")  # after, in the ascending order of the columns
    terms = []  # equal on the columns before one, past the anchor on that one (the pk, last, is never null)
    for index, name in enumerate(fields):
        if (past := _past(name, values[index], greater)) is not None:
            terms.append(Q(*(_equal(f, v) for f, v in zip(fields[:index], values[:index], strict=True)), past))
    near = reduce(operator.or_, terms)
    first, value = fields[0], values[0]
    if value is not None:  # the first column's bound on its own too: PostgreSQL then starts the index scan there
        near &= Q(**{f"{first}__{'gte' if greater else 'lte'}": value})
    ordered = people if forward else people.reverse()
    if first not in NULLABLE or (value is None) == greater:
        return list(ordered.filter(near)[:limit])  # nobody beyond the anchor's kind (date or null) in this direction
    # Beyond the anchor's kind lie all of the other kind (ascending, the never signed in after every date). One
    # condition for both (an OR) makes PostgreSQL walk the index from its start; two ranges, each from its bound.
    far = Q(**{f"{first}__isnull": value is not None})
    if not connection.features.supports_slicing_ordering_in_compound:  # SQLite
        return list(ordered.filter(near | far)[:limit])
    ordering = _ordering(sort) if forward else [term.reverse_ordering() for term in _ordering(sort)]
    parts = [people.filter(part).order_by(*ordering)[:limit] for part in (near, far)]
    return list(parts[0].union(parts[1], all=True).order_by(*ordering)[:limit])


def _past_offset(walked: QuerySet[Any], people: QuerySet[Person], offset: int, sort: str, limit: int) -> list[Person]:
    """The ``limit`` people from place ``offset`` on: the sort's columns of the person before them read from
    ``walked`` (``directory_walk`` of the same filters) in one pass, then the page read from that person as from a
    Next link."""
    values = first_in_one_pass(walked[offset - 1 : offset])
    if values is None:
        return []
    return _beyond(people, values, sort, forward=True, limit=limit)


def _anchor(value: str | int | None) -> int:
    return _whole_number(value, 0, 2**31 - 1)


def directory_page(
    people: QuerySet[Person],
    number: str | int | None,
    per_page: int,
    *,
    after: str | int | None = None,
    before: str | int | None = None,
    sort: str = "name",
    walked: Callable[[], QuerySet[Any]] | None = None,
) -> DirectoryPage:
    """Page ``number`` (1 if it is not a whole number of at least 1) of ``people``: one query for per_page + 1 rows,
    and one more when ``after`` (the previous page's last person, from a Next link) or ``before`` (the next page's
    first person, from a Previous link) is given, in place of an OFFSET. A page opened by its number alone is read
    past an OFFSET: from the place ``walked`` (``directory_walk`` of the same filters) gives, if given, else from
    ``people`` itself."""
    page, limit = _whole_number(number, 1, 100_000), per_page + 1
    preceding = _keyset(people, anchor, sort, forward=False, limit=limit) if (anchor := _anchor(before)) else None
    following = None
    if preceding is None and (anchor := _anchor(after)):
        following = _keyset(people, anchor, sort, forward=True, limit=limit)
    if preceding is not None:
        rows = preceding[::-1]  # read nearest first
        page = 1 if len(rows) <= per_page else max(page, 2)  # nobody before them: the first page, whatever it said
        rows, has_next = rows[-per_page:], True  # the anchor comes after them
    else:
        offset = (page - 1) * per_page
        if following is None and offset and walked is not None:
            following = _past_offset(walked(), people, offset, sort, limit)
        rows = following if following is not None else list(people[offset : offset + limit])
        rows, has_next = rows[:per_page], len(rows) > per_page
    return DirectoryPage(
        number=page,
        object_list=rows,
        has_next=has_next,
        per_page=per_page,
        next_after=rows[-1].pk if has_next and rows else None,
        previous_before=rows[0].pk if page > 1 and rows else None,
    )


@dataclass
class DirectoryRow:
    person: Person
    roles: list[Role] = field(default_factory=list)
    overdue: int = 0
    invitation: str = ""  # "accepted", "pending" or "" (never invited)

    @property
    def roles_text(self) -> str:
        return "; ".join(role_words(role) for role in self.roles)


def role_words(role: Role) -> str:
    """ "Employee (Teacher) at North Academy, from 1 September 2020 to 31 August 2026"."""
    title = f" ({role.title})" if role.title else ""
    until = f" to {role.ends_on:%-d %B %Y}" if role.ends_on else ""
    return f"{role_label(role.kind)}{title} at {role.organisation.name}, from {role.starts_on:%-d %B %Y}{until}"


# What a directory row shows of a role (``role_words`` and the table's cells): reading only these skips decoding a
# dozen columns of each role and its organisation, fifty a page and 50,000 an export.
DIRECTORY_ROLE_FIELDS = ("person_id", "kind", "title", "starts_on", "ends_on", "organisation__name")


def directory_rows(
    user: Person, people: list[Person], filters: DirectoryFilters, today: date | None = None
) -> list[DirectoryRow]:
    """The page's (or a batch's) people with their roles in reach, overdue count and invitation: three queries."""
    today = today or timezone.localdate()
    ids = [person.pk for person in people]
    if not ids:
        return []
    roles: dict[int, list[Role]] = defaultdict(list)
    visible = (
        _matching_roles(user, DirectoryFilters(organisation=filters.organisation, roles="all"), today)
        .filter(person_id__in=ids)
        .select_related("organisation")
        .only(*DIRECTORY_ROLE_FIELDS)
        .order_by("person_id", "-starts_on", "pk")
    )
    for role in visible:
        roles[role.person_id].append(role)
    overdue = dict(
        _overdue(user, filters, today)
        .filter(person_id__in=ids)
        .values_list("person_id")
        .annotate(n=Count("pk"))
        .values_list("person_id", "n")
    )
    invitations: dict[int, str] = {}
    for person_id, accepted_at in Invitation.objects.filter(person_id__in=ids).values_list("person_id", "accepted_at"):
        if accepted_at is not None or person_id not in invitations:
            invitations[person_id] = "accepted" if accepted_at is not None else "pending"
    return [
        DirectoryRow(person, roles.get(person.pk, []), overdue.get(person.pk, 0), invitations.get(person.pk, ""))
        for person in people
    ]


def directory_export_rows(
    user: Person, filters: DirectoryFilters, batch: int = 1000, today: date | None = None
) -> Iterator[DirectoryRow]:
    """Every matching person as a row, read ``batch`` people at a time (memory stays flat)."""
    today = today or timezone.localdate()
    people = directory(user, filters, today)
    chunk: list[Person] = []
    for person in people.iterator(chunk_size=batch):
        chunk.append(person)
        if len(chunk) == batch:
            yield from directory_rows(user, chunk, filters, today)
            chunk = []
    if chunk:
        yield from directory_rows(user, chunk, filters, today)


# ---------------------------------------------------------------------------
# A person's page
# ---------------------------------------------------------------------------


@dataclass
class PersonPage:
    person: Person
    roles: list[Role]
    owed: list[Obligation]
    signed: list[Acknowledgement]
    declarations: Sequence[Declaration]
    invitations: list[Invitation]
    reminders: list[ReminderLog]
    audit: list[AuditLogEntry]
    audit_more: bool


PERSON_PAGE_AUDIT_ENTRIES = 50
PERSON_PAGE_LIST_LIMIT = 100


def person_page(user: Person, person: Person, today: date | None = None) -> PersonPage:
    """Everything the person's page shows, limited to the organisations where ``user`` manages people.

    Someone reading their own page sees it all (``user`` is ``person``).
    """
    today = today or timezone.localdate()
    own = user.pk == person.pk

    def scoped(field: str) -> Q:
        return Q() if own else _managed(user, field)

    roles = list(
        Role.objects.filter(person=person)
        .filter(scoped("organisation"))
        .select_related("organisation")
        .order_by("-starts_on", "organisation__path", "pk")
    )
    owed = list(
        Obligation.objects.open()
        .for_current_roles(today)
        .filter(person=person)
        .filter(scoped("organisation"))
        .select_related("version__code", "organisation", "role")
        .order_by("due_on", "pk")[:PERSON_PAGE_LIST_LIMIT]
    )
    signed = list(
        Acknowledgement.objects.filter(person=person, corrections__isnull=True)
        .filter(scoped("organisation"))
        .select_related("version__code", "organisation", "recorded_by")
        .order_by("-signed_at", "-pk")[:PERSON_PAGE_LIST_LIMIT]
    )
    declarations = list(
        Declaration.objects.filter(person=person)
        .filter(scoped("organisation"))
        .select_related("organisation", "recorded_by")
        .annotate(interest_count=Count("interests"))
        .order_by("-made_at", "-pk")[:PERSON_PAGE_LIST_LIMIT]
    )
    invitations = list(
        Invitation.objects.filter(person=person)
        .filter(scoped("role__organisation"))
        .select_related("role__organisation", "invited_by")
        .order_by("-created_at", "-pk")[:PERSON_PAGE_LIST_LIMIT]
    )
    reminders = list(
        ReminderLog.objects.filter(recipient=person)
        .filter(scoped("organisation"))
        .select_related("organisation", "code")
        .order_by("-planned_for", "-pk")[:PERSON_PAGE_LIST_LIMIT]
    )
    audit_query = AuditLogEntry.objects.filter(subject=person)
    if not own and not user.is_superuser:
        audit_query = audit_query.filter(_managed(user, "organisation"))
    audit = list(
        audit_query.select_related("actor", "organisation").order_by("-at", "-pk")[: PERSON_PAGE_AUDIT_ENTRIES + 1]
    )
    for obligation in owed:
        obligation.status_now = obligation.status(today)
    return PersonPage(
        person=person,
        roles=roles,
        owed=owed,
        signed=signed,
        declarations=declarations,
        invitations=invitations,
        reminders=reminders,
        audit=audit[:PERSON_PAGE_AUDIT_ENTRIES],
        audit_more=len(audit) > PERSON_PAGE_AUDIT_ENTRIES,
    )


# ---------------------------------------------------------------------------
# The audit page
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""  # words in the actor's name or email
    person: str = ""  # words in the subject's name or email
    subject_id: int | None = None  # from a person's page
    organisation: Organisation | None = None  # and everything below it
    date_from: date | None = None
    date_to: date | None = None


def audit_entries(user: Person, filters: AuditFilters) -> QuerySet[AuditLogEntry]:
    """Entries in the organisations ``user`` administers (``can_view_audit_log``), newest first.

    Entries filed with no organisation (the operator's first-run set-up) are for platform operators only.
    """
    entries = AuditLogEntry.objects.filter(audit_log_q(user))
    if filters.organisation is not None:
        entries = entries.filter(organisation__path__startswith=filters.organisation.path)
    if filters.action:
        entries = entries.filter(action=filters.action)
    for word in filters.actor.split():
        entries = entries.filter(Q(actor__full_name__icontains=word) | Q(actor__email__icontains=word))
    for word in filters.person.split():
        entries = entries.filter(Q(subject__full_name__icontains=word) | Q(subject__email__icontains=word))
    if filters.subject_id is not None:
        entries = entries.filter(subject_id=filters.subject_id)
    zone = timezone.get_current_timezone()
    if filters.date_from is not None:
        entries = entries.filter(at__gte=datetime.combine(filters.date_from, datetime.min.time(), tzinfo=zone))
    if filters.date_to is not None:
        after = filters.date_to + timedelta(days=1)
        entries = entries.filter(at__lt=datetime.combine(after, datetime.min.time(), tzinfo=zone))
    return entries.select_related("actor", "organisation", "subject").order_by("-at", "-pk")


# ---------------------------------------------------------------------------
# "Get information about schools" (GIAS): a board's governance
# ---------------------------------------------------------------------------

GIAS_ROLE_KINDS = frozenset({*GOVERNANCE_ROLE_KINDS, RoleKind.CLERK})
GIAS_HISTORY_DAYS = 365  # GIAS keeps those who stepped down in the last 12 months


@dataclass(frozen=True)
class GiasRow:
    role: Role
    gias_role: str
    forenames: str
    surname: str


def gias_role(role: Role, board: Organisation) -> str:
    """The role in the words GIAS uses for the kind of body the board is."""
    governs_trust = board.governs is not None and board.governs.kind == OrganisationKind.TRUST
    if role.kind == RoleKind.CHAIR:
        return "Chair of trustees" if governs_trust else "Chair of local governing body"
    if role.kind == RoleKind.CLERK:
        return (
            "Governance professional to a multi-academy trust"
            if governs_trust
            else ("Governance professional to a local governing body")
        )
    if role.kind == RoleKind.LOCAL_GOVERNOR:
        return "Local governor"
    return role_label(role.kind)


def split_name(full_name: str) -> tuple[str, str]:
    """Forenames and surname as GIAS asks for them: the last word is the surname."""
    words = full_name.split()
    if len(words) < 2:
        return "", full_name
    return " ".join(words[:-1]), words[-1]


def gias_rows(board: Organisation, today: date | None = None) -> list[GiasRow]:
    """The board's governance roles held now or ended in the last 12 months, by role then name."""
    today = today or timezone.localdate()
    assert board.kind in BOARD_KINDS
    roles = (
        Role.objects.filter(organisation=board, kind__in=GIAS_ROLE_KINDS)
        .served_since(today - timedelta(days=GIAS_HISTORY_DAYS))
        .filter(starts_on__lte=today)
        .select_related("person")
        .order_by("kind", "person__full_name", "starts_on", "pk")
    )
    rows = []
    for role in roles:
        forenames, surname = split_name(role.person.full_name)
        rows.append(GiasRow(role=role, gias_role=gias_role(role, board), forenames=forenames, surname=surname))
    return rows
