"""The drill-down's pages: Next and Previous links (a bookmark row, no OFFSET) reach the same rows, in the same
order, as pages opened by their number, with ties on names and people owing two versions; a bookmark outside the
user's rows is never used; the remind-now form comes back to the same page; the query count does not grow.

Each runs twice on PostgreSQL: reading by walking the people's name index, and left to the planner."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from acknowledgements.models import Obligation
from conduct.models import Person
from conduct.services import role_create
from conduct.tests.factories import PersonFactory, adopt, make_version
from reports import drilldown
from reports.selectors import ReportFilters, people, school_map
from reports.tests.conftest import officer
from reports.tests.factories import days_ago, sign
from reports.tests.helpers import query_count, status_on

pytestmark = pytest.mark.django_db

PEOPLE = reverse("reports:people")
NEXT = re.compile(r'<a class="page-link" href="\?([^"]*)">Next</a>')
NEEDS_POSTGRESQL = "Needs PostgreSQL: the name-index walk is a LATERAL join, which SQLite does not have."
PREVIOUS = re.compile(r'<a class="page-link" href="\?([^"]*)">Previous</a>')


@pytest.fixture(params=["walk", "planner"])
def reading(request, monkeypatch):
    """How the rows are read: walking the name index (PostgreSQL only) or by the planner's own plan."""
    walked = []
    if request.param == "walk":
        if connection.vendor != "postgresql":
            pytest.skip(NEEDS_POSTGRESQL)
        monkeypatch.setattr("reports.drilldown.WALK_RATIO", 0)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE conduct_person")  # a never-analysed table is left to the planner
        original = drilldown._walked

        def spy(*args, **kwargs):
            walked.append((args, kwargs))
            return original(*args, **kwargs)

        monkeypatch.setattr(drilldown, "_walked", spy)
    else:
        monkeypatch.setattr("reports.drilldown.WALK_RATIO", 10**12)
    request.node.walked = walked
    yield request.param
    assert bool(walked) == (request.param == "walk")  # each variant read its rows the way it says


def with_ties(scenario, count: int = 5) -> None:
    """``count`` more people in North all called the same, so the order falls back on the person, then version."""
    for _ in range(count):
        person = PersonFactory.create(full_name="Ann Same")
        role_create(person=person, organisation=scenario.orgs["north"], kind="employee", starts_on=date(2020, 9, 1))


def expected_order(obligations) -> list[int]:
    """The rows owed today, in the order worked out here: name, person, version."""
    today = timezone.localdate()
    owed = [o for o in obligations if status_on(o, today) is not None]
    return [o.pk for o in sorted(owed, key=lambda o: (o.person.full_name, o.person_id, o.version_id))]


def ids(response) -> list[int]:
    assert response.status_code == 200
    return [row.obligation_id for row, _ in response.context["rows"]]


def by_links(client, query: dict) -> tuple[list[list[int]], list[str]]:
    """Every page, reached from the first through its Next links: the rows of each and the links followed."""
    response = client.get(f"{PEOPLE}?{urlencode(query)}")
    pages, links = [ids(response)], []
    while match := NEXT.search(response.content.decode()):
        links.append(unescape(match.group(1)))
        response = client.get(f"{PEOPLE}?{links[-1]}")
        pages.append(ids(response))
    return pages, links


def by_numbers(client, query: dict, pages: int) -> list[list[int]]:
    return [ids(client.get(f"{PEOPLE}?{urlencode({**query, 'page': number})}")) for number in range(1, pages + 1)]


def test_next_links_list_the_same_rows_as_page_numbers_with_ties_on_names(oak, client_for, monkeypatch, reading):
    monkeypatch.setattr("reports.views.PEOPLE_PER_PAGE", 3)
    with_ties(oak)
    client = client_for(oak.admin)
    query = {"organisation": oak.orgs["trust"].pk, "version": oak.version.pk}
    pages, links = by_links(client, query)
    order = expected_order(oak.obligations())
    assert len(order) == 19 and [pk for page in pages for pk in page] == order
    assert [len(page) for page in pages] == [3] * 6 + [1]
    assert all("after=" in link for link in links)  # a bookmark, not an OFFSET
    assert by_numbers(client, query, len(pages)) == pages
    last = client.get(f"{PEOPLE}?{links[-1]}")
    assert "Page 7 of 7" in last.content.decode() and not NEXT.search(last.content.decode())


def test_previous_links_walk_back_over_the_same_pages(oak, client_for, monkeypatch, reading):
    monkeypatch.setattr("reports.views.PEOPLE_PER_PAGE", 3)
    with_ties(oak)
    client = client_for(oak.admin)
    query = {"organisation": oak.orgs["trust"].pk, "version": oak.version.pk}
    pages, links = by_links(client, query)
    response = client.get(f"{PEOPLE}?{links[-1]}")
    back = [ids(response)]
    while match := PREVIOUS.search(response.content.decode()):
        response = client.get(f"{PEOPLE}?{unescape(match.group(1))}")
        back.append(ids(response))
    assert back[::-1] == pages
    previous = PREVIOUS.search(client.get(f"{PEOPLE}?{links[-1]}").content.decode())
    assert previous is not None and "before=" in unescape(previous.group(1))


