"""The one place that answers "may this person do this in this organisation?".

Every view asks here; nothing else grants access. The rules:

- A superuser may do everything.
- An **admin** of an organisation reaches it and everything below it in the tree
  (a trust admin reaches its academies, its trust board and the local boards; a
  school admin reaches only their school).
- A **chair** or **clerk** reaches their board and what sits below it
  (committees; for a trust board, the local governing boards). For the yearly
  governance cycle (drafting, meetings, adoption) they also reach the
  organisation their board governs, so a trust board's clerk can draft the
  trust's code.
- Everyone reaches their own records.

Only current roles count: a clerk whose term ended yesterday has no reach today.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.contrib.auth.models import AnonymousUser
from django.db.models import JSONField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, JSONArray
from django.utils import timezone

from conduct.models import (
    BOARD_KINDS,
    OFFICER_ROLE_KINDS,
    Adoption,
    Code,
    CodeVersion,
    NetworkMembership,
    Organisation,
    OrganisationKind,
    Person,
    Role,
    RoleKind,
    VersionStatus,
    root_path,
)
from core.db.aggregates import JSONArrayAgg


class Action(StrEnum):
    VIEW_REPORTS = "view_reports"  # dashboards, drill-downs, exports, archives
    VIEW_RECORDS = "view_records"  # other people's acknowledgements and declarations
    MANAGE_PEOPLE = "manage_people"  # invite, import, end roles
    RECORD_ON_BEHALF = "record_on_behalf"  # paper signatures
    DRAFT = "draft"  # prepare versions of codes owned here
    HOLD_MEETINGS = "hold_meetings"
    ADOPT = "adopt"
    MANAGE_REMINDERS = "manage_reminders"
    PUBLISH_REGISTER = "publish_register"
    GRANT_OFFICER_ROLES = "grant_officer_roles"  # invite someone as an admin, chair or clerk
    MANAGE_ORGANISATIONS = "manage_organisations"  # add, rename, move and close organisations; network memberships


ADMIN, CHAIR, CLERK = RoleKind.ADMIN.value, RoleKind.CHAIR.value, RoleKind.CLERK.value

# Which role kinds grant which actions.
GRANTS: dict[Action, frozenset[str]] = {
    Action.VIEW_REPORTS: frozenset({ADMIN, CHAIR, CLERK}),
    Action.VIEW_RECORDS: frozenset({ADMIN, CHAIR, CLERK}),
    Action.MANAGE_PEOPLE: frozenset({ADMIN, CLERK}),
    Action.RECORD_ON_BEHALF: frozenset({ADMIN, CLERK}),
    Action.DRAFT: frozenset({ADMIN, CHAIR, CLERK}),
    Action.HOLD_MEETINGS: frozenset({ADMIN, CHAIR, CLERK}),
    Action.ADOPT: frozenset({ADMIN, CHAIR, CLERK}),
    Action.MANAGE_REMINDERS: frozenset({ADMIN}),
    Action.PUBLISH_REGISTER: frozenset({ADMIN}),
    # Clerks invite people, but only an admin hands out the roles that grant reach over others.
    Action.GRANT_OFFICER_ROLES: frozenset({ADMIN}),
    Action.MANAGE_ORGANISATIONS: frozenset({ADMIN}),
}

# Actions of the governance cycle, for which a board's officers also reach what the board governs.
GOVERNANCE_ACTIONS = frozenset({Action.DRAFT, Action.HOLD_MEETINGS, Action.ADOPT})


@dataclass(frozen=True)
class Grant:
    kind: str
    path: str  # the organisation's materialised path; the grant covers it and everything below
    governs_path: str  # for a board's officers: the path of what the board governs, else ""

    def covers(self, organisation_path: str, action: Action) -> bool:
        if organisation_path.startswith(self.path):
            return True
        return (
            bool(self.governs_path) and action in GOVERNANCE_ACTIONS and organisation_path.startswith(self.governs_path)
        )

    def scope_q(self, action: Action, field: str = "path") -> Q:
        query = Q(**{f"{field}__startswith": self.path})
        if self.governs_path and action in GOVERNANCE_ACTIONS:
            query |= Q(**{f"{field}__startswith": self.governs_path})
        return query


# Where grants_for caches a person's grants: on the user object of the request, which Person does not declare.
GRANTS_CACHE_ATTRIBUTE = "_conduct_grants"
# The signed-in user's current roles, read with the user (``conduct.branding.signed_in_user``): a JSON array of
# [kind, organisation's path, path of what it governs or ""], from which grants and reach are answered with no query.
VIEWER_ROLES_ATTRIBUTE = "viewer_roles"


def with_viewer_roles(people: QuerySet[Person], on: date | None = None) -> QuerySet[Person]:
    """``people`` with their roles current ``on`` (today) annotated as ``VIEWER_ROLES_ATTRIBUTE`` (null: none)."""
    roles = (
        Role.objects.current(on)
        .filter(person=OuterRef("pk"))
        .order_by()
        .values("person")
        .annotate(
            rows=JSONArrayAgg(
                JSONArray("kind", "organisation__path", Coalesce("organisation__governs__path", Value("")))
            )
        )
        .values("rows")
    )
    return people.annotate(**{VIEWER_ROLES_ATTRIBUTE: Subquery(roles, output_field=JSONField())})


def _viewer_roles(user: Person) -> list[tuple[str, str, str]] | None:
    """The user's current roles as read with them (kind, path, governs path), or None if they were read otherwise."""
    if not hasattr(user, VIEWER_ROLES_ATTRIBUTE):
        return None
    rows = getattr(user, VIEWER_ROLES_ATTRIBUTE)
    if isinstance(rows, str | bytes):  # a raw statement leaves the array as the driver gives it: SQLite's text
        rows = json.loads(rows)
    return [(kind, path, governs) for kind, path, governs in rows or ()]


