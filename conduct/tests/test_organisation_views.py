"""The Organisations pages: the tree, adding, renaming, moving and closing, network memberships, the audit log;
who may use each (404 for anyone else, as in the rest of the app), what bad input shows, and fixed query counts."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from conduct.models import (
    AuditAction,
    AuditLogEntry,
    MembershipStatus,
    NetworkMembership,
    Organisation,
    OrganisationKind,
    Person,
    RoleKind,
)
from conduct.organisations import network_membership_accept, network_membership_request, organisation_close
from conduct.tests.factories import OrganisationFactory, PersonFactory, RoleFactory
from core.display import long_date

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
Orgs = dict[str, Organisation]


def officer(organisation: Organisation, kind: str = RoleKind.ADMIN) -> Person:
    person = PersonFactory.create()
    RoleFactory.create(person=person, organisation=organisation, kind=kind)
    return person


def saved_state() -> dict[str, Any]:
    """Everything a refused change must leave as it was: the tree, the memberships and the audit log."""
    return {
        "organisations": list(
            Organisation.objects.order_by("pk").values_list(
                "pk", "name", "slug", "kind", "parent", "governs", "path", "closed_on"
            )
        ),
        "memberships": list(
            NetworkMembership.objects.order_by("pk").values_list("pk", "status", "joined_on", "left_on")
        ),
        "audit": AuditLogEntry.objects.count(),
    }


def url(name: str, *args: object) -> str:
    return reverse(f"conduct:{name}", args=args)


def text(response: Any) -> str:
    return " ".join(response.content.decode().split())


def visible(response: Any) -> str:
    """The page's words without its markup."""
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def form_errors(response: Any, field: str | None = None) -> list[str]:
    form = response.context["form"]
    return list(form.non_field_errors() if field is None else form.errors.get(field, []))


def reloaded(organisation: Organisation) -> Organisation:
    return Organisation.objects.get(pk=organisation.pk)


@pytest.fixture
def admin(tree: Orgs) -> Person:
    return officer(tree["trust"])


@pytest.fixture
def admin_client(client_for: Callable[[Person], Client], admin: Person) -> Client:
    return client_for(admin)


@pytest.fixture
def network(db: None) -> Orgs:
    """A network across trusts with one hub, and its admin."""
    network = OrganisationFactory.create(name="Challenge Network", slug="challenge", kind=OrganisationKind.NETWORK)
    hub = OrganisationFactory.create(name="Challenge North Hub", slug="challenge-north", kind="hub", parent=network)
    return {"network": network, "hub": hub}


# ---------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------


def test_the_tree_shows_the_trust_its_academies_boards_and_what_governs_what(
    tree: Orgs, other_tree: Orgs, admin_client
):
    response = admin_client.get(url("organisations"))
    page = text(response)
    assert response.status_code == 200
    for organisation in tree.values():
        assert f'id="org-{organisation.slug}"' in page
    assert "Governs Oak Trust North Academy." in page and "Governed by Oak Trust North LGB." in page
    assert "Governs Oak Trust." in page and "Governed by Oak Trust Board." in page
    assert "Elm Trust" not in page  # another trust's tree is not shown
    # The admin adds under the trust and its boards, and closes or moves what sits under the trust;
    # the top of the tree itself is the platform operator's.
    assert url("organisation_add", "oak-trust") in page and url("organisation_add", "oak-trust-board") in page
    assert url("organisation_add", "oak-trust-north") not in page  # nothing sits under an academy
    assert url("organisation_close", "oak-trust-north") in page and url("organisation_move", "oak-trust-north") in page
    assert url("organisation_close", "oak-trust") not in page and url("organisation_move", "oak-trust") not in page
    assert url("audit_log", "oak-trust") in page
    # The menu marks Organisations, not Governance (another conduct page).
    assert f'aria-current="page" href="{url("organisations")}">Organisations</a>' in page
    assert f'nav-link active" href="{url("governance")}"' not in page


def test_the_tree_marks_closed_organisations_with_the_date_and_offers_no_changes_under_them(
    tree: Orgs, admin: Person, admin_client: Client
):
    organisation_close(by=admin, organisation=tree["north"], closed_on=date(2025, 8, 31))
    page = text(admin_client.get(url("organisations")))
    assert "Closed on 31 August 2025" in page
    assert url("organisation_close", "oak-trust-north") not in page
    assert url("organisation_move", "oak-trust-north") not in page
    assert url("organisation_rename", "oak-trust-north") in page  # a closed academy can still be renamed