def test_a_person_owing_two_versions_is_listed_once_for_each_in_version_order(oak, client_for, monkeypatch, reading):
    monkeypatch.setattr("reports.views.PEOPLE_PER_PAGE", 4)
    newer = make_version(oak.code, label="2027-2028")
    adopt(newer, oak.orgs["board"], held_on=timezone.localdate())
    client = client_for(oak.admin)
    query = {"organisation": oak.orgs["trust"].pk, "code": oak.code.pk, "version": ""}
    pages, _ = by_links(client, query)
    every = list(Obligation.objects.filter(code=oak.code).select_related("role", "person"))
    rows = [pk for page in pages for pk in page]
    assert rows == expected_order(every) and len(rows) == 8 + 14
    assert by_numbers(client, query, len(pages)) == pages


def test_a_bookmark_outside_the_users_rows_is_not_used(oak, elm, client_for, monkeypatch, reading):
    monkeypatch.setattr("reports.views.PEOPLE_PER_PAGE", 2)
    client = client_for(oak.school_admin)
    north = oak.orgs["north"]
    query = {"organisation": north.pk, "version": oak.version.pk}
    first = ids(client.get(f"{PEOPLE}?{urlencode(query)}"))
    by_number = ids(client.get(f"{PEOPLE}?{urlencode({**query, 'page': 2})}"))
    assert first and by_number and not set(first) & set(by_number)
    south = Obligation.objects.filter(version=oak.version, organisation=oak.orgs["south"]).order_by("pk").first()
    elsewhere = Obligation.objects.filter(version=elm.version).order_by("pk").first()
    assert south is not None and elsewhere is not None
    for outsider in (south, elsewhere):
        for side in ("after", "before"):
            response = client.get(f"{PEOPLE}?{urlencode({**query, side: outsider.pk, 'page': 2})}")
            assert ids(response) == by_number  # read by its number, as if no bookmark were given
            assert response.context["page"].anchor is None
    shown = Obligation.objects.filter(pk__in=by_number)
    assert by_number and {o.organisation_id for o in shown} == {north.pk}


def test_a_bookmark_that_has_left_the_list_falls_back_to_the_page_number(oak, client_for, monkeypatch, reading):
    monkeypatch.setattr("reports.views.PEOPLE_PER_PAGE", 2)
    client = client_for(oak.admin)
    query = {"organisation": oak.orgs["trust"].pk, "version": oak.version.pk, "status": "overdue"}
    pages, links = by_links(client, query)
    bookmark = Obligation.objects.get(pk=pages[0][-1])
    sign(bookmark, at=days_ago(0))  # no longer overdue: the Next link's row is not among the rows
    response = client.get(f"{PEOPLE}?{links[0]}")
    assert response.context["page"].anchor is None
    assert ids(response) == ids(client.get(f"{PEOPLE}?{urlencode({**query, 'page': 2})}"))


def test_remind_now_comes_back_to_the_same_page_from_the_same_bookmark(oak, client_for, monkeypatch, reading):
    monkeypatch.setattr("reports.views.PEOPLE_PER_PAGE", 2)
    client = client_for(oak.admin)
    query = {"organisation": oak.orgs["trust"].pk, "version": oak.version.pk, "status": "overdue"}
    pages, links = by_links(client, query)
    page_two = client.get(f"{PEOPLE}?{links[0]}")
    form = re.search(r'name="back" value="([^"]*)"', page_two.content.decode())
    assert form is not None
    back = unescape(form.group(1))
    assert f"after={pages[0][-1]}" in back and "page=2" in back
    response = client.post(reverse("reports:remind_now"), {"obligations": pages[1][:1], "back": back})
    assert response.status_code == 302
    again = client.get(response["Location"])
    assert ids(again) == pages[1] and again.context["page"].number == 2


def test_query_count_is_the_same_for_one_row_and_for_120(oak, client_for, reading):
    client = client_for(oak.admin)
    query = {"organisation": oak.orgs["trust"].pk, "version": oak.version.pk, "role": "volunteer"}
    first = f"{PEOPLE}?{urlencode(query)}"
    assert len(client.get(first).context["rows"]) == 1
    one = query_count(client, first)
    for _ in range(119):
        person = PersonFactory.create()
        role_create(person=person, organisation=oak.orgs["north"], kind="volunteer", starts_on=date(2020, 9, 1))
    many = client.get(first)
    assert len(many.context["rows"]) == 50 and many.context["page"].count == 120
    assert query_count(client, first) == one
    pages, links = by_links(client, query)
    assert [len(page) for page in pages] == [50, 50, 20]
    # A Next page reads its bookmark too: one query more than the first page, whatever the rows.
    assert query_count(client, f"{PEOPLE}?{links[0]}") == query_count(client, f"{PEOPLE}?{links[1]}") == one + 1


