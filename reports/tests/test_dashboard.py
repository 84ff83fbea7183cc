"""The dashboard: numbers equal independent counts, by school, by role, over time and as at a day;
filters, drill-down, networks, charts, and a query count that does not grow with the data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from acknowledgements.models import Obligation
from conduct.models import NetworkMembership, Person
from conduct.services import role_create
from conduct.tests.factories import (
    CodeFactory,
    OrganisationFactory,
    PersonFactory,
    RoleFactory,
    adopt,
    make_version,
)
from reports.selectors import NO_SCHOOL, ReportFilters, dashboard, timeline_days
from reports.tests.conftest import officer
from reports.tests.factories import days_ago, sign
from reports.tests.helpers import (
    as_numbers,
    counter_numbers,
    expected,
    query_count,
    status_on,
)

pytestmark = pytest.mark.django_db


def url(name: str = "reports:dashboard", **params) -> str:
    return f"{reverse(name)}?{urlencode(params)}" if params else reverse(name)


def school_key(scenario):
    """The test's own rule for which school an obligation counts for (trust: where the role is held)."""
    names = {scenario.orgs["north"].pk: "north", scenario.orgs["south"].pk: "south"}
    return lambda obligation: names.get(obligation.organisation_id, NO_SCHOOL)


def test_totals_by_school_and_by_role_equal_independent_counts(oak, elm, client_for):
    response = client_for(oak.admin).get(url())
    board = response.context["board"]
    today = timezone.localdate()
    obligations = oak.obligations()

    assert board.filters.version == oak.version  # opens on the trust's own code at its current version
    assert as_numbers(board.totals) == counter_numbers(expected(obligations, today)["all"])
    assert as_numbers(board.totals) == {"owe": 14, "signed": 8, "outstanding": 1, "overdue": 5}
    by_school = {row.key: as_numbers(row.counts) for row in board.by_school}
    independent = expected(obligations, today, school_key(oak))
    assert by_school == {
        str(oak.orgs["north"].pk): counter_numbers(independent["north"]),
        str(oak.orgs["south"].pk): counter_numbers(independent["south"]),
        NO_SCHOOL: counter_numbers(independent[NO_SCHOOL]),
    }
    by_role = {row.key: as_numbers(row.counts) for row in board.by_role}
    assert by_role == {k: counter_numbers(v) for k, v in expected(obligations, today, lambda o: o.role.kind).items()}
    assert board.totals.percent == round(8 * 100 / 14, 1)
    page = response.content.decode()
    assert '<span class="fs-3 fw-semibold" data-total="owe">14</span>' in page
    assert 'data-total="overdue">5</span>' in page and 'data-total="percent">57.1%</span>' in page
    assert "Elm Trust" not in page


def test_leavers_and_superseded_versions_are_not_owed(oak, client_for):
    leaver = Obligation.objects.get(person=oak.people["leaver"], version=oak.version)
    board = client_for(oak.admin).get(url()).context["board"]
    assert board.totals.owe == 14  # 12 employees + volunteer + joiner; the leaver is not counted
    # As at a day before they left, the leaver still owed (and was overdue).
    before = timezone.localdate() - timedelta(days=11)
    past = client_for(oak.admin).get(
        url(organisation=oak.orgs["trust"].pk, version=oak.version.pk, as_at=before.isoformat())
    )
    assert status_on(leaver, before) == "overdue"
    assert past.context["board"].totals.owe == counter_numbers(expected(oak.obligations(), before)["all"])["owe"]
    # A newer version supersedes the unsigned obligations of the old one from the day it is adopted.
    newer = make_version(oak.code, label="2027-2028")
    adopt(newer, oak.orgs["board"], held_on=timezone.localdate())
    old = client_for(oak.admin).get(url(organisation=oak.orgs["trust"].pk, version=oak.version.pk)).context["board"]
    assert as_numbers(old.totals) == counter_numbers(expected(oak.obligations(), timezone.localdate())["all"])
    assert old.totals.owe == old.totals.signed == 8  # only those who signed the old version still count


def test_as_at_a_past_day_counts_who_had_signed_by_then(oak, client_for):
    day = timezone.localdate() - timedelta(days=30)
    response = client_for(oak.admin).get(
        url(organisation=oak.orgs["trust"].pk, version=oak.version.pk, as_at=day.isoformat())
    )
    board = response.context["board"]
    independent = expected(oak.obligations(), day)["all"]
    assert as_numbers(board.totals) == counter_numbers(independent)
    # Thirty days ago: the joiner had not started, the leaver was still there, and signatures made since do not count.
    assert board.totals.owe == 14 and board.totals.signed == 4
    people = client_for(oak.admin).get(
        url(
            "reports:people",
            organisation=oak.orgs["trust"].pk,
            version=oak.version.pk,
            as_at=day.isoformat(),
            status="signed",
        )
    )
    names = {row.name for row, _link in people.context["rows"]}
    assert names == {oak.people[k].full_name for k in ("north-0", "north-1", "south-0", "volunteer")}


