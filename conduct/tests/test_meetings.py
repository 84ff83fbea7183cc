"""Board meetings: date, type, attendance and apologies from the board's members on the day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conduct import meetings
from conduct.models import Attendance, Meeting, Organisation, Person, RoleKind
from conduct.services import AdoptionRequest, adoption_record
from conduct.tests.factories import (
    CodeFactory,
    MeetingFactory,
    RoleFactory,
    adopt,
    make_chair,
    make_version,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)


@pytest.fixture
def board(tree):
    return tree["board"]


@pytest.fixture
def clerk(board):
    return RoleFactory.create(organisation=board, kind=RoleKind.CLERK).person


def test_members_are_those_holding_a_governance_role_at_the_board_that_day(board, tree):
    trustee = RoleFactory.create(organisation=board, kind=RoleKind.TRUSTEE, starts_on=date(2024, 9, 1)).person
    chair = RoleFactory.create(organisation=board, kind=RoleKind.CHAIR, starts_on=date(2024, 9, 1)).person
    left = RoleFactory.create(
        organisation=board, kind=RoleKind.TRUSTEE, starts_on=date(2020, 1, 1), ends_on=date(2026, 3, 31)
    ).person
    RoleFactory.create(organisation=board, kind=RoleKind.CLERK)  # the clerk is not a member
    RoleFactory.create(organisation=tree["north_lgb"], kind=RoleKind.LOCAL_GOVERNOR)  # another board
    assert set(meetings.board_members(board, date(2026, 6, 1))) == {trustee, chair}
    assert set(meetings.board_members(board, date(2026, 3, 1))) == {trustee, chair, left}


def test_create_and_correct_a_meeting(board, clerk):
    meeting = meetings.meeting_create(
        board=board, held_on=TODAY, created_by=clerk, kind="extraordinary", title="  Special   meeting "
    )
    assert (meeting.board, meeting.kind, meeting.title, meeting.created_by) == (
        board,
        "extraordinary",
        "Special meeting",
        clerk,
    )
    meetings.meeting_update(
        meeting=meeting, held_on=TODAY - timedelta(days=1), kind="full", minutes_reference="TB-1", today=TODAY
    )
    meeting.refresh_from_db()
    assert (meeting.held_on, meeting.kind, meeting.minutes_reference) == (TODAY - timedelta(days=1), "full", "TB-1")


def test_only_boards_hold_meetings(tree, clerk):
    with pytest.raises(ValidationError, match="not a board or committee"):
        meetings.meeting_create(board=tree["north"], held_on=TODAY, created_by=clerk)
    assert not Meeting.objects.exists()


def test_a_meeting_where_a_code_was_adopted_keeps_its_date(board):
    version = make_version(CodeFactory.create(owner=board.parent, audience=["trustee"]))
    adoption = adopt(version, board, held_on=TODAY - timedelta(days=3))
    with pytest.raises(ValidationError, match="cannot change"):
        meetings.meeting_update(meeting=adoption.meeting, held_on=TODAY - timedelta(days=4), kind="full", today=TODAY)
    assert Meeting.objects.get(pk=adoption.meeting_id).held_on == TODAY - timedelta(days=3)


def test_attendance_is_recorded_for_members_and_can_be_corrected(board):
    present = RoleFactory.create(organisation=board, kind=RoleKind.TRUSTEE).person
    apologies = RoleFactory.create(organisation=board, kind=RoleKind.TRUSTEE).person
    meeting = MeetingFactory.create(board=board, held_on=TODAY - timedelta(days=1))
    meetings.attendance_record(
        meeting=meeting, statuses={present.pk: "present", apologies.pk: "apologies"}, today=TODAY
    )
    assert dict(Attendance.objects.filter(meeting=meeting).values_list("person_id", "status")) == {
        present.pk: "present",
        apologies.pk: "apologies",
    }
    meetings.attendance_record(meeting=meeting, statuses={present.pk: "present", apologies.pk: "absent"}, today=TODAY)
    assert Attendance.objects.get(meeting=meeting, person=apologies).status == "absent"
    assert Attendance.objects.filter(meeting=meeting).count() == 2


def test_attendance_for_a_future_meeting_is_refused(board):
    member = RoleFactory.create(organisation=board, kind=RoleKind.TRUSTEE).person
    meeting = MeetingFactory.create(board=board, held_on=TODAY + timedelta(days=1))
    with pytest.raises(ValidationError) as error:
        meetings.attendance_record(meeting=meeting, statuses={member.pk: "present"}, today=TODAY)
    assert error.value.message_dict["meeting"] == [
        "This meeting has not happened yet; record attendance on or after its date."
    ]
    assert not Attendance.objects.exists()


def test_attendance_for_someone_who_is_not_a_member_is_refused(board, tree):
    member = RoleFactory.create(organisation=board, kind=RoleKind.TRUSTEE).person
    outsider = RoleFactory.create(organisation=tree["north_lgb"], kind=RoleKind.LOCAL_GOVERNOR).person
    meeting = MeetingFactory.create(board=board, held_on=TODAY - timedelta(days=1))
    with pytest.raises(ValidationError, match="members of the board on the meeting date"):
        meetings.attendance_record(
            meeting=meeting, statuses={member.pk: "present", outsider.pk: "present"}, today=TODAY
        )
    assert not Attendance.objects.exists()


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------


def test_the_clerk_adds_a_meeting_and_records_attendance(demo, client_for):
    clerk = client_for(Person.objects.get(email="clerk@llt.example"))
    held_on = timezone.localdate() - timedelta(days=1)
    response = clerk.post(
        reverse("conduct:meeting_create", args=["llt-board"]),
        {
            "held_on": held_on.isoformat(),
            "kind": "full",
            "title": "Autumn term board meeting",
            "minutes_reference": "LLT-TB-2026-11",
        },
    )
    meeting = Meeting.objects.get(board__slug="llt-board", held_on=held_on)
    assert response["Location"] == reverse("conduct:meeting", args=[meeting.pk])
    assert meeting.created_by is not None and meeting.created_by.email == "clerk@llt.example"
    page = clerk.get(response["Location"]).content.decode()
    chair, trustee = Person.objects.get(email="chair@llt.example"), Person.objects.get(email="trustee@llt.example")
    assert "Present: Helen Marsh" in page and "Apologies sent: Priya Shah" in page
    assert "Tom Hughes" not in page  # a local governor, not a member of the trust board
    clerk.post(response["Location"], {f"person_{chair.pk}": "present", f"person_{trustee.pk}": "apologies"})
    assert dict(Attendance.objects.filter(meeting=meeting).values_list("person__email", "status")) == {
        "chair@llt.example": "present",
        "trustee@llt.example": "apologies",
    }


def test_every_member_must_be_given_an_answer(demo, client_for):
    clerk = client_for(Person.objects.get(email="clerk@llt.example"))
    meeting = Meeting.objects.filter(board__slug="llt-board").order_by("-held_on").first()
    assert meeting is not None
    chair = Person.objects.get(email="chair@llt.example")
    before = Attendance.objects.filter(meeting=meeting).count()
    Attendance.objects.filter(meeting=meeting).delete()
    response = clerk.post(reverse("conduct:meeting", args=[meeting.pk]), {f"person_{chair.pk}": "present"})
    assert "Say whether Priya Shah was present, sent apologies or was absent." in response.content.decode()
    assert not Attendance.objects.filter(meeting=meeting).exists() and before >= 1


def test_a_future_meeting_page_offers_no_attendance_form(demo, client_for):
    clerk = client_for(Person.objects.get(email="clerk@llt.example"))
    board = Organisation.objects.get(slug="llt-board")
    future = Meeting.objects.create(board=board, held_on=timezone.localdate() + timedelta(days=10))
    page = clerk.get(reverse("conduct:meeting", args=[future.pk])).content.decode()
    assert "This meeting has not happened yet" in page and "Save attendance" not in page
    chair = Person.objects.get(email="chair@llt.example")
    clerk.post(reverse("conduct:meeting", args=[future.pk]), {f"person_{chair.pk}": "present"})
    assert not Attendance.objects.filter(meeting=future).exists()


def test_a_bad_meeting_date_is_refused_with_a_message(demo, client_for):
    clerk = client_for(Person.objects.get(email="clerk@llt.example"))
    before = Meeting.objects.count()
    response = clerk.post(
        reverse("conduct:meeting_create", args=["llt-board"]), {"held_on": "31/02/2026", "kind": "full"}
    )
    assert response.status_code == 400 and "Enter a valid date." in response.content.decode()
    assert Meeting.objects.count() == before


def test_the_meeting_list_is_paginated_and_its_queries_do_not_grow(demo, client_for):
    clerk = client_for(Person.objects.get(email="clerk@llt.example"))
    board = Organisation.objects.get(slug="llt-board")
    url = reverse("conduct:board_meetings", args=["llt-board"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert clerk.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(30):
        Meeting.objects.create(board=board, held_on=date(2020, 1, 1) + timedelta(days=n))
    assert count() == few
    page = clerk.get(url).content.decode()
    assert "Page 1 of 2" in page and page.count("/meetings/") >= 20


def test_attendance_counts_are_not_multiplied_by_the_codes_a_meeting_adopted(board, clerk, client_for):
    chair = make_chair(board)
    trustee = RoleFactory.create(organisation=board, kind=RoleKind.TRUSTEE, starts_on=date(2020, 1, 1)).person
    meeting = MeetingFactory.create(board=board, held_on=timezone.localdate() - timedelta(days=1))
    meetings.attendance_record(meeting=meeting, statuses={chair.pk: "present", trustee.pk: "apologies"})
    for title in ("Governance code", "Staff code"):
        version = make_version(CodeFactory.create(owner=board.parent, title=title, audience=["trustee"]))
        request = AdoptionRequest(
            version=version,
            board=board,
            meeting=meeting,
            chair=chair,
            chair_signature=chair.full_name,
            effective_on=meeting.held_on,
        )
        adoption_record(request=request, recorded_by=chair)
    page = client_for(clerk).get(reverse("conduct:board_meetings", args=[board.slug])).content.decode()
    row = page.split(f'href="{reverse("conduct:meeting", args=[meeting.pk])}"')[1].split("</tr>")[0]
    assert "1 present, 1 apologies" in row
    # The codes adopted are named (code and version), each linking to its adoption.
    adopted = [(a.pk, f"{a.version.code.title} {a.version.label}") for a in meeting.adoptions.order_by("pk")]
    for pk, name in adopted:
        assert f'<a href="{reverse("conduct:adoption", args=[pk])}">{name}</a>' in row
    assert [name for _pk, name in adopted] == ["Governance code 2025-2026", "Staff code 2025-2026"]
