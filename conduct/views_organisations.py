"""Pages for setting organisations up in the app: the tree, adding, renaming, moving and closing
organisations, network memberships, and the officers' audit log.

Each view: a permission-scoped getter (404 for what the user may not change, like the rest of the
app), a form, one call into ``conduct.organisations``, a redirect with a confirmation message.
The services refuse bad input by field and save nothing; ``add_service_errors`` puts each message
beside its field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from conduct import organisations as services
from conduct.audit import audit_log_entries
from conduct.forms_organisations import (
    MembershipEndForm,
    MembershipRequestForm,
    OrganisationCloseForm,
    OrganisationCreateForm,
    OrganisationMoveForm,
    OrganisationRenameForm,
    SchoolSearchForm,
    kind_label,
)
from conduct.http import AuthenticatedHttpRequest
from conduct.models import BOARD_KINDS, MembershipStatus, NetworkMembership, Organisation, OrganisationKind, Person
from conduct.organisations import ALLOWED_CHILDREN, GOVERNABLE_KINDS, NETWORK_KINDS
from conduct.permissions import (
    can_accept_membership,
    can_add_organisation_under,
    can_close_organisation,
    can_end_membership,
    can_manage_organisation,
    can_move_organisation,
    can_request_membership,
    can_view_audit_log,
    organisations_administered_by,
)
from core.forms import add_service_errors

TREES_PER_PAGE = 10  # a trust's admin has one tree; a platform operator sees every trust and network
AUDIT_ENTRIES_PER_PAGE = 25
MEMBERS_PER_PAGE = 50
SCHOOLS_PER_PAGE = 20


# ---------------------------------------------------------------------------
# Permission-scoped lookups
# ---------------------------------------------------------------------------


def _organisation(
    request: AuthenticatedHttpRequest, slug: str, allowed: Callable[[Person, Organisation], bool]
) -> Organisation:
    """The organisation with this slug, if ``allowed`` (a rule of conduct.permissions) lets the user act on it."""
    organisation = get_object_or_404(Organisation.objects.select_related("parent"), slug=slug)
    if not allowed(request.user, organisation):
        raise Http404("No such organisation.")
    return organisation


def _network(request: AuthenticatedHttpRequest, slug: str) -> Organisation:
    """A network or hub whose admins the user is among: they see its member schools and invite others."""
    network = _organisation(request, slug, can_request_membership)
    if network.kind not in NETWORK_KINDS:
        raise Http404("Only networks and hubs have member schools.")
    return network


def _membership(
    request: AuthenticatedHttpRequest, pk: int, allowed: Callable[[Person, NetworkMembership], bool]
) -> NetworkMembership:
    membership = get_object_or_404(NetworkMembership.objects.select_related("network", "school"), pk=pk)
    if not allowed(request.user, membership):
        raise Http404("No such membership.")
    return membership


def _tree_url(organisation: Organisation) -> str:
    return f"{reverse('conduct:organisations')}#org-{organisation.slug}"


# ---------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------


@dataclass
class TreeNode:
    """One organisation on the Organisations page, with what the user may do to it (asked of conduct.permissions)."""

    organisation: Organisation
    governed_by: list[Organisation]
    can_add: bool
    can_reshape: bool  # close it or move it: decided by whoever manages what it sits under
    has_members: bool  # a network or hub: it has member schools
    children: list[TreeNode] = field(default_factory=list)


def _node(user: Person, organisation: Organisation) -> TreeNode:
    is_open = organisation.closed_on is None
    holds_something = bool(ALLOWED_CHILDREN[organisation.kind])  # nothing sits under an academy, hub or committee
    return TreeNode(
        organisation=organisation,
        governed_by=list(organisation.governing_boards.all()),  # prefetched
        can_add=is_open and holds_something and can_add_organisation_under(user, organisation),
        can_reshape=is_open and can_close_organisation(user, organisation),
        has_members=organisation.kind in NETWORK_KINDS,
    )


def _sibling_order(node: TreeNode) -> tuple[bool, str, str]:
    """Academies and hubs first, then boards and committees, each by name."""
    organisation = node.organisation
    return (organisation.kind in BOARD_KINDS, organisation.kind, organisation.name.lower())


def _nested(user: Person, organisations: list[Organisation]) -> list[TreeNode]:
    """Organisations in path order as nested nodes: a node's parent is always read before it."""
    nodes: dict[int, TreeNode] = {}
    tops: list[TreeNode] = []
    for organisation in organisations:
        node = nodes[organisation.pk] = _node(user, organisation)
        parent = nodes.get(organisation.parent_id) if organisation.parent_id is not None else None
        (parent.children if parent is not None else tops).append(node)
    for node in nodes.values():
        node.children.sort(key=_sibling_order)
    return tops