def test_a_future_or_malformed_day_is_refused_with_a_message(oak, client_for):
    client = client_for(oak.admin)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.get(url(organisation=oak.orgs["trust"].pk, as_at=tomorrow.isoformat()))
    assert response.status_code == 400
    assert "cannot be as at a day in the future" in response.content.decode()
    assert "board" not in response.context
    response = client.get(url(organisation=oak.orgs["trust"].pk, as_at="31/02/2026"))
    assert response.status_code == 400 and "Enter a valid date" in response.content.decode()


def test_timeline_points_equal_the_as_at_counts_of_each_day(oak, client_for):
    board = client_for(oak.admin).get(url()).context["board"]
    obligations = oak.obligations()
    assert board.timeline[0].day == min(o.owed_from for o in obligations)
    assert board.timeline[-1].day == timezone.localdate()
    assert len(board.timeline) == 12
    for point in board.timeline:
        assert as_numbers(point.counts) == counter_numbers(expected(obligations, point.day).get("all", {})), point.day


def test_timeline_days_are_evenly_spaced_and_end_on_the_day():
    assert timeline_days(date(2026, 9, 1), date(2026, 9, 4)) == [date(2026, 9, d) for d in range(1, 5)]
    days = timeline_days(date(2026, 1, 1), date(2026, 12, 31))
    assert len(days) == 12 and days[0] == date(2026, 1, 1) and days[-1] == date(2026, 12, 31)
    assert timeline_days(date(2026, 9, 5), date(2026, 9, 1)) == [date(2026, 9, 1)]


def test_filters_narrow_to_a_school_and_a_role(oak, client_for):
    client = client_for(oak.admin)
    north = oak.orgs["north"]
    today = timezone.localdate()
    board = client.get(url(organisation=oak.orgs["trust"].pk, version=oak.version.pk, school=north.pk)).context["board"]
    assert [row.key for row in board.by_school] == [str(north.pk)]
    assert as_numbers(board.totals) == counter_numbers(expected(oak.obligations(), today, school_key(oak))["north"])
    volunteers = client.get(url(organisation=oak.orgs["trust"].pk, version=oak.version.pk, role="volunteer")).context[
        "board"
    ]
    assert as_numbers(volunteers.totals) == {"owe": 1, "signed": 1, "outstanding": 0, "overdue": 0}
    central = client.get(url(organisation=oak.orgs["trust"].pk, version=oak.version.pk, school=NO_SCHOOL)).context[
        "board"
    ]
    assert as_numbers(central.totals) == counter_numbers(expected(oak.obligations(), today, school_key(oak))[NO_SCHOOL])


def test_all_versions_counts_every_signature_owed(oak, client_for):
    newer = make_version(oak.code, label="2027-2028")
    adopt(newer, oak.orgs["board"], held_on=timezone.localdate())
    board = (
        client_for(oak.admin).get(url(organisation=oak.orgs["trust"].pk, code=oak.code.pk, version="")).context["board"]
    )
    every = list(Obligation.objects.filter(code=oak.code).select_related("role"))
    assert board.filters.version is None and board.filters.code == oak.code
    assert as_numbers(board.totals) == counter_numbers(expected(every, timezone.localdate())["all"])
    assert board.totals.owe == 8 + 14  # the eight who signed last year's, plus everyone owing the new one


def test_drill_down_lists_the_people_behind_a_number_with_links_to_their_records(oak, client_for):
    client = client_for(oak.admin)
    north = oak.orgs["north"]
    response = client.get(
        url(
            "reports:people",
            organisation=oak.orgs["trust"].pk,
            version=oak.version.pk,
            school=north.pk,
            status="overdue",
        )
    )
    rows = response.context["rows"]
    expected_names = {
        o.person.full_name
        for o in oak.obligations()
        if o.organisation_id == north.pk and status_on(o, timezone.localdate()) == "overdue"
    }
    assert {row.name for row, _ in rows} == expected_names and len(expected_names) == 2
    signed = client.get(
        url("reports:people", organisation=oak.orgs["trust"].pk, version=oak.version.pk, status="signed")
    )
    page = signed.content.decode()
    for row, link in signed.context["rows"]:
        assert link == reverse("acknowledgements:record", args=[row.acknowledgement_id])
        assert f'href="{link}"' in page
    assert len(signed.context["rows"]) == 8


