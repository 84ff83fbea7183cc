"""Board meetings and who attended them.

A meeting can be put in the diary ahead of time, but attendance (and any
adoption) is only recorded once it has happened. The people whose attendance is
recorded are the board's members on the meeting date: everyone holding a
governance role at the board that day. Attendance feeds the published register
("attendance at board meetings over the last academic year").
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from conduct.audit import audit_log_record
from conduct.models import (
    BOARD_KINDS,
    GOVERNANCE_ROLE_KINDS,
    Attendance,
    AttendanceStatus,
    AuditAction,
    Meeting,
    MeetingKind,
    Organisation,
    Person,
    Role,
)


def board_members(board: Organisation, on: date) -> QuerySet[Person]:
    """People holding a governance role (member, trustee, local governor, chair) at the board on the day."""
    holders = Role.objects.current(on).filter(organisation=board, kind__in=GOVERNANCE_ROLE_KINDS).values("person_id")
    return Person.objects.filter(pk__in=holders).order_by("full_name")


def _clean_meeting(board: Organisation, held_on: date | None, kind: str, title: str, minutes_reference: str) -> dict:
    errors: dict[str, str] = {}
    if board.kind not in BOARD_KINDS:
        errors["board"] = f"{board} is not a board or committee, so it does not hold meetings."
    if held_on is None:
        errors["held_on"] = "Give the date of the meeting."
    if kind not in MeetingKind.values:
        errors["kind"] = "Choose the type of meeting."
    if errors:
        raise ValidationError(errors)
    return {
        "held_on": held_on,
        "kind": kind,
        "title": " ".join((title or "").split())[:200],
        "minutes_reference": " ".join((minutes_reference or "").split())[:100],
    }


@transaction.atomic
def meeting_create(
    *,
    board: Organisation,
    held_on: date,
    created_by: Person,
    kind: str = MeetingKind.FULL_BOARD,
    title: str = "",
    minutes_reference: str = "",
) -> Meeting:
    fields = _clean_meeting(board, held_on, kind, title, minutes_reference)
    meeting = Meeting.objects.create(board=board, created_by=created_by, **fields)
    audit_log_record(
        actor=created_by,
        action=AuditAction.MEETING_CREATED,
        organisation=board,
        target=meeting,
        summary=f"Recorded a meeting of {board.name} on {meeting.held_on:%-d %B %Y}.",
        details={"before": None, "after": _meeting_facts(meeting)},
    )
    return meeting


def _meeting_facts(meeting: Meeting) -> dict:
    return {
        "held_on": meeting.held_on,
        "kind": meeting.kind,
        "title": meeting.title,
        "minutes_reference": meeting.minutes_reference,
    }


@transaction.atomic
def meeting_update(
    *,
    meeting: Meeting,
    held_on: date,
    kind: str,
    title: str = "",
    minutes_reference: str = "",
    today: date | None = None,
    by: Person | None = None,
) -> Meeting:
    """Correct a meeting's details. Once a code has been adopted at it, its date is part of that evidence.

    ``by`` is the officer making the change (recorded in the audit log).
    """
    meeting = Meeting.objects.select_for_update().select_related("board").get(pk=meeting.pk)
    before = _meeting_facts(meeting)
    fields = _clean_meeting(meeting.board, held_on, kind, title, minutes_reference)
    if meeting.adoptions.exists() and fields["held_on"] != meeting.held_on:
        raise ValidationError({"held_on": "A code was adopted at this meeting, so its date cannot change."})
    today = today or timezone.localdate()
    if fields["held_on"] > today and meeting.attendance.exists():
        raise ValidationError({"held_on": "Attendance has been recorded, so the meeting cannot move into the future."})
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.save(update_fields=list(fields))
    if _meeting_facts(meeting) != before:
        audit_log_record(
            actor=by,
            action=AuditAction.MEETING_CHANGED,
            organisation=meeting.board,
            target=meeting,
            summary=f"Changed the details of the meeting of {meeting.board.name} on {meeting.held_on:%-d %B %Y}.",
            details={"before": before, "after": _meeting_facts(meeting)},
        )
    return meeting


@transaction.atomic
def attendance_record(
    *, meeting: Meeting, statuses: dict[int, str], today: date | None = None, by: Person | None = None
) -> list[Attendance]:
    """Record who was present, who sent apologies and who was absent, for the board's members that day.

    ``statuses`` maps person id to an ``AttendanceStatus``; it must cover only
    members of the board on the meeting date. Recording again replaces the
    previous answers (a correction), so a double submit changes nothing.
    """
    today = today or timezone.localdate()
    meeting = Meeting.objects.select_for_update().select_related("board").get(pk=meeting.pk)
    if meeting.held_on > today:
        raise ValidationError({"meeting": "This meeting has not happened yet; record attendance on or after its date."})
    members = {person.pk: person for person in board_members(meeting.board, meeting.held_on)}
    strangers = [pk for pk in statuses if pk not in members]
    if strangers:
        raise ValidationError(
            {"attendance": "Attendance can only be recorded for members of the board on the meeting date."}
        )
    bad = [status for status in statuses.values() if status not in AttendanceStatus.values]
    if bad:
        raise ValidationError({"attendance": "Choose present, apologies or absent for each member."})
    existing = {row.person_id: row for row in Attendance.objects.filter(meeting=meeting)}
    created, changed = [], []
    for person_id, status in statuses.items():
        row = existing.get(person_id)
        if row is None:
            created.append(Attendance(meeting=meeting, person_id=person_id, status=status))
        elif row.status != status:
            row.status = status
            changed.append(row)
    before = {person_id: row.status for person_id, row in existing.items()}
    Attendance.objects.bulk_create(created)
    if changed:
        Attendance.objects.bulk_update(changed, ["status"])
    if created or changed:
        audit_log_record(
            actor=by,
            action=AuditAction.MEETING_CHANGED,
            organisation=meeting.board,
            target=meeting,
            summary=f"Recorded attendance at the meeting of {meeting.board.name} on {meeting.held_on:%-d %B %Y} "
            f"({len(created)} new, {len(changed)} changed).",
            details={"before": {"attendance": before}, "after": {"attendance": {**before, **statuses}}},
        )
    return list(Attendance.objects.filter(meeting=meeting).select_related("person").order_by("person__full_name"))
