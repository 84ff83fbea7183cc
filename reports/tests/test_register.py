"""The register of business interests: who served in the last 12 months, with the published fields,
exports, the publication switch and the public governance page."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from conduct.models import Meeting, Organisation, Person, Role
from conduct.services import add_years
from conduct.tests.factories import PersonFactory, RoleFactory
from core.academic_year import last_complete_academic_year
from reports.models import JobKind
from reports.register import BodyMeetings, register_for
from reports.tests.conftest import officer
from reports.tests.factories import declare, meeting_with_attendance
from reports.tests.helpers import built_in_background, query_count

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def at(day: date) -> datetime:
    return datetime.combine(day, time(18, 30), tzinfo=LONDON)


@pytest.fixture
def governors(oak, elm):
    """Oak's trust board and North local board, as they stood over the last two years."""
    today = timezone.localdate()
    board, lgb = oak.orgs["board"], oak.orgs["north_lgb"]
    start, end = last_complete_academic_year(today)
    people = {
        "chair": PersonFactory.create(full_name="Rebecca Stone", email="rebecca@example.org"),
        "vice": PersonFactory.create(full_name="Marcus Bell", email="marcus@example.org"),
        "former": PersonFactory.create(full_name="Peter Grant", email="peter@example.org"),
        "gone": PersonFactory.create(full_name="Gone Long Ago", email="gone@example.org"),
        "local": PersonFactory.create(full_name="Joanne Reid", email="joanne@example.org"),
        "member": PersonFactory.create(full_name="Grace Lin", email="grace@example.org"),
        "clerk": PersonFactory.create(full_name="Alan Fraser", email="alan@example.org"),
    }
    RoleFactory.create(
        person=people["chair"],
        organisation=board,
        kind="trustee",
        starts_on=date(2019, 9, 1),
        category="appointed",
        appointed_by="Members of the trust",
        term_ends_on=date(2028, 8, 31),
        title="Chair",
    )
    RoleFactory.create(person=people["chair"], organisation=board, kind="chair", starts_on=date(2023, 9, 1))
    RoleFactory.create(
        person=people["vice"],
        organisation=board,
        kind="trustee",
        starts_on=date(2022, 12, 1),
        category="co_opted",
        appointed_by="The trust board",
        term_ends_on=date(2026, 11, 30),
        title="Vice-chair",
    )
    stepped_down = today - timedelta(days=100)
    RoleFactory.create(
        person=people["former"],
        organisation=board,
        kind="trustee",
        starts_on=date(2018, 9, 1),
        ends_on=stepped_down,
        category="appointed",
        appointed_by="Members of the trust",
    )
    RoleFactory.create(
        person=people["gone"],
        organisation=board,
        kind="trustee",
        starts_on=date(2016, 9, 1),
        ends_on=add_years(today, -2),
    )
    RoleFactory.create(
        person=people["local"],
        organisation=lgb,
        kind="local_governor",
        starts_on=date(2024, 3, 1),
        category="parent",
        appointed_by="Elected by parents",
        term_ends_on=date(2028, 2, 28),
    )
    RoleFactory.create(
        person=people["member"], organisation=oak.orgs["trust"], kind="member", starts_on=date(2017, 4, 1)
    )
    RoleFactory.create(person=people["clerk"], organisation=board, kind="clerk", starts_on=date(2019, 9, 1))
    # Meetings in the last academic year, one in this one and a committee meeting: only the first three count.
    first = meeting_with_attendance(
        board, start + timedelta(days=20), present=[people["chair"], people["vice"], people["former"]]
    )
    meeting_with_attendance(board, start + timedelta(days=100), present=[people["chair"]], apologies=[people["vice"]])
    meeting_with_attendance(
        board,
        min(end - timedelta(days=60), stepped_down + timedelta(days=1)),
        present=[people["chair"], people["vice"]],
    )
    meeting_with_attendance(board, end + timedelta(days=20), present=[people["chair"]])
    committee = meeting_with_attendance(board, start + timedelta(days=50), present=[people["chair"], people["vice"]])
    committee.kind = "committee"
    committee.save()
    meeting_with_attendance(lgb, start + timedelta(days=30), present=[people["local"]])
    meeting_with_attendance(lgb, start + timedelta(days=130), apologies=[people["local"]])
    # Declarations: the chair's latest replaces an older one; the vice-chair has nothing to declare;
    # the local governor declared only to another trust, which is never published here.
    declare(
        people["chair"],
        board,
        interests=[
            {"kind": "business", "counterparty": "Old Company Ltd", "nature": "Director", "starts_on": date(2015, 1, 1)}
        ],
        made_at=at(today - timedelta(days=400)),
    )
    declare(
        people["chair"],
        board,
        made_at=at(today - timedelta(days=30)),
        interests=[
            {
                "kind": "business",
                "counterparty": "Stone Consulting Ltd",
                "nature": "Director and shareholder",
                "starts_on": date(2019, 4, 1),
            },
            {
                "kind": "relationship",
                "counterparty": "Oak Trust North Academy",
                "nature": "Spouse teaches at the academy",
                "starts_on": date(2021, 9, 1),
            },
            {
                "kind": "governance",
                "counterparty": "Riverside Trust",
                "nature": "Trustee",
                "starts_on": date(2015, 9, 1),
                "ends_on": date(2020, 8, 31),
            },
        ],
    )
    declare(people["vice"], board, made_at=at(date(2026, 9, 15)))
    declare(
        people["local"],
        elm.orgs["north_lgb"],
        interests=[
            {"kind": "business", "counterparty": "Elm Secret Ltd", "nature": "Owner", "starts_on": date(2020, 1, 1)}
        ],
    )
    return {"people": people, "first_meeting": first, "stepped_down": stepped_down}