def grants_for(user: Person) -> tuple[Grant, ...]:
    """The officer grants a person holds today, read once per request and cached on the user (no query for a user
    signed in through ``conduct.auth_backends``: their roles came with them)."""
    if not getattr(user, "is_authenticated", False):
        return ()
    cached = getattr(user, GRANTS_CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    roles = _viewer_roles(user)
    if roles is None:
        roles = list(
            Role.objects.current(timezone.localdate())
            .filter(person=user, kind__in=OFFICER_ROLE_KINDS)
            .values_list("kind", "organisation__path", Coalesce("organisation__governs__path", Value("")))
        )
    grants = tuple(
        Grant(kind=kind, path=path, governs_path=governs if kind in (CHAIR, CLERK) else "")
        for kind, path, governs in roles
        if kind in OFFICER_ROLE_KINDS
    )
    setattr(user, GRANTS_CACHE_ATTRIBUTE, grants)
    return grants


def role_kinds_under(user: Person, path: str) -> frozenset[str]:
    """The kinds of role ``user`` holds today in the organisation at ``path`` or below it: from the roles read with
    the signed-in user, else one query."""
    roles = _viewer_roles(user)
    if roles is None:
        return frozenset(
            Role.objects.current()
            .filter(person=user, organisation__path__startswith=path)
            .values_list("kind", flat=True)
        )
    return frozenset(kind for kind, role_path, _governs in roles if role_path.startswith(path))


def can(user: Person | AnonymousUser, action: Action, organisation: Organisation) -> bool:
    """May ``user`` do ``action`` in ``organisation``? An anonymous or inactive user may do nothing."""
    if not isinstance(user, Person) or not user.is_active:  # a Person is always authenticated
        return False
    if user.is_superuser:
        return True
    allowed = GRANTS[action]
    return any(g.kind in allowed and g.covers(organisation.path, action) for g in grants_for(user))


def organisations_for(user: Person, action: Action) -> QuerySet[Organisation]:
    """Every organisation in which ``user`` may do ``action`` (for scoping list views)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.all()
    query = Q(pk__in=[])
    for grant in grants_for(user):
        if grant.kind in GRANTS[action]:
            query |= grant.scope_q(action)
    return Organisation.objects.filter(query)


def scope_q(user: Person, action: Action, organisation_field: str) -> Q:
    """A filter limiting any query set to rows whose ``organisation_field`` the user may act on.

    ``organisation_field`` is the lookup from the model to an Organisation, e.g.
    ``"organisation"`` or ``"role__organisation"``. Used by reports so scoping
    is one join, not a list of ids.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    query = Q(pk__in=[])
    for grant in grants_for(user):
        if grant.kind in GRANTS[action]:
            query |= grant.scope_q(action, field=f"{organisation_field}__path")
    return query


def may_somewhere(user: Person, action: Action) -> bool:
    """Whether ``user`` may do ``action`` in at least one organisation (from the cached grants: no query)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or any(grant.kind in GRANTS[action] for grant in grants_for(user))


def is_officer(user: Person) -> bool:
    """Holds a current admin, chair or clerk role anywhere (or is a superuser)."""
    return bool(getattr(user, "is_authenticated", False) and (user.is_superuser or grants_for(user)))


def can_read_version(user: Person, version: CodeVersion) -> bool:
    """Drafts: only those who may draft for the code's owner. Adopted text: anyone it concerns.

    "Concerns" means the person owes (or owed) a version of the code, holds a
    current role in the owning organisation or below it, or is an officer there.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    owner = version.code.owner
    if version.status == "draft":
        return can(user, Action.DRAFT, owner)
    if can(user, Action.VIEW_RECORDS, owner) or can(user, Action.DRAFT, owner):
        return True
    if role_kinds_under(user, owner.path):  # read with the signed-in user: no query
        return True
    # Through the relation acknowledgements adds to Person, not an import of it (a lower layer).
    return user.obligations.filter(code_id=version.code_id).exists()


def boards_for_adoption(user: Person, code: Code) -> QuerySet[Organisation]:
    """Boards of the code's owner (or below it) for which the user may adopt."""
    return (
        organisations_for(user, Action.ADOPT)
        .filter(kind__in=BOARD_KINDS, path__startswith=code.owner.path)
        .select_related("governs")
        .order_by("path")
    )


def can_follow_code(user: Person, code: Code) -> bool:
    """Officers who draft for, report on, or adopt for a code see its history and adoptions."""
    return (
        can(user, Action.DRAFT, code.owner)
        or can(user, Action.VIEW_RECORDS, code.owner)
        or boards_for_adoption(user, code).exists()
    )


def can_view_adoption(user: Person, adoption: Adoption) -> bool:
    """An adoption (and its certificate) is seen by those who adopt for its board or follow its code."""
    return can(user, Action.ADOPT, adoption.board) or can_follow_code(user, adoption.version.code)


def codes_followed_by(user: Person) -> QuerySet[Code]:
    """The codes ``can_follow_code`` lets the user follow, as one query set.

    A board adopts the codes of the organisations above it, so an officer who adopts
    for a board follows the codes owned by any organisation on that board's path.
    """
    adopting_paths = organisations_for(user, Action.ADOPT).filter(kind__in=BOARD_KINDS).values_list("path", flat=True)
    above_their_boards = {pk for path in adopting_paths for pk in Organisation(path=path).ancestor_ids()}
    return Code.objects.filter(
        Q(owner__in=organisations_for(user, Action.DRAFT).values("pk"))
        | Q(owner__in=organisations_for(user, Action.VIEW_RECORDS).values("pk"))
        | Q(owner_id__in=above_their_boards)
    )


def codes_administered_by(user: Person) -> QuerySet[Code]:
    """Codes owned where the user may draft or view reports: those an officer's home page lists."""
    reachable = organisations_for(user, Action.VIEW_REPORTS) | organisations_for(user, Action.DRAFT)
    return Code.objects.filter(owner__in=reachable.values("pk"))


# ---------------------------------------------------------------------------
# Drafting: creating codes, preparing versions, previewing them
# ---------------------------------------------------------------------------

# Kinds of organisation that own codes. Boards and committees adopt codes; they do not own them.
CODE_OWNER_KINDS = (OrganisationKind.NETWORK, OrganisationKind.HUB, OrganisationKind.TRUST, OrganisationKind.SCHOOL)


def owners_for_new_code(user: Person) -> QuerySet[Organisation]:
    """The organisations the user may create a code for: those they draft for that own codes."""
    return organisations_for(user, Action.DRAFT).filter(kind__in=CODE_OWNER_KINDS).order_by("path")


def can_create_code(user: Person) -> bool:
    return owners_for_new_code(user).exists()


def can_draft_code(user: Person, code: Code) -> bool:
    """Prepare the code's versions and change its settings: those who may draft for its owner."""
    return can(user, Action.DRAFT, code.owner)


def can_preview_as(user: Person, code: Code) -> bool:
    """Read a version as one role of the code's audience sees it (a signer sees only their roles' clauses).

    For the officers who draft for the code's owner or see its records: they check what each role signs.
    """
    return can(user, Action.DRAFT, code.owner) or can(user, Action.VIEW_RECORDS, code.owner)


def versions_readable_by(user: Person, code: Code) -> list[CodeVersion]:
    """The code's versions the user may read, newest first: adopted text if it concerns them, drafts if they draft.

    Readability is the same for every adopted version of a code, so it is asked once, not per version.
    """
    versions = list(code.versions.select_related("code__owner", "based_on").order_by("-created_at"))
    adopted = next((v for v in versions if v.status != VersionStatus.DRAFT), None)
    reads_adopted = adopted is not None and can_read_version(user, adopted)
    drafts = can_draft_code(user, code)
    return [v for v in versions if (drafts if v.status == VersionStatus.DRAFT else reads_adopted)]


def versions_copyable_by(user: Person) -> QuerySet[CodeVersion]:
    """Adopted versions a user may copy into a new code: of codes offered as models, or owned where they draft."""
    own = organisations_for(user, Action.DRAFT).values("pk")
    return (
        CodeVersion.objects.exclude(status=VersionStatus.DRAFT)
        .filter(Q(code__offered_as_model=True) | Q(code__owner__in=own))
        .select_related("code__owner")
        .order_by("code__title", "-adopted_at")
    )


# ---------------------------------------------------------------------------
# Boards: meetings and adoption
# ---------------------------------------------------------------------------


def can_hold_meetings(user: Person, board: Organisation) -> bool:
    """Record a board's meetings and who attended: its officers, and those of the organisations above it."""
    return can(user, Action.HOLD_MEETINGS, board)


def boards_for_meetings(user: Person) -> QuerySet[Organisation]:
    """Every board and committee whose meetings the user records, in tree order."""
    return organisations_for(user, Action.HOLD_MEETINGS).filter(kind__in=BOARD_KINDS).order_by("path")


def can_take_to_adoption(user: Person, version: CodeVersion) -> bool:
    """Open a version's adoption pages: officers who follow its code; for a draft, only those who draft it."""
    if version.status == VersionStatus.DRAFT and not can_draft_code(user, version.code):
        return False
    return can_follow_code(user, version.code)


# --- Records and people (acknowledgements' pages)
#
# The rules of the pages built on acknowledgements, reminders and reports. Those apps sit above
# conduct, so nothing here imports their models: a rule takes the facts it decides on (a person's
# id, an organisation, a role kind), and a rule for a list is a Q that the app applies to its own
# query set, given the lookup from its model to the organisation.


def can_view_record(user: Person, *, person_id: int, organisation: Organisation) -> bool:
    """A signed record or a declaration: seen by its person, and by officers who view records where it was made."""
    if getattr(user, "is_authenticated", False) and user.pk == person_id:
        return True
    return can(user, Action.VIEW_RECORDS, organisation)


def can_record_on_behalf(user: Person, organisation: Organisation) -> bool:
    """Records a paper signature for someone who owes a code in ``organisation``."""
    return can(user, Action.RECORD_ON_BEHALF, organisation)


def can_correct_record(user: Person, *, on_behalf: bool, organisation: Organisation) -> bool:
    """Only a paper record is corrected, by someone who records paper signatures where it was made."""
    return on_behalf and can_record_on_behalf(user, organisation)


def records_paper_signatures(user: Person) -> bool:
    """Records paper signatures in at least one organisation (from the cached grants: no query)."""
    return may_somewhere(user, Action.RECORD_ON_BEHALF)


def paper_signatures_q(user: Person, organisation_field: str) -> Q:
    """Rows (obligations) in the organisations where ``user`` records paper signatures."""
    return scope_q(user, Action.RECORD_ON_BEHALF, organisation_field)


def can_manage_people(user: Person, organisation: Organisation) -> bool:
    """Invites people to ``organisation``, imports them, resends their invitations (admins and clerks)."""
    return can(user, Action.MANAGE_PEOPLE, organisation)


def organisations_managed_by(user: Person) -> QuerySet[Organisation]:
    """Where ``user`` invites and imports people (admins and clerks), in tree order."""
    return organisations_for(user, Action.MANAGE_PEOPLE).order_by("path")


def manages_people(user: Person) -> bool:
    """Invites or imports people in at least one organisation (from the cached grants: no query)."""
    return may_somewhere(user, Action.MANAGE_PEOPLE)


def managed_people_q(user: Person, organisation_field: str) -> Q:
    """Rows (invitations) in the organisations where ``user`` manages people."""
    return scope_q(user, Action.MANAGE_PEOPLE, organisation_field)


def may_grant_role(user: Person, kind: str, organisation: Organisation) -> bool:
    """Who may give someone a role of ``kind`` in ``organisation``.

    Clerks invite people, but an admin, chair or clerk reaches other people's records,
    so only those who may grant officer roles (admins) hand those out.
    """
    if kind in OFFICER_ROLE_KINDS:
        return can(user, Action.GRANT_OFFICER_ROLES, organisation)
    return can_manage_people(user, organisation)


def role_kinds_grantable(user: Person, organisations: QuerySet[Organisation]) -> list[str]:
    """The role kinds ``user`` may grant in at least one of ``organisations``, in RoleKind order (a form's choices)."""
    among = list(organisations)
    return [kind for kind in RoleKind.values if any(may_grant_role(user, kind, org) for org in among)]


def organisations_for_reminders(user: Person) -> QuerySet[Organisation]:
    """Where ``user`` sets reminder steps and reads the reminder log (admins)."""
    return organisations_for(user, Action.MANAGE_REMINDERS)


def manages_reminders(user: Person) -> bool:
    """Manages reminders in at least one organisation (from the cached grants: no query)."""
    return may_somewhere(user, Action.MANAGE_REMINDERS)


def codes_for_reminders(user: Person) -> QuerySet[Code]:
    """Codes owned where ``user`` manages reminders: the ones whose steps they may change."""
    return Code.objects.filter(owner__in=organisations_for_reminders(user).values("pk"))


def reminders_q(user: Person, organisation_field: str) -> Q:
    """Rows (reminders sent) in the organisations where ``user`` manages reminders."""
    return scope_q(user, Action.MANAGE_REMINDERS, organisation_field)


def organisations_for_reports(user: Person) -> QuerySet[Organisation]:
    """Where ``user`` runs reports (dashboards, exports, archives, registers), in tree order."""
    return organisations_for(user, Action.VIEW_REPORTS).order_by("path")


def reports_reach_path(user: Person, path: str) -> bool:
    """Whether the organisation at ``path`` is above, at or below one that ``user`` runs reports for.

    A code owned there can be owed in the user's organisations (or in one below them), so the
    user may name it in a report's filters. From the cached grants: no query.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    allowed = GRANTS[Action.VIEW_REPORTS]
    return any(
        grant.kind in allowed and (path.startswith(grant.path) or grant.path.startswith(path))
        for grant in grants_for(user)
    )


def can_report_on_school(user: Person, school_id: int) -> bool:
    """A school ``user`` runs reports for, or a member school of a network or hub they run reports for."""
    reachable = organisations_for(user, Action.VIEW_REPORTS)
    if reachable.filter(pk=school_id).exists():
        return True
    networks = reachable.filter(kind__in=[OrganisationKind.NETWORK, OrganisationKind.HUB])
    # Accepted memberships, past ones too: a report as at an earlier day may cover a school that has since left.
    return NetworkMembership.objects.accepted().filter(school_id=school_id, network__in=networks).exists()


def can_view_report_job(user: Person, *, requested_by_id: int | None, organisation: Organisation) -> bool:
    """A background report is seen by whoever asked for it, and only while they still run reports there."""
    if not getattr(user, "is_authenticated", False) or user.pk != requested_by_id:
        return False
    return can(user, Action.VIEW_REPORTS, organisation)


def can_publish_register(user: Person, organisation: Organisation) -> bool:
    """Makes the organisation's register of interests public, or takes it down (admins)."""
    return can(user, Action.PUBLISH_REGISTER, organisation)


# --- Organisations and network memberships (conduct.organisations)
#
# Admins shape their own tree: whoever manages an organisation adds organisations under it and
# renames it; moving or closing one is decided by whoever manages what it sits under. The top of a
# tree (a trust or network) is set up, moved and closed only by a platform operator.


def can_manage_organisation(user: Person, organisation: Organisation) -> bool:
    """Renames ``organisation`` and changes what sits below it (admins of it or of anything above it)."""
    return can(user, Action.MANAGE_ORGANISATIONS, organisation)


def organisations_administered_by(user: Person) -> QuerySet[Organisation]:
    """Where ``user`` shapes the tree (``can_manage_organisation``), in tree order: the Organisations page."""
    return organisations_for(user, Action.MANAGE_ORGANISATIONS).order_by("path")


def manages_organisations(user: Person) -> bool:
    """Manages at least one organisation (from the cached grants: no query)."""
    return may_somewhere(user, Action.MANAGE_ORGANISATIONS)


def can_see_evidence_checks(user: Person) -> bool:
    """Sees whether the last check of all the evidence passed (the governance page): admins and operators."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active) and (
        user.is_superuser or manages_organisations(user)
    )


def can_see_evidence_check_items(user: Person) -> bool:
    """Sees each broken item of an evidence check (they may be in any trust): platform operators only."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def can_add_organisation_under(user: Person, parent: Organisation | None) -> bool:
    """Creates an organisation below ``parent``; a new top of a tree (no parent) only for a platform operator."""
    if parent is None:
        return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)
    return can_manage_organisation(user, parent)