def test_drill_down_links_keep_the_filters(oak, client_for):
    page = client_for(oak.admin).get(url()).content.decode()
    north = oak.orgs["north"].pk
    expected_link = url(
        "reports:people",
        organisation=oak.orgs["trust"].pk,
        code=oak.code.pk,
        version=oak.version.pk,
        as_at=timezone.localdate().isoformat(),
        school=north,
        status="overdue",
    ).replace("&", "&amp;")
    assert expected_link in page


def test_drill_down_is_paginated(oak, client_for, monkeypatch):
    monkeypatch.setattr("reports.views.PEOPLE_PER_PAGE", 5)
    client = client_for(oak.admin)
    first = client.get(url("reports:people", organisation=oak.orgs["trust"].pk, version=oak.version.pk))
    third = client.get(url("reports:people", organisation=oak.orgs["trust"].pk, version=oak.version.pk, page=3))
    assert first.context["page"].paginator.num_pages == 3 and first.context["page"].paginator.count == 14
    names = [row.name for row, _ in first.context["rows"]] + [row.name for row, _ in third.context["rows"]]
    assert len(names) == 9 and names == sorted(names[:5]) + sorted(names[5:])
    assert "Page 1 of 3" in first.content.decode()
    assert f"version={oak.version.pk}" in first.content.decode().split('aria-label="Pages"')[1]


def test_network_people_count_for_the_member_school_where_they_hold_another_role(oak, elm, client_for):
    today = timezone.localdate()
    network = OrganisationFactory.create(name="Partners Network", slug="partners", kind="network")
    hub = OrganisationFactory.create(name="Thames Hub", slug="thames-hub", kind="hub", parent=network)
    network_board = OrganisationFactory.create(
        name="Partners Board", slug="partners-board", kind="board", parent=network, governs=network
    )
    NetworkMembership.objects.create(network=hub, school=oak.orgs["north"], joined_on=date(2023, 9, 1))
    NetworkMembership.objects.create(network=hub, school=elm.orgs["south"], joined_on=date(2023, 9, 1))
    NetworkMembership.objects.create(
        network=hub, school=elm.orgs["north"], joined_on=date(2020, 9, 1), left_on=date(2024, 8, 31)
    )
    code = CodeFactory.create(owner=network, title="Partners Code", audience=["reviewer"])
    places = {"oak-north": oak.orgs["north"], "elm-south": elm.orgs["south"], "elm-north": elm.orgs["north"]}
    reviewers = {}
    for name, schools in {"A": ["oak-north"], "B": ["elm-south", "oak-north"], "C": [], "D": ["elm-north"]}.items():
        person = PersonFactory.create(full_name=f"Reviewer {name}")
        RoleFactory.create(person=person, organisation=hub, kind="reviewer", starts_on=date(2025, 9, 1))
        for offset, place in enumerate(schools):
            RoleFactory.create(
                person=person, organisation=places[place], kind="employee", starts_on=date(2018 + offset, 9, 1)
            )
        reviewers[name] = person
    version = make_version(code)
    adopt(version, network_board, held_on=today - timedelta(days=40))
    sign(Obligation.objects.get(person=reviewers["A"], version=version), at=days_ago(3))
    admin = officer(network)
    board = client_for(admin).get(url()).context["board"]
    by_school = {row.label: as_numbers(row.counts) for row in board.by_school}
    assert by_school == {
        oak.orgs["north"].name: {"owe": 1, "signed": 1, "outstanding": 0, "overdue": 0},
        elm.orgs["south"].name: {"owe": 1, "signed": 0, "outstanding": 0, "overdue": 1},  # B's earliest school role
        "No school": {"owe": 2, "signed": 0, "outstanding": 0, "overdue": 2},  # C has none; D's school left the network
    }
    # Narrowing to one member school counts only the people attributed to it, and the drill-down agrees.
    narrowed = client_for(admin).get(
        url("reports:people", organisation=network.pk, version=version.pk, school=elm.orgs["south"].pk)
    )
    assert [row.name for row, _ in narrowed.context["rows"]] == ["Reviewer B"]
    assert narrowed.context["rows"][0][0].school == elm.orgs["south"].name