def _tree_page(user: Person, page_number: str | None) -> tuple[Page[Organisation], list[TreeNode]]:
    """A page of the trees the user manages (the tops of their reach) and everything below each, in four queries."""
    managed = organisations_administered_by(user)
    tops = managed.exclude(parent__in=managed.values("pk"))
    page = Paginator(tops, TREES_PER_PAGE).get_page(page_number)
    below = Q(pk__in=[])
    for top in page:
        below |= Q(path__startswith=top.path)
    organisations = list(
        managed.filter(below)
        .select_related("parent", "governs")  # the parent: can_close_organisation asks who manages it
        .prefetch_related(Prefetch("governing_boards", queryset=Organisation.objects.order_by("name")))
    )
    return page, _nested(user, organisations)


def _school_memberships(user: Person, today: date) -> list[NetworkMembership]:
    """Requests to join a network, and memberships not yet ended, of the schools the user manages."""
    return list(
        NetworkMembership.objects.filter(school__in=organisations_administered_by(user).values("pk"))
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=today))
        .select_related("network", "school")
        .order_by("school__name", "network__name", "pk")
    )


@login_required
def organisation_tree(request: AuthenticatedHttpRequest) -> HttpResponse:
    page, trees = _tree_page(request.user, request.GET.get("page"))
    if not trees:
        raise Http404("You do not manage any organisation.")
    today = timezone.localdate()
    memberships = _school_memberships(request.user, today)
    context = {
        "page": page,
        "trees": trees,
        "requests": [m for m in memberships if m.status == MembershipStatus.PENDING],
        "memberships": [m for m in memberships if m.status == MembershipStatus.ACCEPTED],
        "today": today,
    }
    return render(request, "conduct/organisations/tree.html", context)


# ---------------------------------------------------------------------------
# Adding, renaming, closing and moving
# ---------------------------------------------------------------------------


def _governable(parent: Organisation) -> QuerySet[Organisation]:
    """What a new board under ``parent`` may govern: the open trusts, networks, hubs and schools of its own tree."""
    return (
        Organisation.objects.filter(path__startswith=parent.root_path, kind__in=GOVERNABLE_KINDS)
        .filter(closed_on__isnull=True)
        .select_related("parent")
        .order_by("path")
    )