def can_close_organisation(user: Person, organisation: Organisation) -> bool:
    """Closes ``organisation``: those who manage what it sits under (a school admin cannot close their school)."""
    return can_add_organisation_under(user, organisation.parent)


def can_move_organisation(user: Person, organisation: Organisation, new_parent: Organisation) -> bool:
    """Moves ``organisation`` below ``new_parent``: those who manage both where it is and where it goes."""
    return can_close_organisation(user, organisation) and can_manage_organisation(user, new_parent)


def can_request_membership(user: Person, network: Organisation) -> bool:
    """Asks a school to join ``network`` (or a hub): the network's admins. The school decides."""
    return can_manage_organisation(user, network)


def can_accept_membership(user: Person, membership: NetworkMembership) -> bool:
    """Accepts a network's request: those who manage the school (its admins, its trust's), not the network's."""
    return can_manage_organisation(user, membership.school)


def can_end_membership(user: Person, membership: NetworkMembership) -> bool:
    """Ends a membership: either side may, the network's admins or the school's."""
    return can_manage_organisation(user, membership.network) or can_manage_organisation(user, membership.school)


def can_view_audit_log(user: Person, organisation: Organisation) -> bool:
    """Reads the officers' audit log of ``organisation`` (and below it): its admins."""
    return can_manage_organisation(user, organisation)