def test_school_chart_and_timeline_are_accessible_svg_with_the_numbers_in_text(oak, client_for):
    page = client_for(oak.admin).get(url()).content.decode()
    north = oak.orgs["north"].name
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" id="chart-schools" role="img"' in page
    assert 'aria-labelledby="chart-schools-title chart-schools-desc"' in page
    assert f"{north}: 8 owe, 5 signed, 1 outstanding, 2 overdue, 62.5% signed" in page
    assert '<title id="chart-timeline-title">Percentage signed over time</title>' in page
    assert "cdn" not in page.lower() and '<script src="http' not in page


@pytest.mark.parametrize("view", ["reports:dashboard", "reports:people"])
def test_query_count_does_not_grow_with_people_or_schools(oak, client_for, view):
    client = client_for(oak.admin)
    small = query_count(client, url(view))
    trust = oak.orgs["trust"]
    for index in range(4):
        school = OrganisationFactory.create(
            name=f"Oak Extra {index}", slug=f"oak-extra-{index}", kind="school", parent=trust
        )
        for person_index in range(8):
            person = PersonFactory.create()
            role_create(person=person, organisation=school, kind="employee", starts_on=date(2020, 9, 1))
            if person_index % 2:
                sign(Obligation.objects.get(person=person, version=oak.version), at=days_ago(person_index))
    board = client.get(url()).context["board"]
    assert board.totals.owe == 14 + 32 and len(board.by_school) == 7
    assert query_count(client, url(view)) == small


def test_a_school_admin_sees_only_their_school(oak, client_for):
    client = client_for(oak.school_admin)
    response = client.get(url())
    board = response.context["board"]
    north = oak.orgs["north"]
    assert board.filters.organisation == north
    assert [value for value, _label in response.context["form"].fields["organisation"].choices] == [str(north.pk)]
    assert as_numbers(board.totals) == counter_numbers(
        expected(oak.obligations(), timezone.localdate(), school_key(oak))["north"]
    )
    assert oak.orgs["south"].name not in response.content.decode()
    assert client.get(url(organisation=oak.orgs["trust"].pk)).status_code == 404
    assert client.get(url(organisation=north.pk, school=oak.orgs["south"].pk)).status_code == 404


def test_superseded_version_choice_is_labelled(oak, client_for):
    newer = make_version(oak.code, label="2027-2028")
    adopt(newer, oak.orgs["board"], held_on=timezone.localdate())
    page = client_for(oak.admin).get(url()).content.decode()
    assert "2026-2027 (superseded)" in page and "2027-2028 (adopted)" in page


def test_demo_trust_admin_sees_the_staff_code(demo, client_for):
    admin = Person.objects.get(email="admin@att.example")
    board = client_for(admin).get(url()).context["board"]
    assert board.filters.code.slug == "att-staff-code-of-conduct"
    obligations = list(Obligation.objects.filter(version=board.filters.version).select_related("role"))
    assert as_numbers(board.totals) == counter_numbers(expected(obligations, timezone.localdate())["all"])
    assert {row.label for row in board.by_school} >= {"Northgate Academy", "Riverside Academy"}


def test_filters_object_round_trips_through_its_parameters(oak):
    filters = ReportFilters(
        organisation=oak.orgs["trust"], as_at=date(2026, 10, 1), version=oak.version, code=oak.code, role="employee"
    )
    assert filters.as_params() == {
        "organisation": str(oak.orgs["trust"].pk),
        "code": str(oak.code.pk),
        "version": str(oak.version.pk),
        "role": "employee",
        "as_at": "2026-10-01",
    }
    assert filters.basename("people") == f"oak-trust-{oak.code.slug}-2026-2027-people-as-at-2026-10-01"
    assert (
        dashboard(oak.admin, filters).totals.owe
        == counter_numbers(
            expected([o for o in oak.obligations() if o.role.kind == "employee"], date(2026, 10, 1)).get("all", {})
        )["owe"]
    )


def test_changing_the_organisation_drops_choices_that_belong_to_the_previous_one(oak, elm, client_for):
    root = PersonFactory.create(is_superuser=True)
    client = client_for(root)
    # From Oak's staff code to Elm: Elm's own code is shown, with a note, rather than an error.
    response = client.get(url(organisation=elm.orgs["trust"].pk, code=oak.code.pk, version=oak.version.pk))
    assert response.status_code == 200 and response.context["board"].filters.version == elm.version
    assert any("do not apply to Elm Trust" in str(m) for m in response.context["messages"])
    # From Oak North to Oak South, with North still chosen as the school.
    admin = client_for(oak.admin)
    response = admin.get(url(organisation=oak.orgs["south"].pk, version=oak.version.pk, school=oak.orgs["north"].pk))
    assert response.status_code == 200 and response.context["board"].filters.school == ""
    assert response.context["board"].filters.organisation == oak.orgs["south"]