def test_a_school_admin_sees_only_their_school_and_may_rename_but_not_close_it(tree: Orgs, client_for):
    page = text(client_for(officer(tree["north"])).get(url("organisations")))
    assert 'id="org-oak-trust-north"' in page and 'id="org-oak-trust"' not in page
    assert 'id="org-oak-trust-south"' not in page
    assert url("organisation_rename", "oak-trust-north") in page
    assert url("organisation_close", "oak-trust-north") not in page  # decided by whoever manages the trust


@pytest.mark.parametrize("kind", [RoleKind.EMPLOYEE, RoleKind.CLERK, RoleKind.CHAIR])
def test_people_who_are_not_admins_get_no_organisations_page_or_menu_link(tree: Orgs, client_for, kind: str):
    where = tree["trust"] if kind == RoleKind.EMPLOYEE else tree["board"]
    client = client_for(officer(where, kind))
    assert client.get(url("organisations")).status_code == 404
    assert url("organisations") not in client.get(reverse("home")).content.decode()


def test_an_admin_gets_the_organisations_link_in_the_menu(tree: Orgs, admin_client):
    home = admin_client.get(reverse("home")).content.decode()
    assert f'href="{url("organisations")}">Organisations</a>' in home


def test_a_school_admin_sees_a_networks_request_and_accepts_it(tree: Orgs, network: Orgs, client_for):
    network_admin = officer(network["network"])
    membership = network_membership_request(by=network_admin, network=network["network"], school=tree["north"])
    client = client_for(officer(tree["north"]))
    assert "Challenge Network asks Oak Trust North Academy to join" in visible(client.get(url("organisations")))

    response = client.post(url("membership_accept", membership.pk), follow=True)

    membership.refresh_from_db()
    assert (membership.status, membership.joined_on) == (MembershipStatus.ACCEPTED, TODAY)
    assert AuditLogEntry.objects.filter(action=AuditAction.MEMBERSHIP_ACCEPTED, organisation=tree["north"]).exists()
    page = text(response)
    assert f"Oak Trust North Academy is a member of Challenge Network from {TODAY:%-d %B %Y}." in page
    assert url("membership_end", membership.pk) in page  # the school may end it too


def test_accepting_twice_shows_the_services_message_and_changes_nothing(tree: Orgs, network: Orgs, client_for):
    network_admin = officer(network["network"])
    membership = network_membership_request(by=network_admin, network=network["network"], school=tree["north"])
    school_admin = officer(tree["north"])
    network_membership_accept(by=school_admin, membership=membership)
    before = saved_state()
    response = client_for(school_admin).post(url("membership_accept", membership.pk), follow=True)
    assert "Oak Trust North Academy has already accepted." in text(response)
    assert saved_state() == before


def test_accepting_is_a_post(tree: Orgs, network: Orgs, client_for):
    membership = network_membership_request(
        by=officer(network["network"]), network=network["network"], school=tree["north"]
    )
    assert client_for(officer(tree["north"])).get(url("membership_accept", membership.pk)).status_code == 405
    assert NetworkMembership.objects.get(pk=membership.pk).status == MembershipStatus.PENDING


# ---------------------------------------------------------------------------
# Adding
# ---------------------------------------------------------------------------


def test_the_add_form_offers_only_what_may_sit_there_and_governs_only_within_the_tree(
    tree: Orgs, other_tree: Orgs, admin_client
):
    under_trust = admin_client.get(url("organisation_add", "oak-trust"))
    form = under_trust.context["form"]
    assert [value for value, _ in form.fields["kind"].choices] == ["school", "board"]
    assert set(form.fields["governs"].queryset) == {tree["trust"], tree["north"], tree["south"]}
    under_board = admin_client.get(url("organisation_add", "oak-trust-board"))
    assert [value for value, _ in under_board.context["form"].fields["kind"].choices] == ["board", "committee"]
    assert "Elm Trust" not in text(under_board)
    assert admin_client.get(url("organisation_add", "oak-trust-north")).status_code == 404  # nothing sits there