# --- People: the directory, a person's page, joiners, movers and leavers (conduct.people)
#
# An officer who manages people (admins; clerks for their boards) reaches a person through a role
# the person holds, or held, in an organisation the officer manages. Only admins grant or change the
# officer roles (``may_grant_role``). A person who holds an officer role today, or a platform
# operator, is changed only by those who could have granted every such role they hold, so a clerk
# cannot take over an admin's account by changing its email address.


def people_managed_q(user: Person, role_field: str = "roles") -> Q:
    """People (a Person query set's filter) holding or having held a role where ``user`` manages people.

    ``role_field`` is the lookup from the model to its roles ("roles" from Person). Apply it with
    ``.filter(...).distinct()`` or inside ``Exists``: a person with two such roles matches twice.
    """
    return scope_q(user, Action.MANAGE_PEOPLE, f"{role_field}__organisation")


ERASED_EMAIL_DOMAIN = "erased.invalid"  # RFC 2606: can never be delivered to


def erased_email(person_id: int) -> str:
    """The address ``privacy.erasure`` gives a person whose personal data it erased."""
    return f"erased-{person_id}@{ERASED_EMAIL_DOMAIN}"


def is_erased_person(person: Person) -> bool:
    """Their personal data was erased: nobody may write a name, address, account or role back onto the record.

    The erased address and a closed account (erasure does both): the address alone, were it ever typed onto a
    live account, must not make that account unchangeable.
    """
    return person.email == erased_email(person.pk) and not person.is_active


