"""The people directory: who each officer sees, the filters, sorting, paging, exports and a fixed query count."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.forms import Select
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from acknowledgements.models import Invitation
from conduct.tests.factories import PersonFactory, RoleFactory
from core.widgets import QuickSelect
from people.selectors import SORTS, DirectoryFilters, directory, directory_page, directory_walk

pytestmark = pytest.mark.django_db
URL = reverse("people:directory")


def names(response) -> list[str]:
    return [row.person.full_name for row in response.context["rows"]]


def test_a_trust_admin_sees_their_trusts_people_only(world, client_for):
    response = client_for(world.trust_admin).get(URL)
    assert response.status_code == 200
    listed = set(names(response))
    assert {"Ada Lovelace", "Gita Governor", "Sam South", "Clive Clerk", "Nina Northadmin"} <= listed
    assert "Grace Hopper" not in listed and "Eli Elmadmin" not in listed


def test_a_school_admin_sees_only_their_school_and_a_clerk_only_their_board(world, client_for):
    school = set(names(client_for(world.school_admin).get(URL)))
    assert "Ada Lovelace" in school and "Sam South" not in school and "Gita Governor" not in school
    board = set(names(client_for(world.clerk).get(URL)))
    assert "Gita Governor" in board and "Ada Lovelace" not in board and "Sam South" not in board


def test_someone_who_manages_nobody_gets_404(world, client_for):
    assert client_for(world.oak.person).get(URL).status_code == 404
    assert client_for(world.oak.person).get(reverse("people:export", args=["csv"])).status_code == 404


def test_search_by_name_or_email_words(world, client_for):
    client = client_for(world.trust_admin)
    assert names(client.get(URL, {"q": "lovelace"})) == ["Ada Lovelace"]
    assert names(client.get(URL, {"q": "sam@oak"})) == ["Sam South"]
    assert names(client.get(URL, {"q": "ada grace"})) == []


def test_filter_by_organisation_below_kind_and_role_status(world, client_for):
    client = client_for(world.trust_admin)
    on_boards = set(names(client.get(URL, {"organisation": world.orgs["board"].pk})))
    assert {"Gita Governor", "Clive Clerk"} <= on_boards and "Ada Lovelace" not in on_boards
    assert names(client.get(URL, {"kind": "local_governor"})) == ["Gita Governor"]
    role = world.south_staff.roles.get()
    role.ends_on = timezone.localdate() - timedelta(days=1)
    role.save()
    assert "Sam South" not in names(client.get(URL))
    assert names(client.get(URL, {"roles": "ended"})) == ["Sam South"]
    assert "Sam South" in names(client.get(URL, {"roles": "all"}))


def test_filter_by_overdue_invitation_and_never_signed_in(world, client_for):
    client = client_for(world.trust_admin)
    # Ada and Sam owe the staff code adopted 40 days ago, due 30 days after: overdue.
    assert set(names(client.get(URL, {"overdue": "on"}))) == {"Ada Lovelace", "Sam South"}
    Invitation.objects.create(person=world.governor, role=world.governor.roles.get(), accepted_at=None)
    Invitation.objects.create(person=world.south_staff, role=world.south_staff.roles.get(), accepted_at=timezone.now())
    assert names(client.get(URL, {"invitation": "pending"})) == ["Gita Governor"]
    assert names(client.get(URL, {"invitation": "accepted"})) == ["Sam South"]
    world.governor.last_login = timezone.now()
    world.governor.save()
    never = set(names(client.get(URL, {"never_signed_in": "on", "organisation": world.orgs["north_lgb"].pk})))
    assert "Gita Governor" not in never and "Clive Clerk" in never


def test_sorting_and_bad_filters(world, client_for):
    client = client_for(world.trust_admin)
    listed = names(client.get(URL, {"sort": "-name"}))
    assert listed == sorted(listed, reverse=True)
    response = client.get(URL, {"organisation": world.elm_orgs["trust"].pk})  # outside their reach
    assert response.status_code == 400 and "organisation" in response.context["form"].errors
    assert client.get(URL, {"kind": "wizard"}).status_code == 400
    assert client.get(URL, {"q": "x" * 201}).status_code == 400


def test_paged_with_a_constant_number_of_queries(world, client_for):
    client = client_for(world.trust_admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"roles": "all"}).status_code == 200
        return len(captured)

    few = queries()
    for n in range(60):
        RoleFactory.create(
            person=PersonFactory.create(full_name=f"Extra {n:02d}"), organisation=world.orgs["south"], kind="volunteer"
        )
    many = queries()
    assert few == many
    first = client.get(URL, {"roles": "all"}).context["page"]
    assert first.has_next and not first.has_previous and len(first.object_list) == 50
    second = client.get(URL, {"roles": "all", "page": 2}).context["page"]
    assert second.number == 2 and not second.has_next and second.start_index == 51
    assert client.get(URL, {"page": "nonsense"}).context["page"].number == 1


def test_csv_and_xlsx_exports_hold_the_filtered_people(world, client_for):
    client = client_for(world.trust_admin)
    response = client.get(reverse("people:export", args=["csv"]), {"organisation": world.orgs["north"].pk})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {row["Name"] for row in rows} == {"Ada Lovelace", "Nina Northadmin"}
    ada = next(row for row in rows if row["Name"] == "Ada Lovelace")
    assert ada["Overdue"] == "1" and "Employee at Oak Trust North Academy" in ada["Roles"]
    assert "Grace Hopper" not in str(rows)
    # A surname no generated (Faker) name has, so the filter finds Ada alone ("ada" also matched "Adam").
    response = client.get(reverse("people:export", args=["xlsx"]), {"q": "lovelace"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:2] == ["Name", "Email"] and values[1][:2] == ["Ada Lovelace", "ada@oak.example.org"]
    assert len(values) == 2


def test_another_trusts_admin_exports_none_of_these_people(world, client_for):
    response = client_for(world.elm_admin).get(reverse("people:export", args=["csv"]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Grace Hopper" in text and "Ada Lovelace" not in text and "Sam South" not in text


def test_a_formula_in_a_name_is_neutralised_in_the_export(world, client_for):
    RoleFactory.create(person=PersonFactory.create(full_name="=HYPERLINK(1)"), organisation=world.orgs["north"])
    response = client_for(world.trust_admin).get(reverse("people:export", args=["csv"]), {"q": "hyperlink"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text


def test_admins_find_the_retention_page_from_the_directory_and_clerks_do_not(world, client_for):
    retention = reverse("privacy:retention")
    assert retention in client_for(world.trust_admin).get(URL).content.decode()
    assert retention in client_for(world.school_admin).get(URL).content.decode()
    assert retention not in client_for(world.clerk).get(URL).content.decode()
    # The link leads somewhere the admin may go, and nowhere the clerk may.
    assert client_for(world.trust_admin).get(retention).status_code == 200
    assert client_for(world.clerk).get(retention).status_code == 404


ALL_SORTS = ["name", "-name", "email", "-email", "last_login", "-last_login", "joined", "-joined"]


def _extras_with_ties_and_nulls(world) -> None:
    """120 more people at Oak South: seven names over and over, and a third who signed in at one of four moments
    (ties), the rest never (nulls); the pk breaks every tie, so nobody may be skipped or repeated."""
    moment = timezone.now().replace(microsecond=0)
    for n in range(120):
        person = PersonFactory.create(full_name=f"Extra {n % 7}", email=f"extra{n:03d}@oak.example.org")
        if n % 3 == 0:
            person.last_login = moment - timedelta(days=n % 4)
            person.save(update_fields=["last_login"])
        RoleFactory.create(person=person, organisation=world.orgs["south"], kind="volunteer")


def _walk(client, params: dict, link: str) -> tuple[list[list[str]], list[str], list[int]]:
    """The pages the directory lists following its ``link`` ("Next" or "Previous") until there is none: each page's
    names, the SQL of each page after the first (its statements one a line) and each page's number."""
    pages: list[list[str]] = []
    later_sql: list[str] = []
    numbers: list[int] = []
    url = URL
    while True:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
        assert response.status_code == 200
        if pages:
            later_sql.append("\n".join(query["sql"] for query in captured.captured_queries))
        pages.append(names(response))
        numbers.append(response.context["page"].number)
        found = re.search(rf'href="\?([^"]*)">{link}</a>', response.content.decode())
        if found is None:
            return pages, later_sql, numbers
        url, params = f"{URL}?{html.unescape(found.group(1))}", {}