def entries_by_name(register):
    return {entry.full_name: (body.organisation, entry) for body in register.bodies for entry in body.entries}


def test_last_academic_year_is_the_most_recent_complete_one():
    assert last_complete_academic_year(date(2026, 11, 22)) == (date(2025, 9, 1), date(2026, 8, 31))
    assert last_complete_academic_year(date(2026, 9, 1)) == (date(2025, 9, 1), date(2026, 8, 31))
    assert last_complete_academic_year(date(2026, 8, 30)) == (date(2024, 9, 1), date(2025, 8, 31))


def test_last_academic_year_ends_on_the_latest_31_august_on_or_before_the_day():
    day = date(2023, 1, 1)
    while day <= date(2028, 12, 31):
        end = date(day.year, 8, 31) if day >= date(day.year, 8, 31) else date(day.year - 1, 8, 31)
        assert last_complete_academic_year(day) == (date(end.year - 1, 9, 1), end), day
        day += timedelta(days=1)


def test_register_lists_everyone_who_served_in_the_last_12_months_with_the_published_fields(oak, governors):
    register = register_for(oak.orgs["trust"], timezone.localdate())
    entries = entries_by_name(register)
    adoption_chair = oak.version.adoptions.get().chair.full_name  # the chair who adopted the staff code
    # Not the clerk, not the trustee who left two years ago, not staff.
    assert set(entries) == {"Rebecca Stone", "Marcus Bell", "Peter Grant", "Joanne Reid", "Grace Lin", adoption_chair}
    body, chair = entries["Rebecca Stone"]
    assert body == oak.orgs["board"]
    assert (chair.category, chair.appointed_by, chair.appointed_on, chair.term_ends_on) == (
        "Appointed",
        "Members of the trust",
        date(2019, 9, 1),
        date(2028, 8, 31),
    )
    assert chair.role_on_board == "Chair" and chair.stepped_down_on is None
    assert chair.term_of_office == "1 September 2019 to 31 August 2028"
    assert (chair.meetings_attended, chair.meetings_held, chair.attendance) == (3, 3, "3 of 3")
    assert [(i.business, i.business_nature, i.nature, i.starts_on) for i in chair.interests] == [
        ("Stone Consulting Ltd", "Business or financial interest", "Director and shareholder", date(2019, 4, 1)),
        (
            "Oak Trust North Academy",
            "Close relationship with staff or governors",
            "Spouse teaches at the academy",
            date(2021, 9, 1),
        ),
    ]  # the older declaration is replaced; an interest that ended years ago is left out
    _, vice = entries["Marcus Bell"]
    assert vice.role_on_board == "Vice-chair" and vice.category == "Co-opted" and vice.attendance == "2 of 3"
    assert vice.declaration_summary == "Nothing to declare (declared 15 September 2026)" and vice.interests == []
    _, former = entries["Peter Grant"]
    assert former.stepped_down_on == governors["stepped_down"]
    assert former.meetings_held == len([m for m in register_meetings(oak) if m <= governors["stepped_down"]])
    assert former.meetings_attended == 1
    lgb_body, local = entries["Joanne Reid"]
    assert lgb_body == oak.orgs["north_lgb"] and local.attendance == "1 of 2" and local.category == "Parent"
    assert local.declaration_summary == "No declaration recorded" and local.interests == []
    member_body, member = entries["Grace Lin"]
    assert member_body == oak.orgs["trust"] and member.role_on_board == "Member" and member.category == "Member"
    assert member.attendance == "No meetings while in office"