def can_view_person(user: Person, person: Person) -> bool:
    """Sees a person's page (details, roles, records, audit trail): themselves, and those who manage them."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.pk == person.pk or user.is_superuser:
        return True
    return Role.objects.filter(person=person).filter(scope_q(user, Action.MANAGE_PEOPLE, "organisation")).exists()


def can_change_person(user: Person, person: Person) -> bool:
    """Corrects a person's name or email, deactivates or reactivates their account.

    Those who manage them, provided they could grant every officer role the person holds today;
    a platform operator only by another. Nobody deactivates themselves (``can_deactivate_person``).
    """
    if not can_view_person(user, person) or (user.pk == person.pk and not user.is_superuser):
        return False
    if is_erased_person(person):
        return False
    if user.is_superuser:
        return True
    if person.is_superuser:
        return False
    officer_roles = (
        Role.objects.current().filter(person=person, kind__in=OFFICER_ROLE_KINDS).select_related("organisation")
    )
    return all(may_grant_role(user, role.kind, role.organisation) for role in officer_roles)


def can_deactivate_person(user: Person, person: Person) -> bool:
    """Stops a person signing in (their history stays): as ``can_change_person``, never one's own account."""
    return user.pk != person.pk and can_change_person(user, person)


def can_erase_person(user: Person, person: Person) -> bool:
    """Erases a person's personal data or puts it under a legal hold (issue 13, ``privacy``).

    Only an admin of the person's trust, at the top of its tree, and only when every role the person ever
    held is in that trust: a school's admin, another trust's admin and the person themselves never may.
    A platform operator may; the operator's own accounts (superusers) are never erased from the app.
    """
    if not isinstance(user, Person) or not user.is_active or user.pk == person.pk or person.is_superuser:
        return False
    if user.is_superuser:
        return True
    trusts = {
        root_path(path) for path in Role.objects.filter(person=person).values_list("organisation__path", flat=True)
    }
    administered = {
        grant.path for grant in grants_for(user) if grant.kind == ADMIN and grant.path == root_path(grant.path)
    }
    return bool(trusts) and trusts <= administered