def test_an_admin_adds_an_academy_and_its_local_board(tree: Orgs, admin: Person, admin_client):
    response = admin_client.post(
        url("organisation_add", "oak-trust"), {"kind": "school", "name": " Oak  West Academy "}
    )
    academy = Organisation.objects.get(name="Oak West Academy")
    assert response.status_code == 302 and response["Location"] == f"{url('organisations')}#org-{academy.slug}"
    assert (academy.parent, academy.kind, academy.slug, academy.governs) == (
        tree["trust"],
        "school",
        "oak-west-academy",
        None,
    )

    response = admin_client.post(
        url("organisation_add", "oak-trust-board"),
        {"kind": "board", "name": "Oak West LGB", "governs": academy.pk, "slug": "oak-west-lgb"},
        follow=True,
    )
    board = Organisation.objects.get(slug="oak-west-lgb")
    assert (board.parent, board.kind, board.governs) == (tree["board"], "board", academy)
    page = text(response)
    assert "Oak West LGB added under Oak Trust Board." in page
    assert "Governs Oak West Academy." in page and "Governed by Oak West LGB." in page
    entries = AuditLogEntry.objects.filter(action=AuditAction.ORGANISATION_CREATED).order_by("pk")
    assert [(e.organisation, e.actor) for e in entries] == [(academy, admin), (board, admin)]


def test_a_duplicate_name_shows_the_services_message_on_the_name_and_saves_nothing(tree: Orgs, admin_client):
    before = saved_state()
    response = admin_client.post(
        url("organisation_add", "oak-trust"), {"kind": "school", "name": "oak trust north academy"}
    )
    assert response.status_code == 400
    assert form_errors(response, "name") == ["Oak Trust already has an organisation called “oak trust north academy”."]
    page = text(response)
    assert "There is a problem; nothing was saved" in page and 'href="#id_name"' in page
    assert page.startswith("<!doctype html>") and "<title>Error: Add under Oak Trust" in page
    assert saved_state() == before


def test_a_board_governing_another_trusts_school_is_refused_and_saves_nothing(
    tree: Orgs, other_tree: Orgs, admin_client
):
    before = saved_state()
    response = admin_client.post(
        url("organisation_add", "oak-trust-board"),
        {"kind": "board", "name": "Oak Elm LGB", "governs": other_tree["north"].pk},
    )
    assert response.status_code == 400
    assert form_errors(response, "governs") == [
        "Choose one of the listed organisations: a board governs only one in its own trust or network."
    ]
    assert "Elm Trust North Academy" not in text(response)  # nothing of the other trust is named
    assert saved_state() == before


def test_an_academy_that_governs_something_is_refused_by_the_service_on_that_field(tree: Orgs, admin_client):
    before = saved_state()
    response = admin_client.post(
        url("organisation_add", "oak-trust"),
        {"kind": "school", "name": "Oak East Academy", "governs": tree["north"].pk},
    )
    assert form_errors(response, "governs") == ["Only boards and committees govern another organisation."]
    assert saved_state() == before


def test_a_badly_formed_short_web_name_is_refused_on_its_field(tree: Orgs, admin_client):
    before = saved_state()
    response = admin_client.post(
        url("organisation_add", "oak-trust"), {"kind": "school", "name": "Oak East Academy", "slug": "no spaces"}
    )
    assert form_errors(response, "slug") == [
        "Use only letters, numbers, hyphens and underscores in the short web name."
    ]
    assert saved_state() == before


def test_nothing_is_added_under_a_closed_organisation(tree: Orgs, admin: Person, admin_client):
    organisation_close(by=admin, organisation=tree["board"], closed_on=TODAY)
    before = saved_state()
    response = admin_client.post(url("organisation_add", "oak-trust-board"), {"kind": "committee", "name": "Audit"})
    assert form_errors(response) == [f"Oak Trust Board closed on {long_date(TODAY)}; nothing new goes under it."]
    assert saved_state() == before


# ---------------------------------------------------------------------------
# Renaming, closing, moving
# ---------------------------------------------------------------------------