def test_the_declaration_shown_is_the_latest_made_to_this_trust(oak, elm, governors):
    """A later declaration to another trust does not hide this one; of two made at once, the last recorded wins."""
    chair = governors["people"]["chair"]
    declare(chair, elm.orgs["board"], made_at=at(timezone.localdate() - timedelta(days=1)))
    same_time = at(timezone.localdate() - timedelta(days=20))
    declare(governors["people"]["vice"], oak.orgs["board"], made_at=same_time)
    declare(
        governors["people"]["vice"],
        oak.orgs["board"],
        made_at=same_time,
        interests=[
            {"kind": "business", "counterparty": "Bell & Co", "nature": "Partner", "starts_on": date(2022, 1, 1)}
        ],
    )
    entries = entries_by_name(register_for(oak.orgs["trust"], timezone.localdate()))
    assert [interest.business for interest in entries["Rebecca Stone"][1].interests] == [
        "Stone Consulting Ltd",
        "Oak Trust North Academy",
    ]
    assert [interest.business for interest in entries["Marcus Bell"][1].interests] == ["Bell & Co"]


def register_meetings(scenario) -> list[date]:
    start, end = last_complete_academic_year(timezone.localdate())
    return [m.held_on for m in scenario.orgs["board"].meetings.filter(held_on__range=(start, end), kind="full")]


def test_register_for_a_board_covers_only_that_board_and_below(oak, governors):
    names = set(entries_by_name(register_for(oak.orgs["north_lgb"], timezone.localdate())))
    assert names == {"Joanne Reid"}


def test_register_page_for_officers_and_its_query_count(oak, governors, client_for):
    client = client_for(oak.admin)
    link = f"{reverse('reports:register')}?organisation={oak.orgs['trust'].pk}"
    page = client.get(link).content.decode()
    assert "Stone Consulting Ltd" in page and "Nothing to declare (declared 15 September 2026)" in page
    assert "Publish the register of interests as a public web page" in page
    small = query_count(client, link)
    for index in range(5):
        person = PersonFactory.create()
        RoleFactory.create(
            person=person, organisation=oak.orgs["south_lgb"], kind="local_governor", starts_on=date(2023, 9, 1)
        )
        declare(
            person,
            oak.orgs["south_lgb"],
            interests=[
                {
                    "kind": "business",
                    "counterparty": f"Firm {index}",
                    "nature": "Partner",
                    "starts_on": date(2020, 1, 1),
                }
            ],
        )
        meeting_with_attendance(
            oak.orgs["south_lgb"],
            last_complete_academic_year(timezone.localdate())[0] + timedelta(days=index + 1),
            present=[person],
        )
    assert query_count(client, link) == small