def can_change_role(user: Person, role: Role) -> bool:
    """Ends a role or changes its governance details: whoever may grant a role of that kind there."""
    return may_grant_role(user, role.kind, role.organisation)


def can_export_gias(user: Person, board: Organisation) -> bool:
    """The governance export for "Get information about schools": those who manage the board's people."""
    return board.kind in BOARD_KINDS and can_manage_people(user, board)


def boards_for_gias(user: Person) -> QuerySet[Organisation]:
    """The boards and committees whose governance ``user`` exports for GIAS (``can_export_gias``), in tree order."""
    return organisations_managed_by(user).filter(kind__in=BOARD_KINDS).select_related("governs")


def people_directory_organisations(user: Person) -> QuerySet[Organisation]:
    """What the people directory may be filtered by: where ``user`` manages people, in tree order."""
    return organisations_managed_by(user)


def audit_log_organisations(user: Person) -> QuerySet[Organisation]:
    """Organisations whose audit log ``user`` reads (``can_view_audit_log``), in tree order: the audit page's filter."""
    return organisations_administered_by(user)


def audit_log_q(user: Person, organisation_field: str = "organisation") -> Q:
    """Audit entries ``user`` reads: those filed where they administer (an operator's unfiled ones for superusers)."""
    return scope_q(user, Action.MANAGE_ORGANISATIONS, organisation_field)


