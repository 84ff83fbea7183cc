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
from people.forms import QuickSelect
from people.selectors import DirectoryFilters, directory

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


def _walk_by_next_links(client, query: dict) -> tuple[list[str], list[str]]:
    """Every name the directory lists, page after page through its Next links, and each later page's SQL."""
    listed, later_sql, url, params = [], [], URL, dict(query)
    while True:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
        assert response.status_code == 200
        listed += names(response)
        if listed != names(response):  # a page after the first
            later_sql.append(" ".join(query["sql"] for query in captured.captured_queries))
        if not response.context["page"].has_next:
            return listed, later_sql
        link = re.search(r'href="\?([^"]*)">Next</a>', response.content.decode())
        assert link is not None
        url, params = f"{URL}?{html.unescape(link.group(1))}", {}


@pytest.mark.parametrize("sort", ["name", "-name", "email", "-joined", "-last_login"])
def test_next_links_page_through_everyone_once_in_order(world, client_for, sort):
    for n in range(120):  # the same name many times over: the pk breaks the tie, nobody is skipped or repeated
        person = PersonFactory.create(full_name=f"Extra {n % 7}", email=f"extra{n:03d}@oak.example.org")
        RoleFactory.create(person=person, organisation=world.orgs["south"], kind="volunteer")
    client = client_for(world.trust_admin)
    listed, later_sql = _walk_by_next_links(client, {"roles": "all", "sort": sort})
    expected = [p.full_name for p in directory(world.trust_admin, DirectoryFilters(roles="all", sort=sort))]
    assert listed == expected and len(listed) > 100
    assert len(later_sql) == 2
    keyset = sort != "-last_login"  # a nullable column is paged by its number
    assert all(("OFFSET" not in sql) == keyset for sql in later_sql)


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