@pytest.mark.parametrize("sort", ALL_SORTS)
def test_next_links_previous_links_and_page_numbers_list_the_same_people(world, client_for, sort):
    _extras_with_ties_and_nulls(world)
    client = client_for(world.trust_admin)
    forward, next_sql, numbers = _walk(client, {"roles": "all", "sort": sort}, "Next")
    expected = [p.full_name for p in directory(world.trust_admin, DirectoryFilters(roles="all", sort=sort))]
    assert sum(forward, []) == expected and len(expected) > 100 and numbers == [1, 2, 3]
    # Back from the last page by its Previous links: the same pages, numbered the same, the first one marked first.
    backward, previous_sql, numbers = _walk(client, {"roles": "all", "sort": sort, "page": 3}, "Previous")
    assert backward[::-1] == forward and numbers == [3, 2, 1]
    # And each page opened by its number (a typed or bookmarked URL).
    by_number = [names(client.get(URL, {"roles": "all", "sort": sort, "page": n})) for n in (1, 2, 3)]
    assert by_number == forward
    # A page opened by its number walks past the OFFSET reading only the sort's columns, then reads the page as a
    # Next link would: the wide rows are never read through an OFFSET.
    with CaptureQueriesContext(connection) as captured:
        assert names(client.get(URL, {"roles": "all", "sort": sort, "page": 3})) == forward[2]
    offsets = [query["sql"] for query in captured.captured_queries if "OFFSET" in query["sql"]]
    assert len(offsets) == 1 and '"password"' not in offsets[0]
    # Pages reached by a link are read by keyset, never by an OFFSET, in as many queries as one by its number.
    assert len(next_sql) == len(previous_sql) == 2
    assert not any("OFFSET" in sql for sql in next_sql + previous_sql)
    assert len({sql.count("\n") for sql in next_sql + previous_sql}) == 1