def test_a_page_opened_by_its_number_is_walked_past_its_offset_when_walking_is_cheaper(
    oak, client_for, monkeypatch, reading, request
):
    monkeypatch.setattr("reports.views.PEOPLE_PER_PAGE", 3)
    with_ties(oak)
    client = client_for(oak.admin)
    query = {"organisation": oak.orgs["trust"].pk, "version": oak.version.pk}
    pages, _links = by_links(client, query)
    found = []  # the narrow walk's row before each page opened by its number
    original = drilldown._walked_anchor

    def spy(rows, index):
        found.append(index)
        return original(rows, index)

    monkeypatch.setattr(drilldown, "_walked_anchor", spy)
    request.node.walked.clear()
    assert by_numbers(client, query, len(pages)) == pages
    anchors = [args[1] for args, _kwargs in request.node.walked]
    if reading == "walk":  # every page after the first read from the row before it, found past the OFFSET
        assert found == [3 * n - 1 for n in range(1, len(pages))]
        assert anchors[0] is None and all(anchor is not None and anchor.forward for anchor in anchors[1:])
        assert len(anchors) == len(pages)
    else:
        assert found == [] and anchors == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason=NEEDS_POSTGRESQL)
def test_a_page_number_past_the_last_row_of_a_walk_is_empty(oak, client_for, monkeypatch):
    # The count (the tally's) can be ahead of the rows for a moment: the walk then finds no row before the page.
    monkeypatch.setattr("reports.views.PEOPLE_PER_PAGE", 3)
    monkeypatch.setattr(drilldown, "_walks", lambda count, pages: True)
    monkeypatch.setattr(drilldown, "_walked_anchor", lambda rows, index: None)
    query = {"organisation": oak.orgs["trust"].pk, "version": oak.version.pk, "page": 2}
    response = client_for(oak.admin).get(f"{PEOPLE}?{urlencode(query)}")
    assert response.status_code == 200
    assert response.context["page"].object_list == [] and not response.context["page"].has_next


@pytest.mark.skipif(connection.vendor != "postgresql", reason=NEEDS_POSTGRESQL)
def test_deep_pages_are_walked_only_while_the_walk_passes_fewer_people_than_a_sort_reads(monkeypatch):
    # The trust's 15,040 overdue rows: among 51,927 people page 20 is walked (about 3,500 people probed against
    # 15,040 rows sorted); among 259,650 only the first pages are.
    monkeypatch.setattr(drilldown, "_people_in_database", lambda: 51_927)
    assert drilldown._walks(15_040, pages=20)
    monkeypatch.setattr(drilldown, "_people_in_database", lambda: 259_650)
    assert drilldown._walks(15_040, pages=1) and not drilldown._walks(15_040, pages=20)
    monkeypatch.setattr(drilldown, "_people_in_database", lambda: None)
    assert not drilldown._walks(15_040, pages=1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason=NEEDS_POSTGRESQL)
def test_a_people_table_analysed_while_empty_leaves_the_rows_to_the_planner():
    # Autovacuum may analyse the table before anyone is in it: an estimate of 0 people is no estimate (0 ≥ 0 had
    # made every count worth walking, whatever the rows).
    assert not Person.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conduct_person")
    assert drilldown._people_in_database() is None
    assert not drilldown._walks(3, pages=2)
    PersonFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conduct_person")
    assert drilldown._people_in_database() == 3


def test_the_walks_rows_name_the_subtree_by_id_and_are_the_same_rows(oak, elm):
    # The walk's rows (``listed``) filter on the organisation ids the school map read, not on a join to each
    # obligation's organisation path; for every officer and filter they are the rows the page counts and shows.
    today, trust = timezone.localdate(), oak.orgs["trust"]
    cases = {
        "the trust's admin": (oak.admin, ReportFilters(organisation=trust, as_at=today)),
        "overdue, one version": (
            oak.admin,
            ReportFilters(organisation=trust, as_at=today, version=oak.version, status="overdue"),
        ),
        "one school": (oak.admin, ReportFilters(organisation=trust, as_at=today, school=str(oak.orgs["south"].pk))),
        "a school's own admin": (oak.school_admin, ReportFilters(organisation=oak.orgs["north"], as_at=today)),
        # A grant covering part of the organisation: the scope's own filter still applies beside the ids.
        "a school's admin, the trust": (oak.school_admin, ReportFilters(organisation=trust, as_at=today)),
        "a board's clerk": (
            officer(oak.orgs["board"], "clerk"),
            ReportFilters(organisation=oak.orgs["board"], as_at=today),
        ),
    }
    found = {}
    for name, (user, filters) in cases.items():
        schools = school_map(filters)
        walked = people(user, filters, schools, listed=True)
        if name != "a school's admin, the trust":  # (whose grant's own scope is a path)
            assert '"conduct_organisation"."path"' not in str(walked.query), name
        found[name] = sorted(walked.values_list("pk", flat=True))
        assert found[name] == sorted(people(user, filters, schools).values_list("pk", flat=True)), name
    assert found["the trust's admin"] and found["a school's own admin"] == found["a school's admin, the trust"]
    assert set(found["one school"]) < set(found["the trust's admin"])