def test_an_admin_renames_an_academy(tree: Orgs, admin_client):
    page = text(admin_client.get(url("organisation_rename", "oak-trust-north")))
    assert 'value="Oak Trust North Academy"' in page
    response = admin_client.post(
        url("organisation_rename", "oak-trust-north"), {"name": "Oak Northgate Academy"}, follow=True
    )
    assert reloaded(tree["north"]).name == "Oak Northgate Academy"
    assert "Renamed Oak Trust North Academy to Oak Northgate Academy." in text(response)
    entry = AuditLogEntry.objects.get(action=AuditAction.ORGANISATION_RENAMED)
    assert entry.details == {"from": "Oak Trust North Academy", "to": "Oak Northgate Academy"}
    assert entry.ip_address == "127.0.0.1"  # the test client's address, recorded without the service asking


def test_renaming_to_a_siblings_name_is_refused_and_saves_nothing(tree: Orgs, admin_client):
    before = saved_state()
    response = admin_client.post(url("organisation_rename", "oak-trust-north"), {"name": "Oak Trust South Academy"})
    assert form_errors(response, "name") == ["Oak Trust already has an organisation called “Oak Trust South Academy”."]
    assert saved_state() == before


def test_the_close_page_says_what_closing_means_and_what_closes_with_it(tree: Orgs, admin_client):
    page = text(admin_client.get(url("organisation_close", "oak-trust-board")))
    assert "nobody owes anything new there" in page and "what exists stays" in page
    assert "(2 organisations)" in page and "Oak Trust North LGB" in page and "Oak Trust South LGB" in page
    assert reloaded(tree["board"]).closed_on is None  # asking changes nothing


def test_an_admin_closes_a_board_and_everything_below_it(tree: Orgs, admin_client):
    closing = TODAY + timedelta(days=30)
    response = admin_client.post(
        url("organisation_close", "oak-trust-board"), {"closed_on": closing.isoformat()}, follow=True
    )
    for name in ("board", "north_lgb", "south_lgb"):
        assert reloaded(tree[name]).closed_on == closing
    assert reloaded(tree["north"]).closed_on is None
    page = text(response)
    assert f"Oak Trust Board closes on {closing:%-d %B %Y}, with everything below it." in page
    assert f"Closes on {closing:%-d %B %Y}" in page
    assert AuditLogEntry.objects.filter(action=AuditAction.ORGANISATION_CLOSED).count() == 1


def test_closing_without_a_date_or_twice_is_refused_and_saves_nothing(tree: Orgs, admin: Person, admin_client):
    before = saved_state()
    assert form_errors(
        admin_client.post(url("organisation_close", "oak-trust-north"), {"closed_on": ""}), "closed_on"
    ) == ["Give the day it closes."]
    assert saved_state() == before
    organisation_close(by=admin, organisation=tree["north"], closed_on=date(2025, 8, 31))
    before = saved_state()
    response = admin_client.post(url("organisation_close", "oak-trust-north"), {"closed_on": TODAY.isoformat()})
    assert form_errors(response, "closed_on") == ["Oak Trust North Academy already closed on 31 August 2025."]
    assert saved_state() == before


def test_an_admin_moves_a_local_board_under_another_board(tree: Orgs, admin_client):
    choices = set(
        admin_client.get(url("organisation_move", "oak-trust-north-lgb")).context["form"].fields["new_parent"].queryset
    )
    assert choices == {tree["trust"], tree["south_lgb"]}  # what holds boards; not itself, not where it is now
    response = admin_client.post(
        url("organisation_move", "oak-trust-north-lgb"), {"new_parent": tree["south_lgb"].pk}, follow=True
    )
    moved = reloaded(tree["north_lgb"])
    assert moved.parent == tree["south_lgb"] and moved.path == f"{tree['south_lgb'].path}{moved.pk:06d}/"
    assert "Moved Oak Trust North LGB, with everything below it, under Oak Trust South LGB." in text(response)
    assert AuditLogEntry.objects.filter(action=AuditAction.ORGANISATION_MOVED, organisation=moved).exists()