@pytest.mark.parametrize("sort", ["last_login", "-last_login"])
def test_the_keyset_crosses_between_the_signed_in_and_the_never_signed_in_both_ways(world, client_for, sort):
    _extras_with_ties_and_nulls(world)
    people = directory(world.trust_admin, DirectoryFilters(roles="all", sort=sort))
    everyone = list(people)
    signed_in = [p.last_login is not None for p in everyone]
    # Ascending, a null (never signed in) comes after every date; descending, before: on every database.
    assert signed_in == sorted(signed_in, reverse=sort == "last_login") and 30 < sum(signed_in) < len(everyone) - 30
    boundary = signed_in.index(not signed_in[0])  # the first person of the other group
    for index in [0, boundary - 2, boundary - 1, boundary, boundary + 1, len(everyone) - 1, *range(3, 130, 11)]:
        anchor = everyone[index].pk
        after = directory_page(people, 2, 5, after=anchor, sort=sort).object_list
        before = directory_page(people, 2, 5, before=anchor, sort=sort).object_list
        assert after == everyone[index + 1 : index + 6], index
        assert before == everyone[max(0, index - 5) : index], index


def test_the_previous_link_of_the_second_page_leads_to_the_first(world, client_for):
    _extras_with_ties_and_nulls(world)
    client = client_for(world.trust_admin)
    first = client.get(URL, {"roles": "all"}).context["page"]
    second = client.get(URL, {"roles": "all", "page": 2, "after": first.next_after}).context["page"]
    back = client.get(URL, {"roles": "all", "page": 1, "before": second.previous_before}).context["page"]
    assert back.object_list == first.object_list and back.number == 1 and not back.has_previous and back.has_next
    # A Previous link whose page number is wrong still lands on the first page when nobody comes before.
    wrong = client.get(URL, {"roles": "all", "page": 7, "before": second.previous_before}).context["page"]
    assert wrong.number == 1 and wrong.object_list == first.object_list


def test_a_bookmark_outside_the_directory_is_ignored(world, client_for):
    for n in range(60):
        RoleFactory.create(
            person=PersonFactory.create(full_name=f"Extra {n:02d}"), organisation=world.orgs["south"], kind="volunteer"
        )
    client = client_for(world.trust_admin)
    by_number = names(client.get(URL, {"roles": "all", "page": 2}))
    other_trusts = world.elm.person.pk  # not theirs to use as a place in their list
    assert names(client.get(URL, {"roles": "all", "page": 2, "after": other_trusts})) == by_number
    assert names(client.get(URL, {"roles": "all", "page": 2, "after": "x"})) == by_number
    response = client.get(URL, {"roles": "all", "page": 2, "after": "-5"})
    assert response.status_code == 200 and names(response) == by_number
    assert names(client.get(URL, {"roles": "all", "page": 2, "before": other_trusts})) == by_number
    assert names(client.get(URL, {"roles": "all", "page": 2, "before": "x", "after": other_trusts})) == by_number


def test_the_quick_select_writes_what_djangos_template_writes():
    choices = [("", "Any <one>"), ("a", 'A "quoted"'), ("Group", [("b", "B"), ("c", "C")])]
    attrs = {"class": "form-select", "required": True, "disabled": False}
    for value in ["a", None, "c", "unknown"]:
        ours = QuickSelect(choices=choices, attrs=attrs).render("n", value, {"id": "id_n", "aria-describedby": "x"})
        djangos = Select(choices=choices, attrs=attrs).render("n", value, {"id": "id_n", "aria-describedby": "x"})
        assert ours == re.sub(r">\s+<", "><", djangos.strip())
        assert ("selected" in ours) == (value != "unknown")


def _options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return re.findall(r"<option [^>]*>([^<]*)</option>", select.group(1))