def test_register_csv_has_a_row_per_interest_and_parses_back(oak, governors, client_for):
    response = client_for(oak.admin).get(
        f"{reverse('reports:register_export', args=['csv'])}?organisation={oak.orgs['trust'].pk}"
    )
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    chair_rows = [row for row in rows if row["Full name"] == "Rebecca Stone"]
    assert [row["Business or body"] for row in chair_rows] == ["Stone Consulting Ltd", "Oak Trust North Academy"]
    assert chair_rows[0]["Meetings attended"] == "3" and chair_rows[0]["Date of appointment"] == "2019-09-01"
    assert chair_rows[0]["Body"] == oak.orgs["board"].name and chair_rows[0]["Role on the board"] == "Chair"
    vice = next(row for row in rows if row["Full name"] == "Marcus Bell")
    assert vice["Declaration"] == "Nothing to declare (declared 15 September 2026)" and vice["Business or body"] == ""
    member = next(row for row in rows if row["Full name"] == "Grace Lin")
    assert member["Body"] == f"Members of {oak.orgs['trust'].name}" and member["Meetings attended"] == ""
    assert len(rows) == 7  # two rows for Rebecca Stone, one for each of the other five
    assert "Elm Secret Ltd" not in text and "@example.org" not in text


def test_register_pdf_is_made_in_the_background_and_reads_back(oak, governors, client_for):
    client = client_for(oak.admin)
    response = client.get(f"{reverse('reports:register_export', args=['pdf'])}?organisation={oak.orgs['trust'].pk}")
    reader = PdfReader(io.BytesIO(built_in_background(client, response, JobKind.REGISTER_PDF)))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for expected in (
        "Rebecca Stone",
        "Stone Consulting Ltd",
        "Director and shareholder",
        "Nothing to declare (declared 15 September 2026)",
        "Peter Grant",
        "Joanne Reid",
        "No declaration recorded",
        "3 of 3",
        "2 of 3",
    ):
        assert expected in text, expected
    assert reader.metadata is not None and reader.metadata.title == f"Register of interests: {oak.orgs['trust'].name}"


def test_an_admin_publishes_the_register_and_the_public_page_shows_only_the_register(
    oak, governors, client, client_for
):
    trust = oak.orgs["trust"]
    public = reverse("public_governance", args=[trust.slug])
    assert client.get(public).status_code == 404  # unpublished
    admin = client_for(oak.admin)
    # Each body below shows on the trust's page only once its own register is published too.
    for body in (oak.orgs["board"], oak.orgs["north_lgb"]):
        admin.post(reverse("reports:register_publication", args=[body.pk]), {"publish_register": "on"})
    response = admin.post(reverse("reports:register_publication", args=[trust.pk]), {"publish_register": "on"})
    assert response.status_code == 302
    trust.refresh_from_db()
    assert trust.publish_register
    page = client.get(public)
    assert page.status_code == 200
    html = page.content.decode()
    for expected in (
        "Rebecca Stone",
        "Stone Consulting Ltd",
        "Director and shareholder",
        "3 of 3",
        "1 September 2019 to 31 August 2028",
        "Members of the trust",
        "Nothing to declare (declared 15 September 2026)",
        "Peter Grant",
        "Joanne Reid",
    ):
        assert expected in html, expected
    for secret in (
        "@example.org",
        "Alan Fraser",
        "Elm Secret Ltd",
        "Old Company Ltd",
        oak.people["north-0"].full_name,
        "Riverside Trust",
    ):
        assert secret not in html, secret
    admin.post(reverse("reports:register_publication", args=[trust.pk]), {})  # unticked: unpublish
    trust.refresh_from_db()
    assert not trust.publish_register and client.get(public).status_code == 404