@login_required
def organisation_add(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    parent = _organisation(request, slug, can_add_organisation_under)
    kinds = ALLOWED_CHILDREN[parent.kind]
    if not kinds:
        raise Http404(f"Nothing sits under a {kind_label(parent.kind).lower()}.")
    governable = _governable(parent) if any(kind in BOARD_KINDS for kind in kinds) else None
    form = OrganisationCreateForm(request.POST or None, kinds=kinds, governable=governable)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_create(by=request.user, parent=parent, **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{organisation.name} added under {parent.name}.")
            return redirect(_tree_url(organisation))
    return render(request, "conduct/organisations/add.html", {"parent": parent, "form": form})


@login_required
def organisation_rename(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug, can_manage_organisation)
    form = OrganisationRenameForm(request.POST or None, initial={"name": organisation.name})
    if request.method == "POST" and form.is_valid():
        old_name = organisation.name
        try:
            renamed = services.organisation_rename(
                by=request.user, organisation=organisation, name=form.cleaned_data["name"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if renamed.name == old_name:
                messages.info(request, f"{old_name} keeps its name: nothing changed.")
            else:
                messages.success(request, f"Renamed {old_name} to {renamed.name}.")
            return redirect(_tree_url(renamed))
    return render(request, "conduct/organisations/rename.html", {"organisation": organisation, "form": form})


@login_required
def organisation_close(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The confirmation step: what closing means, what closes with it, and from which day."""
    organisation = _organisation(request, slug, can_close_organisation)
    form = OrganisationCloseForm(request.POST or None, today=timezone.localdate())
    if request.method == "POST" and form.is_valid():
        try:
            closed = services.organisation_close(
                by=request.user, organisation=organisation, closed_on=form.cleaned_data["closed_on"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{closed.name} closes on {closed.closed_on:%-d %B %Y}, with everything below it. From that day "
                "nobody owes anything new there; its records and evidence stay as they are.",
            )
            return redirect(_tree_url(closed))
    below = (
        Organisation.objects.filter(path__startswith=organisation.path, closed_on__isnull=True)
        .exclude(pk=organisation.pk)
        .order_by("path")
    )
    return render(
        request, "conduct/organisations/close.html", {"organisation": organisation, "form": form, "below": below}
    )


def _new_parents(user: Person, organisation: Organisation) -> QuerySet[Organisation]:
    """Where the user may move ``organisation``: open organisations of a kind that can hold it.

    Its own sub-organisations stay on the list, so that the service, rather than a bare "invalid
    choice", says why it cannot go there.
    """
    holders = [
        kind for kind, children in ALLOWED_CHILDREN.items() if kind is not None and organisation.kind in children
    ]
    itself_and_where_it_is = [pk for pk in (organisation.pk, organisation.parent_id) if pk is not None]
    candidates = (
        organisations_administered_by(user)
        .filter(kind__in=holders, closed_on__isnull=True)
        .exclude(pk__in=itself_and_where_it_is)
    )
    allowed = [candidate.pk for candidate in candidates if can_move_organisation(user, organisation, candidate)]
    return Organisation.objects.filter(pk__in=allowed).select_related("parent").order_by("path")


@login_required
def organisation_move(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    # Moving is decided first where it is (as closing is), then where it goes (the choices).
    organisation = _organisation(request, slug, can_close_organisation)
    parents = _new_parents(request.user, organisation)
    form = OrganisationMoveForm(request.POST or None, parents=parents)
    if request.method == "POST" and form.is_valid():
        new_parent = form.cleaned_data["new_parent"]
        try:
            moved = services.organisation_move(by=request.user, organisation=organisation, new_parent=new_parent)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Moved {moved.name}, with everything below it, under {new_parent.name}.")
            return redirect(_tree_url(moved))
    context = {"organisation": organisation, "form": form, "has_choices": parents.exists()}
    return render(request, "conduct/organisations/move.html", context)


# ---------------------------------------------------------------------------
# Network memberships: the network asks, the school accepts, either side ends it
# ---------------------------------------------------------------------------


@login_required
def network_members(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    network = _network(request, slug)
    links = NetworkMembership.objects.filter(network=network).select_related("school__parent")
    pending = links.filter(status=MembershipStatus.PENDING).order_by("school__name", "pk")
    # Current members first (no last day yet), then those who left, the most recent first.
    members = links.accepted().order_by(F("left_on").desc(nulls_first=True), "school__name", "pk")
    page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"network": network, "pending": pending, "page": page, "today": timezone.localdate()}
    return render(request, "conduct/organisations/members.html", context)


@dataclass(frozen=True)
class SchoolFound:
    school: Organisation
    status: str  # the network's open link with it: "pending", "accepted", or "" (it may be asked)


def _schools_found(
    network: Organisation, search: SchoolSearchForm, page_number: str | None, today: date
) -> tuple[Page[Organisation] | None, list[SchoolFound]]:
    """Open schools of any trust whose name contains the search, each with where it stands with the network."""
    query = search.cleaned_data.get("q", "").strip() if search.is_valid() else ""
    if not query:
        return None, []
    schools = (
        Organisation.objects.filter(kind=OrganisationKind.SCHOOL, name__icontains=query)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=today))
        .select_related("parent")
        .order_by("name", "pk")
    )
    page = Paginator(schools, SCHOOLS_PER_PAGE).get_page(page_number)
    open_links = NetworkMembership.objects.filter(network=network, school__in=[school.pk for school in page]).filter(
        Q(status=MembershipStatus.PENDING) | Q(left_on__isnull=True) | Q(left_on__gte=today)
    )
    status = dict(open_links.values_list("school_id", "status"))
    return page, [SchoolFound(school=school, status=status.get(school.pk, "")) for school in page]


@login_required
def network_invite(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Search the schools of every trust, and ask one to join; it counts once the school's admin accepts."""
    network = _network(request, slug)
    form = MembershipRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        school = form.cleaned_data["school"]
        try:
            services.network_membership_request(by=request.user, network=network, school=school)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Asked {school.name} to join {network.name}. It counts once the school's admin accepts."
            )
            return redirect("conduct:network_members", network.slug)
    search = SchoolSearchForm(request.GET)
    page, found = _schools_found(network, search, request.GET.get("page"), timezone.localdate())
    context = {"network": network, "form": form, "search": search, "page": page, "found": found}
    return render(request, "conduct/organisations/invite.html", context)


@login_required
@require_POST
def membership_accept(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The school's admin accepts a network's request (there is nothing to fill in: it joins today)."""
    membership = _membership(request, pk, can_accept_membership)
    try:
        accepted = services.network_membership_accept(by=request.user, membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"{accepted.school.name} is a member of {accepted.network.name} from {accepted.joined_on:%-d %B %Y}.",
        )
    return redirect("conduct:organisations")


@login_required
def membership_end(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk, can_end_membership)
    # Back to the side the user came from: the network's members, or the school's memberships.
    if can_manage_organisation(request.user, membership.network):
        back = reverse("conduct:network_members", args=[membership.network.slug])
    else:
        back = reverse("conduct:organisations")
    form = MembershipEndForm(request.POST or None, today=timezone.localdate())
    if request.method == "POST" and form.is_valid():
        try:
            ended = services.network_membership_end(
                by=request.user, membership=membership, ended_on=form.cleaned_data["ended_on"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{ended.school.name}'s membership of {ended.network.name} ends on {ended.left_on:%-d %B %Y}.",
            )
            return redirect(back)
    context = {"membership": membership, "form": form, "back": back}
    return render(request, "conduct/organisations/membership_end.html", context)


# ---------------------------------------------------------------------------
# The officers' audit log
# ---------------------------------------------------------------------------


@login_required
def audit_log(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Who changed what in the set-up of the organisation and everything below it, newest first."""
    organisation = _organisation(request, slug, can_view_audit_log)
    entries = audit_log_entries(organisation, include_sub_organisations=True)
    page = Paginator(entries, AUDIT_ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "conduct/organisations/audit_log.html", {"organisation": organisation, "page": page})