def test_moving_a_board_under_its_own_local_board_is_refused_and_saves_nothing(tree: Orgs, admin_client):
    second = OrganisationFactory.create(name="Oak Second Board", slug="oak-second", kind="board", parent=tree["trust"])
    response = admin_client.get(url("organisation_move", "oak-trust-board"))
    assert set(response.context["form"].fields["new_parent"].queryset) == {tree["north_lgb"], tree["south_lgb"], second}
    before = saved_state()
    response = admin_client.post(url("organisation_move", "oak-trust-board"), {"new_parent": tree["north_lgb"].pk})
    assert form_errors(response, "new_parent") == [
        "Oak Trust Board cannot move under itself or one of its own sub-organisations."
    ]
    assert saved_state() == before


def test_the_move_page_says_when_there_is_nowhere_to_go(tree: Orgs, admin_client):
    response = admin_client.get(url("organisation_move", "oak-trust-north"))  # an academy sits only under its trust
    assert not response.context["has_choices"]
    assert "There is nowhere you manage that can hold a school or academy." in text(response)


# ---------------------------------------------------------------------------
# Network memberships
# ---------------------------------------------------------------------------


def test_a_network_admin_finds_a_school_of_another_trust_and_invites_it(
    tree: Orgs, other_tree: Orgs, network: Orgs, client_for
):
    network_admin = officer(network["network"])
    client = client_for(network_admin)
    assert "No member schools yet." in text(client.get(url("network_members", "challenge")))
    search = text(client.get(url("network_invite", "challenge"), {"q": "north"}))
    assert "Oak Trust North Academy" in search and "Elm Trust North Academy" in search
    assert "Oak Trust South Academy" not in search

    response = client.post(f"{url('network_invite', 'challenge')}?q=north", {"school": tree["north"].pk}, follow=True)

    membership = NetworkMembership.objects.get()
    assert (membership.network, membership.school, membership.status) == (
        network["network"],
        tree["north"],
        MembershipStatus.PENDING,
    )
    page = visible(response)
    assert "Asked Oak Trust North Academy to join Challenge Network." in page
    assert "Waiting for the school to accept" in page and "Oak Trust North Academy (Oak Trust)" in page
    assert AuditLogEntry.objects.filter(
        action=AuditAction.MEMBERSHIP_REQUESTED, organisation=network["network"]
    ).exists()
    # Asked already: the search says so instead of offering to ask again.
    assert "Asked; waiting for the school" in text(
        client.get(url("network_invite", "challenge"), {"q": "oak trust north"})
    )


def test_inviting_a_school_twice_shows_the_services_message_and_saves_nothing(tree: Orgs, network: Orgs, client_for):
    network_admin = officer(network["network"])
    network_membership_request(by=network_admin, network=network["network"], school=tree["north"])
    before = saved_state()
    response = client_for(network_admin).post(url("network_invite", "challenge"), {"school": tree["north"].pk})
    assert form_errors(response, "school") == [
        "Oak Trust North Academy has already been asked to join Challenge Network."
    ]
    assert "There is a problem; nothing was saved" in text(response)
    assert saved_state() == before


def test_only_a_network_has_a_members_page(tree: Orgs, admin_client):
    assert admin_client.get(url("network_members", "oak-trust")).status_code == 404
    assert admin_client.get(url("network_invite", "oak-trust")).status_code == 404


def test_a_network_admin_ends_a_membership_on_a_day(tree: Orgs, network: Orgs, client_for):
    network_admin = officer(network["network"])
    membership = network_membership_request(by=network_admin, network=network["network"], school=tree["north"])
    network_membership_accept(by=officer(tree["north"]), membership=membership)
    client = client_for(network_admin)
    assert url("membership_end", membership.pk) in text(client.get(url("network_members", "challenge")))

    response = client.post(url("membership_end", membership.pk), {"ended_on": TODAY.isoformat()}, follow=True)

    assert NetworkMembership.objects.get(pk=membership.pk).left_on == TODAY
    assert response.redirect_chain[-1][0] == url("network_members", "challenge")
    assert f"Oak Trust North Academy's membership of Challenge Network ends on {TODAY:%-d %B %Y}." in visible(response)
    assert AuditLogEntry.objects.filter(action=AuditAction.MEMBERSHIP_ENDED).count() == 1