def test_the_filters_offer_only_where_the_officer_manages_people_each_read_once(world, client_for):
    client = client_for(world.trust_admin)
    client.get(URL)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(URL, {"organisation": world.orgs["north"].pk}).content.decode()
    oak = sorted(organisation.name for organisation in world.orgs.values())
    assert sorted(_options(page, "organisation")) == sorted(["All you manage", *oak])
    assert sorted(_options(page, "board")) == sorted(["---------", *(n for n in oak if "Board" in n or "LGB" in n)])
    assert f'<option value="{world.orgs["north"].pk}" selected>' in page
    option_lists = 'SELECT "conduct_organisation"."id" AS "pk", "conduct_organisation"."name" AS "name" FROM'
    assert sum(q["sql"].startswith(option_lists) for q in captured.captured_queries) == 2  # each select's, once
    clerk_page = client_for(world.clerk).get(URL).content.decode()
    assert _options(clerk_page, "organisation") == ["All you manage", world.orgs["north_lgb"].name]


def test_an_organisation_filter_narrows_the_scope_and_never_widens_it(world):
    """The filter's subtree stands in for the scope only where the officer manages all of it; anywhere else (a
    caller that skipped the form) the scope still applies: a school admin, a clerk and another trust see only theirs."""

    def listed(user, organisation) -> set[str]:
        return {p.full_name for p in directory(user, DirectoryFilters(organisation=organisation, roles="all"))}

    north = {"Ada Lovelace", "Nina Northadmin"}
    assert listed(world.trust_admin, world.orgs["north"]) == north  # covered: the subtree alone
    assert listed(world.school_admin, world.orgs["north"]) == north
    assert listed(world.school_admin, world.orgs["trust"]) == north  # not covered: their school only
    assert listed(world.school_admin, world.orgs["south"]) == set()
    assert listed(world.clerk, world.orgs["trust"]) == {"Gita Governor", "Clive Clerk"}
    assert listed(world.elm_admin, world.orgs["trust"]) == set()
    overdue = DirectoryFilters(organisation=world.orgs["trust"], overdue=True)
    assert {p.full_name for p in directory(world.school_admin, overdue)} == {"Ada Lovelace"}
    assert {p.full_name for p in directory(world.trust_admin, overdue)} == {"Ada Lovelace", "Sam South"}


def test_the_walk_over_the_roles_lists_everyone_the_directory_lists_in_its_order(world):
    """``directory_walk`` (the walk past a page number's OFFSET) reads the people from their roles' copies of their
    columns, with the scope's organisations named by id: for every officer, filter and sort it gives exactly the
    sort's columns of whom ``directory`` lists, one row a person, in the same order."""
    _extras_with_ties_and_nulls(world)
    superuser = PersonFactory.create(is_superuser=True)
    Invitation.objects.create(person=world.governor, role=world.governor.roles.get(), accepted_at=None)
    Invitation.objects.create(person=world.south_staff, role=world.south_staff.roles.get(), accepted_at=timezone.now())
    people = [world.trust_admin, world.school_admin, world.clerk, world.elm_admin, superuser]
    choices = [
        DirectoryFilters(),
        DirectoryFilters(roles="all"),
        DirectoryFilters(roles="ended"),
        DirectoryFilters(organisation=world.orgs["trust"], roles="all"),
        DirectoryFilters(organisation=world.orgs["north"]),
        DirectoryFilters(organisation=world.orgs["south"], roles="all"),
        DirectoryFilters(overdue=True),
        DirectoryFilters(organisation=world.orgs["trust"], overdue=True),
        DirectoryFilters(kind="local_governor", roles="all"),
        DirectoryFilters(q="extra 3"),
        DirectoryFilters(q="OAK.example", roles="all"),
        DirectoryFilters(invitation="pending"),
        DirectoryFilters(invitation="accepted"),
        DirectoryFilters(never_signed_in=True, roles="all"),
    ]
    listed_anyone = 0
    for user in people:
        for filters in choices:
            for sort in ALL_SORTS:
                chosen = DirectoryFilters(**{**filters.__dict__, "sort": sort})
                fields = [column.lstrip("-") for column in SORTS[sort]]
                expected = list(directory(user, chosen).values_list(*fields))
                walked = directory_walk(user, chosen)
                assert list(walked) == expected, (user, chosen)
                if expected:  # (a query sure to find nobody has no SQL to print)
                    assert '"conduct_organisation"."path"' not in str(walked.query), chosen
                listed_anyone += bool(expected)
    assert listed_anyone > 150  # most combinations list somebody: the comparison is not of empty lists
    assert {name for name, _pk in directory_walk(world.school_admin, DirectoryFilters())} == {
        "Ada Lovelace",
        "Nina Northadmin",
    }
    nobody = PersonFactory.create()
    assert list(directory_walk(nobody, DirectoryFilters())) == []