def test_only_admins_may_switch_publication(oak, elm, governors, client_for):
    clerk = officer(oak.orgs["board"], "clerk")
    board = oak.orgs["board"]
    page = client_for(clerk).get(f"{reverse('reports:register')}?organisation={board.pk}")
    assert page.status_code == 200 and page.context["publication_form"] is None
    assert "Only an admin of" in page.content.decode()
    for person in (clerk, elm.admin, oak.teacher):
        response = client_for(person).post(
            reverse("reports:register_publication", args=[board.pk]), {"publish_register": "on"}
        )
        assert response.status_code == 404
    assert not Organisation.objects.get(pk=board.pk).publish_register


def test_demo_public_page_shows_a_governors_interest_and_attendance(demo, client):

    governor = Person.objects.get(email="governor@llt.example")
    lgb = Organisation.objects.get(slug="llt-meadowbank-lgb")
    declare(
        governor,
        lgb,
        interests=[
            {
                "kind": "business",
                "counterparty": "Hughes Building Supplies Ltd",
                "nature": "Director",
                "starts_on": date(2019, 4, 1),
            }
        ],
    )
    html = client.get(reverse("public_governance", args=["llt"])).content.decode()
    assert "Tom Hughes" in html and "Hughes Building Supplies Ltd" in html
    start, end = last_complete_academic_year(timezone.localdate())
    held = lgb.meetings.filter(held_on__range=(start, end)).count()
    present = governor.attendance.filter(
        status="present", meeting__board=lgb, meeting__held_on__range=(start, end)
    ).count()
    assert f"{present} of {held}" in html and held == 3
    assert client.get(reverse("public_governance", args=["att"])).status_code == 404  # ATT has not published


def test_taking_a_boards_register_down_takes_it_off_every_public_page_above(oak, governors, client, client_for):
    trust, board, lgb = oak.orgs["trust"], oak.orgs["board"], oak.orgs["north_lgb"]
    admin = client_for(oak.admin)
    for body in (trust, board, lgb):
        admin.post(reverse("reports:register_publication", args=[body.pk]), {"publish_register": "on"})
    pages = [reverse("public_governance", args=[body.slug]) for body in (trust, board)]
    for page in pages:
        assert "Joanne Reid" in client.get(page).content.decode()
    admin.post(reverse("reports:register_publication", args=[lgb.pk]), {})  # the local board's register taken down
    assert not Organisation.objects.get(pk=lgb.pk).publish_register
    assert client.get(reverse("public_governance", args=[lgb.slug])).status_code == 404
    for page in pages:
        html = client.get(page).content.decode()
        assert "Joanne Reid" not in html and lgb.name not in html, page
        assert "Rebecca Stone" in html  # the board's own trustees are still shown
    # Officers still see the whole tree on their own (signed-in) register page.
    officers_page = admin.get(f"{reverse('reports:register')}?organisation={trust.pk}").content.decode()
    assert "Joanne Reid" in officers_page


def test_attendance_counts_each_meeting_held_while_any_role_lasted_once():
    # Against the rule read directly, on random roles (overlapping, open-ended, a day either side of a meeting).
    rng = random.Random(7)
    start = date(2025, 9, 1)
    for case in range(200):
        meetings = [Meeting(pk=index + 1, held_on=start + timedelta(days=rng.randrange(0, 365))) for index in range(12)]
        roles = []
        for _ in range(rng.randrange(1, 4)):
            begins = start + timedelta(days=rng.randrange(-30, 365))
            ends = None if rng.random() < 0.4 else begins + timedelta(days=rng.randrange(0, 200))
            roles.append(Role(starts_on=begins, ends_on=ends))
        present = {meeting.pk for meeting in meetings if rng.random() < 0.5}
        served = [
            m
            for m in meetings
            if any(r.starts_on <= m.held_on and (r.ends_on is None or r.ends_on >= m.held_on) for r in roles)
        ]
        expected = (sum(1 for m in served if m.pk in present), len(served))
        assert BodyMeetings.of(meetings).attendance(roles, present) == expected, case