def test_ending_a_membership_before_it_began_is_refused_and_saves_nothing(tree: Orgs, network: Orgs, client_for):
    network_admin = officer(network["network"])
    membership = network_membership_request(by=network_admin, network=network["network"], school=tree["north"])
    network_membership_accept(by=officer(tree["north"]), membership=membership)
    before = saved_state()
    yesterday = TODAY - timedelta(days=1)
    response = client_for(network_admin).post(url("membership_end", membership.pk), {"ended_on": yesterday.isoformat()})
    assert form_errors(response, "ended_on") == [f"Give a day on or after it began ({long_date(TODAY)})."]
    assert saved_state() == before


# ---------------------------------------------------------------------------
# The audit log
# ---------------------------------------------------------------------------


def test_the_audit_log_lists_who_did_what_newest_first_including_below(tree: Orgs, admin: Person, admin_client):
    admin_client.post(url("organisation_add", "oak-trust"), {"kind": "school", "name": "Oak West Academy"})
    admin_client.post(url("organisation_rename", "oak-trust-north"), {"name": "Oak Northgate Academy"})
    page = text(admin_client.get(url("audit_log", "oak-trust")))
    renamed = page.index("Renamed Oak Trust North Academy to Oak Northgate Academy.")
    added = page.index("Added Oak West Academy (school or academy) under Oak Trust.")
    assert renamed < added  # newest first
    assert page.count(admin.full_name) >= 2 and "Organisation created" in page


def test_the_audit_log_is_paginated(tree: Orgs, admin: Person, admin_client):
    for number in range(26):
        AuditLogEntry.objects.create(
            actor=admin, action=AuditAction.ORGANISATION_RENAMED, organisation=tree["trust"], summary=f"Entry {number}."
        )
    first = admin_client.get(url("audit_log", "oak-trust"))
    assert len(first.context["page"].object_list) == 25 and "Entry 25." in text(first) and "Entry 0." not in text(first)
    second = text(admin_client.get(url("audit_log", "oak-trust"), {"page": 2}))
    assert "Entry 0." in second and "Page 2 of 2" in second and "Newer" in second


def test_the_audit_log_has_an_empty_state(tree: Orgs, admin_client):
    assert "Nothing recorded yet." in text(admin_client.get(url("audit_log", "oak-trust")))


# ---------------------------------------------------------------------------
# Who may do what: 404 for anyone else, and nothing changes
# ---------------------------------------------------------------------------

# (name, method, URL under test, data posted)
ACTIONS: list[tuple[str, str, Callable[[Orgs], str], Callable[[Orgs], dict[str, object]]]] = [
    ("tree", "get", lambda t: url("organisations"), lambda t: {}),
    ("add", "post", lambda t: url("organisation_add", "oak-trust"), lambda t: {"kind": "school", "name": "New"}),
    ("rename", "post", lambda t: url("organisation_rename", "oak-trust"), lambda t: {"name": "Renamed"}),
    ("close", "post", lambda t: url("organisation_close", "oak-trust-north"), lambda t: {"closed_on": "2025-09-01"}),
    (
        "move",
        "post",
        lambda t: url("organisation_move", "oak-trust-north-lgb"),
        lambda t: {"new_parent": t["south_lgb"].pk},
    ),
    ("audit log", "get", lambda t: url("audit_log", "oak-trust"), lambda t: {}),
]


def _person(who: str, tree: Orgs, other_tree: Orgs) -> Person | None:
    if who == "anonymous":
        return None
    if who == "other trust's admin":
        return officer(other_tree["trust"])
    if who == "school admin":
        return officer(tree["north"])
    return officer(tree["north"], RoleKind.EMPLOYEE)


# An admin's tree page shows what they manage (tested above), so only the others are refused it.
REFUSALS = [
    (who, action)
    for who in ("other trust's admin", "school admin", "signatory", "anonymous")
    for action in ACTIONS
    if not (action[0] == "tree" and who.endswith("admin"))
]


@pytest.mark.parametrize("who, action", REFUSALS, ids=[f"{who}-{action[0]}" for who, action in REFUSALS])
def test_others_get_a_404_and_nothing_changes(tree: Orgs, other_tree: Orgs, who: str, action: Any):
    _, method, make_url, make_data = action
    person = _person(who, tree, other_tree)
    client = Client()
    if person is not None:
        client.force_login(person)
    before = saved_state()
    response = getattr(client, method)(make_url(tree), make_data(tree))
    if person is None:  # login_required, as everywhere in the app: to the sign-in page
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == 404
    assert saved_state() == before