def reads_audit_log(user: Person) -> bool:
    """Reads an audit log somewhere (from the cached grants: no query)."""
    return manages_organisations(user)


# --- Provisioning (the provisioning app: roster sync by CSV, SCIM 2.0 tokens)
#
# An organisation's admins create and revoke its provisioning tokens and synchronise its whole roster
# from a file. A token acts for its organisation and everything below it; it never grants an officer
# role (those stay with admins, in the app), and it changes a person's name, email or account only
# while every role the person holds today is within its reach, so one trust's identity provider can
# never rename or switch off someone another trust also employs.


def can_manage_provisioning(user: Person, organisation: Organisation) -> bool:
    """Creates and revokes ``organisation``'s provisioning tokens and syncs its roster from a file: its admins."""
    return can(user, Action.MANAGE_ORGANISATIONS, organisation)


def organisations_provisioned_by(user: Person) -> QuerySet[Organisation]:
    """Where ``user`` manages provisioning (``can_manage_provisioning``), in tree order."""
    return organisations_for(user, Action.MANAGE_ORGANISATIONS).order_by("path")


def manages_provisioning(user: Person) -> bool:
    """Manages provisioning in at least one organisation (from the cached grants: no query)."""
    return may_somewhere(user, Action.MANAGE_ORGANISATIONS)


