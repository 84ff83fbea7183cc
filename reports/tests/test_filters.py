"""reports.filters resolves what a report asks for to what the user may see, and the access rules it rests
on (conduct.permissions), each true and false for the right people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, QueryDict
from django.utils import timezone

from conduct.models import Code, CodeVersion, MembershipStatus, NetworkMembership, Organisation, Person
from conduct.permissions import (
    can_publish_register,
    can_report_on_school,
    can_view_report_job,
    organisations_for_reports,
    reports_reach_path,
)
from conduct.tests.factories import CodeFactory, OrganisationFactory, PersonFactory, adopt, make_version, trust_tree
from reports.filters import report_filters_resolve, report_organisations
from reports.tests.conftest import officer

pytestmark = pytest.mark.django_db


def anonymous() -> Person:
    """The visitor a public page passes in; the rules take it as they take a person."""
    return cast(Person, AnonymousUser())


@dataclass
class Trust:
    orgs: dict[str, Organisation]
    code: Code
    version: CodeVersion
    admin: Person
    school_admin: Person  # North Academy's
    teacher: Person  # a signatory at North Academy


def adopted_code(owner: Organisation, board: Organisation, title: str) -> tuple[Code, CodeVersion]:
    code = CodeFactory.create(owner=owner, title=title, audience=["employee"])
    version = make_version(code)
    adopt(version, board, held_on=timezone.localdate() - timedelta(days=20))
    version.refresh_from_db()
    return code, version


def a_trust(name: str) -> Trust:
    orgs = trust_tree(name)
    code, version = adopted_code(orgs["trust"], orgs["board"], f"{name} Staff Code")
    return Trust(
        orgs=orgs,
        code=code,
        version=version,
        admin=officer(orgs["trust"]),
        school_admin=officer(orgs["north"]),
        teacher=officer(orgs["north"], "employee"),
    )


@pytest.fixture
def oak(db) -> Trust:
    return a_trust("Oak Trust")


@pytest.fixture
def elm(db) -> Trust:
    return a_trust("Elm Trust")


def query(**params: object) -> QueryDict:
    data = QueryDict(mutable=True)
    data.update({key: str(value) for key, value in params.items()})
    return data


# ---------------------------------------------------------------------------
# The resolver
# ---------------------------------------------------------------------------


def test_the_first_visit_opens_on_the_first_organisation_and_its_adopted_code(oak):
    resolved = report_filters_resolve(oak.admin, query())

    assert resolved.organisation == oak.orgs["trust"] and resolved.dropped == []
    assert resolved.filters is not None
    assert (resolved.filters.organisation, resolved.filters.code, resolved.filters.version) == (
        oak.orgs["trust"],
        oak.code,
        oak.version,
    )
    assert resolved.filters.as_at == timezone.localdate()
    assert resolved.params == {
        "organisation": str(oak.orgs["trust"].pk),
        "code": str(oak.code.pk),
        "version": str(oak.version.pk),
        "as_at": timezone.localdate().isoformat(),
    }


def test_an_organisation_code_version_or_school_of_another_trust_is_a_404(oak, elm):
    own = {"organisation": elm.orgs["trust"].pk}
    for foreign in (
        {"organisation": oak.orgs["trust"].pk},
        {**own, "code": oak.code.pk},
        {**own, "version": oak.version.pk},
        {**own, "school": oak.orgs["north"].pk},
        {**own, "school": "north"},
        {**own, "code": "999999"},
    ):
        with pytest.raises(Http404):
            report_filters_resolve(elm.admin, query(**foreign))
    with pytest.raises(Http404):
        report_filters_resolve(oak.teacher, query())  # a signatory runs no reports


def test_a_code_or_school_of_another_of_the_users_organisations_is_dropped_not_refused(oak):
    north_code = CodeFactory.create(owner=oak.orgs["north"], title="North Academy Code", audience=["employee"])
    south = oak.orgs["south"]

    moved = report_filters_resolve(oak.admin, query(organisation=south.pk, code=north_code.pk))
    assert moved.dropped == ["code"] and moved.filters is not None
    assert moved.filters.code == oak.code  # south's own (nearest) code instead

    school = report_filters_resolve(oak.admin, query(organisation=south.pk, school=oak.orgs["north"].pk))
    assert school.dropped == ["school"] and school.filters is not None and school.filters.school == ""
    with pytest.raises(Http404):  # North Academy's admin does not run reports for South Academy
        report_filters_resolve(oak.school_admin, query(organisation=oak.orgs["north"].pk, school=south.pk))


def test_a_day_in_the_future_leaves_the_form_invalid(oak):
    resolved = report_filters_resolve(oak.admin, query(as_at=(timezone.localdate() + timedelta(days=1)).isoformat()))
    assert resolved.filters is None and "as_at" in resolved.form.errors and resolved.params == {}


def test_resolving_takes_the_same_queries_for_one_code_as_for_several(oak, django_assert_num_queries):
    params = query(organisation=oak.orgs["trust"].pk)
    # The user's grants and organisations, the codes and versions that apply, the school map.
    with django_assert_num_queries(5):
        report_filters_resolve(oak.admin, params)
    for title in ("Governors Code", "Volunteers Code", "Visitors Code"):
        adopted_code(oak.orgs["trust"], oak.orgs["board"], title)
    oak.admin = Person.objects.get(pk=oak.admin.pk)  # a fresh request: its grants read again
    with django_assert_num_queries(5):
        resolved = report_filters_resolve(oak.admin, params)
    assert len(resolved.form.codes) == 4


# ---------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------


def test_reports_are_run_by_officers_for_their_part_of_the_tree(oak, elm):
    assert [org.path for org in organisations_for_reports(oak.admin)] == sorted(o.path for o in oak.orgs.values())
    assert list(organisations_for_reports(oak.school_admin)) == [oak.orgs["north"]]
    assert report_organisations(oak.school_admin) == [oak.orgs["north"]]
    for nobody in (oak.teacher, anonymous()):
        assert not organisations_for_reports(nobody).exists()
        with pytest.raises(Http404):
            report_organisations(nobody)


def test_a_code_is_reached_if_its_owner_is_above_or_below_an_organisation_reported_on(oak, elm):
    trust, north, south = oak.orgs["trust"].path, oak.orgs["north"].path, oak.orgs["south"].path
    assert reports_reach_path(oak.admin, trust) and reports_reach_path(oak.admin, north)
    assert reports_reach_path(oak.school_admin, north) and reports_reach_path(oak.school_admin, trust)  # above
    assert not reports_reach_path(oak.school_admin, south)
    assert not reports_reach_path(elm.admin, north)
    assert not reports_reach_path(oak.teacher, north) and not reports_reach_path(anonymous(), north)
    assert reports_reach_path(PersonFactory.create(is_superuser=True), south)


def test_a_school_is_reported_on_by_its_officers_and_by_networks_it_accepted(oak, elm):
    north = oak.orgs["north"]
    assert can_report_on_school(oak.admin, north.pk) and can_report_on_school(oak.school_admin, north.pk)
    assert not can_report_on_school(oak.school_admin, oak.orgs["south"].pk)
    for outsider in (elm.admin, oak.teacher, anonymous()):
        assert not can_report_on_school(outsider, north.pk)

    network = OrganisationFactory.create(name="Science Network", slug="science", kind="network")
    network_admin = officer(network)
    NetworkMembership.objects.create(
        network=network, school=oak.orgs["south"], status=MembershipStatus.PENDING, requested_at=timezone.now()
    )
    NetworkMembership.objects.create(network=network, school=north, joined_on=date(2024, 9, 1))
    assert can_report_on_school(network_admin, north.pk)
    assert not can_report_on_school(network_admin, oak.orgs["south"].pk)  # asked, not yet accepted


def test_a_background_report_is_seen_by_whoever_asked_while_they_still_reach_its_organisation(oak, elm):
    trust = oak.orgs["trust"]
    assert can_view_report_job(oak.admin, requested_by_id=oak.admin.pk, organisation=trust)
    assert not can_view_report_job(oak.admin, requested_by_id=oak.school_admin.pk, organisation=trust)
    assert not can_view_report_job(oak.school_admin, requested_by_id=oak.school_admin.pk, organisation=trust)
    assert not can_view_report_job(elm.admin, requested_by_id=elm.admin.pk, organisation=trust)
    assert not can_view_report_job(anonymous(), requested_by_id=None, organisation=trust)


def test_only_an_admin_publishes_the_register(oak, elm):
    trust = oak.orgs["trust"]
    assert can_publish_register(oak.admin, trust)
    clerk = officer(oak.orgs["board"], "clerk")
    for user in (clerk, oak.school_admin, elm.admin, oak.teacher, anonymous()):
        assert not can_publish_register(user, trust)