def test_a_school_admin_cannot_act_above_their_school(tree: Orgs, network: Orgs, client_for):
    client = client_for(officer(tree["north"]))
    membership = network_membership_request(
        by=officer(network["network"]), network=network["network"], school=tree["south"]
    )
    before = saved_state()
    assert (
        client.get(url("organisation_close", "oak-trust-north")).status_code == 404
    )  # their own school: the trust's call
    assert client.get(url("organisation_move", "oak-trust-north")).status_code == 404
    assert client.get(url("organisation_add", "oak-trust-north-lgb")).status_code == 404
    assert client.get(url("audit_log", "oak-trust")).status_code == 404
    assert client.post(url("membership_accept", membership.pk)).status_code == 404  # another school's request
    assert client.get(url("audit_log", "oak-trust-north")).status_code == 200  # their school's own log
    assert saved_state() == before


def test_a_trust_admin_cannot_reach_a_network_or_another_schools_membership(
    tree: Orgs, other_tree: Orgs, network: Orgs, admin_client
):
    membership = network_membership_request(
        by=officer(network["network"]), network=network["network"], school=other_tree["north"]
    )
    before = saved_state()
    assert admin_client.get(url("network_members", "challenge")).status_code == 404
    assert admin_client.post(url("network_invite", "challenge"), {"school": tree["north"].pk}).status_code == 404
    assert admin_client.post(url("membership_accept", membership.pk)).status_code == 404
    assert admin_client.post(url("membership_end", membership.pk), {"ended_on": TODAY.isoformat()}).status_code == 404
    assert saved_state() == before


def test_a_platform_operator_sees_every_tree(tree: Orgs, other_tree: Orgs, client_for):
    operator = PersonFactory.create(is_superuser=True, is_staff=True)
    page = text(client_for(operator).get(url("organisations")))
    assert 'id="org-oak-trust"' in page and 'id="org-elm-trust"' in page
    assert url("organisation_close", "oak-trust") in page  # the top of a tree is theirs to close


# ---------------------------------------------------------------------------
# Query counts do not grow with the number of organisations or entries
# ---------------------------------------------------------------------------


def queries(client: Client, address: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured.captured_queries)


def academies(trust: Organisation, count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        OrganisationFactory.create(name=f"Ash Academy {number}", slug=f"ash-{number}", kind="school", parent=trust)


def test_the_tree_page_takes_the_same_queries_for_2_organisations_as_for_6(client_for, django_assert_num_queries):
    trust = OrganisationFactory.create(name="Ash Trust", slug="ash-trust", kind="trust")
    academies(trust, 1)
    client = client_for(officer(trust))
    address = url("organisations")
    client.get(address)  # the first request after signing in also settles the session
    # Session, user (with the header's branding and their roles, hence grants), counting and reading the page's tops
    # of trees, the organisations below them, the boards governing each, and the memberships of the schools the
    # admin manages.
    with django_assert_num_queries(7):
        client.get(address)
    academies(trust, 3, start=1)
    OrganisationFactory.create(name="Ash Board", slug="ash-board", kind="board", parent=trust, governs=trust)
    assert Organisation.objects.filter(path__startswith=trust.path).count() == 6
    with django_assert_num_queries(7):
        assert "Ash Academy 3" in client.get(address).content.decode()


def test_the_audit_log_takes_the_same_queries_for_2_entries_as_for_6(client_for, django_assert_num_queries):
    trust = OrganisationFactory.create(name="Ash Trust", slug="ash-trust", kind="trust")
    client = client_for(officer(trust))
    address = url("audit_log", "ash-trust")
    client.get(address)  # the first request after signing in also settles the session

    def entries(count: int) -> None:
        for _ in range(count):
            AuditLogEntry.objects.create(
                actor=PersonFactory.create(), action=AuditAction.ORGANISATION_RENAMED, organisation=trust, summary="x"
            )

    entries(2)
    # Session, user (with the header's branding and their roles, hence grants), the organisation, counting the
    # entries, and a page of them with actor and organisation.
    with django_assert_num_queries(5):
        client.get(address)
    entries(4)
    with django_assert_num_queries(5):
        assert len(client.get(address).context["page"].object_list) == 6