def token_reaches(token_organisation: Organisation, organisation: Organisation) -> bool:
    """A provisioning token of ``token_organisation`` acts in ``organisation``: it or below it, and still open."""
    today = timezone.localdate()
    return organisation.path.startswith(token_organisation.path) and (
        organisation.closed_on is None or organisation.closed_on > today
    )


def token_may_grant_role(token_organisation: Organisation, kind: str, organisation: Organisation) -> bool:
    """A token starts or ends roles of ``kind`` in ``organisation``: within its reach, never an officer role."""
    return (
        kind in RoleKind.values and kind not in OFFICER_ROLE_KINDS and token_reaches(token_organisation, organisation)
    )


def token_may_change_person(token_organisation: Organisation, person: Person) -> bool:
    """A token changes a person's name, email or account: never an operator's, and only while every role the
    person holds today is within its reach."""
    if person.is_superuser or person.is_staff:
        return False
    return (
        not Role.objects.current()
        .filter(person=person)
        .exclude(organisation__path__startswith=token_organisation.path)
        .exists()
    )


def remind_now_q(user: Person, organisation_field: str = "organisation") -> Q:
    """Obligations whose owers ``user`` may remind at once from the drill-down: where they chase people
    (admins and clerks, as for inviting and paper signatures)."""
    return scope_q(user, Action.MANAGE_PEOPLE, organisation_field)


def may_remind_now(user: Person) -> bool:
    """Sends reminders at once somewhere (from the cached grants: no query); the drill-down offers it."""
    return may_somewhere(user, Action.MANAGE_PEOPLE)


def people_changeable_by(user: Person, person_ids: set[int]) -> set[int]:
    """Which of ``person_ids`` ``user`` may change (``can_change_person``), in three queries for any number.

    Someone the user manages who holds no officer role today and is not an operator is changeable
    (``can_change_person`` asks nothing more of them); everyone else is asked one by one.
    """
    if not person_ids or not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    erased = Q(email__endswith=f"@{ERASED_EMAIL_DOMAIN}")
    if user.is_superuser:
        candidates = Person.objects.filter(pk__in=person_ids).filter(erased)
        return set(person_ids) - {person.pk for person in candidates if is_erased_person(person)}
    managed = set(
        Role.objects.filter(person_id__in=person_ids)
        .filter(scope_q(user, Action.MANAGE_PEOPLE, "organisation"))
        .values_list("person_id", flat=True)
    )
    special = set(
        Role.objects.current()
        .filter(person_id__in=managed, kind__in=OFFICER_ROLE_KINDS)
        .values_list("person_id", flat=True)
    ) | set(Person.objects.filter(pk__in=managed).filter(Q(is_superuser=True) | erased).values_list("pk", flat=True))
    changeable = managed - special - {user.pk}
    for person in Person.objects.filter(pk__in=(managed & special) - changeable):
        if can_change_person(user, person):
            changeable.add(person.pk)
    return changeable


def can_change_branding(user: Person, organisation: Organisation) -> bool:
    """A trust's (or network's) logo and accent colour: its admins, for the top of the tree only."""
    return organisation.parent_id is None and can(user, Action.MANAGE_ORGANISATIONS, organisation)


# --- Retention (privacy.retention): the schedule in force and what is due, for admins
#
# An admin sees what is due in the organisations they administer (a trust admin: their whole trust;
# a school admin: their school); erasing a person stays with ``can_erase_person``.


def reviews_retention(user: Person) -> bool:
    """Sees the retention page: admins of any organisation, and platform operators (from the grants: no query)."""
    return manages_organisations(user)


def retention_organisations(user: Person) -> QuerySet[Organisation]:
    """The tops of what ``user`` administers (their trust, or their school), in tree order: the page's scopes."""
    administered = organisations_for(user, Action.MANAGE_ORGANISATIONS)
    return administered.exclude(parent__in=administered).order_by("path")
