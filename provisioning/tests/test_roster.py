"""Roster sync from a CSV: the preview (nothing saved), rejected rows, applying once, matching, leavers."""

from __future__ import annotations

import codecs
from datetime import date, timedelta

import pytest
from django.utils import timezone

from conduct.models import AuditAction, AuditLogEntry, Person, Role
from conduct.tests.factories import PersonFactory, RoleFactory
from provisioning.models import ExternalIdentity, RosterUpload
from provisioning.roster import (
    AlreadyApplied,
    RosterFileError,
    roster_apply,
    roster_apply_request,
    roster_plan,
    roster_upload_create,
)

pytestmark = pytest.mark.django_db
HEADER = "name,email,role,organisation,start date,end date,title,external id\n"


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(row + "\n" for row in rows)).encode("utf-8")


def _upload(admin, tree, data: bytes, *, whole: bool = False, leavers_on: date | None = None) -> RosterUpload:
    return roster_upload_create(
        actor=admin,
        organisation=tree["trust"],
        data=data,
        file_name="roster.csv",
        whole_roster=whole,
        leavers_on=leavers_on or timezone.localdate(),
    )


@pytest.fixture
def staff(tree):
    """Two people already on the roster at North: Pat (with an external id) and Lee."""
    today = timezone.localdate()
    pat = PersonFactory.create(full_name="Pat Smith", email="pat@oak.example")
    lee = PersonFactory.create(full_name="Lee Jones", email="lee@oak.example")
    RoleFactory.create(person=pat, organisation=tree["north"], kind="employee", starts_on=today - timedelta(days=400))
    RoleFactory.create(person=lee, organisation=tree["north"], kind="employee", starts_on=today - timedelta(days=100))
    ExternalIdentity.objects.create(organisation=tree["trust"], person=pat, external_id="MIS-1")
    return {"pat": pat, "lee": lee}


def test_preview_lists_additions_changes_leavers_and_saves_nothing(admin, tree, staff):
    pat_start = staff["pat"].roles.get().starts_on.isoformat()
    data = _csv(
        f"Patricia Smith,patricia@oak.example,Employee,{tree['north'].slug},{pat_start},,Teacher,MIS-1",
        f"Nia New,nia@oak.example,Volunteer,{tree['south'].name},2026-09-01,,,MIS-9",
    )
    before = (Person.objects.count(), Role.objects.count(), AuditLogEntry.objects.count())
    plan = roster_plan(
        actor=admin, organisation=tree["trust"], data=data, whole_roster=True, leavers_on=timezone.localdate()
    )
    assert [a.row.email for a in plan.additions] == ["nia@oak.example"] and plan.additions[0].person is None
    assert [c.person for c in plan.person_changes] == [staff["pat"]]  # matched by external id: name and email change
    assert "name from “Pat Smith” to “Patricia Smith”" in plan.person_changes[0].words
    assert [c.role.person for c in plan.role_changes] == [staff["pat"]] and plan.role_changes[0].title == "Teacher"
    assert [(leaver.person, leaver.whole) for leaver in plan.leavers] == [(staff["lee"], True)]
    assert any("Ada Admin" in kept for kept in plan.kept)  # the admin's own officer role is never ended
    assert (Person.objects.count(), Role.objects.count(), AuditLogEntry.objects.count()) == before


def test_apply_makes_exactly_the_previewed_changes_and_again_changes_nothing(admin, tree, staff):
    today = timezone.localdate()
    pat_start = staff["pat"].roles.get().starts_on.isoformat()
    data = _csv(
        f"Patricia Smith,patricia@oak.example,Employee,{tree['north'].slug},{pat_start},,Teacher,MIS-1",
        f"Nia New,nia@oak.example,Volunteer,{tree['south'].slug},{today.isoformat()},,,MIS-9",
    )
    roster_apply(actor=admin, upload=_upload(admin, tree, data, whole=True))
    pat = Person.objects.get(pk=staff["pat"].pk)
    assert (pat.full_name, pat.email) == ("Patricia Smith", "patricia@oak.example")
    assert pat.roles.get().title == "Teacher"
    nia = Person.objects.get(email="nia@oak.example")
    assert nia.roles.get().organisation == tree["south"]
    assert ExternalIdentity.objects.get(person=nia).external_id == "MIS-9"
    lee_role = staff["lee"].roles.get()
    assert lee_role.ends_on == today and "Not on the roster" in lee_role.end_reason
    assert AuditLogEntry.objects.get(action=AuditAction.PERSON_LEFT, subject=staff["lee"]).details["via"] == "csv"
    synced = AuditLogEntry.objects.get(action=AuditAction.ROSTER_SYNCED)
    assert (
        synced.actor == admin and synced.details["after"]["additions"] == 1 and synced.details["after"]["leavers"] == 1
    )
    assert AuditLogEntry.objects.filter(action=AuditAction.PERSON_CHANGED, subject=pat).exists()
    # The same file again: nothing to change, and applying it changes nothing.
    counts = (
        Person.objects.count(),
        Role.objects.count(),
        AuditLogEntry.objects.exclude(action=AuditAction.ROSTER_SYNCED).count(),
    )
    second = _upload(admin, tree, data, whole=True)
    plan = roster_apply(actor=admin, upload=second)
    assert plan.change_count == 0 and plan.unchanged == 2
    assert counts == (
        Person.objects.count(),
        Role.objects.count(),
        AuditLogEntry.objects.exclude(action=AuditAction.ROSTER_SYNCED).count(),
    )
    with pytest.raises(AlreadyApplied):
        roster_apply(actor=admin, upload=second)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("{n},x@oak.example,Teacher,{org},2026-09-01", "unknown role"),
        ("{long_name},x@oak.example,Employee,{org},2026-09-01", "the name has 201 characters"),
        ("Al,{long_email},Employee,{org},2026-09-01", "the email address has 255 characters"),
        ("Al,x@oak.example,Employee,{org},2026-09-01,2026-08-01", "end date is before the start date"),
        ("Al,x@oak.example,Employee,{org},1899-12-31", "between 1900 and 2100"),
        ("Al,x@oak.example,Employee,{org},2101-01-01", "between 1900 and 2100"),
        ("Al,x@oak.example,Employee,{org},someday", "is not a date"),
        ("Al,x@oak.example,Employee,{other},2026-09-01", "is not Oak Trust or an organisation below it"),
        ("Al,not-an-email,Employee,{org},2026-09-01", "is not a valid email address"),
        ("Al,x@oak.example,Employee,{org},2026-09-01,,{long_title}", "the title has 121 characters"),
        ("Al,x@oak.example,Admin,{org},2026-09-01", None),  # an admin may grant admin: accepted
    ],
)
def test_bad_rows_are_rejected_with_line_and_reason(admin, tree, other_tree, row, reason):
    values = {
        "n": "Al",
        "org": tree["north"].slug,
        "other": other_tree["north"].slug,
        "long_name": "N" * 201,
        "long_email": "e" * 243 + "@oak.example",
        "long_title": "T" * 121,
    }
    data = _csv("Good One,good@oak.example,Employee,{org},2026-09-01".format(**values), row.format(**values))
    plan = roster_plan(
        actor=admin, organisation=tree["trust"], data=data, whole_roster=False, leavers_on=timezone.localdate()
    )
    if reason is None:
        assert not plan.rejected and len(plan.additions) == 2
        return
    assert [r.line for r in plan.rejected] == [3], plan.rejected
    assert reason.lower() in plan.rejected[0].reason.lower()
    assert [a.row.email for a in plan.additions] == ["good@oak.example"]


def test_duplicate_emails_in_the_file_are_rejected(admin, tree):
    org = tree["north"].slug
    data = _csv(
        f"Al One,al@oak.example,Employee,{org},2026-09-01",
        f"Al Other,al@oak.example,Volunteer,{org},2026-09-01",
        f"Al One,al@oak.example,Employee,{org},2026-09-01",
        f"Al One,al@oak.example,Volunteer,{org},2026-09-01",  # the same person's second role: fine
    )
    plan = roster_plan(
        actor=admin, organisation=tree["trust"], data=data, whole_roster=False, leavers_on=timezone.localdate()
    )
    assert [(r.line, r.reason.split(":")[0]) for r in plan.rejected] == [(3, "Duplicate email"), (4, "Duplicate email")]
    assert len(plan.additions) == 2


def test_a_clerk_cannot_sync_and_cannot_grant_officer_roles(tree):
    clerk = PersonFactory.create()
    RoleFactory.create(person=clerk, organisation=tree["board"], kind="clerk", starts_on=timezone.localdate())
    with pytest.raises(Exception, match="Only an admin"):
        roster_plan(
            actor=clerk, organisation=tree["board"], data=_csv(), whole_roster=False, leavers_on=timezone.localdate()
        )


@pytest.mark.parametrize(
    ("encode", "ok"),
    [
        (lambda text: text.encode("utf-8"), True),
        (lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), True),
        (lambda text: text.encode("utf-16"), True),  # with its byte-order mark
        (lambda text: text.encode("cp1252"), False),  # never guessed
        (lambda text: text.encode("utf-16-le"), False),  # UTF-16 without a BOM: NULs, refused
    ],
)
def test_encodings(admin, tree, encode, ok):
    text = HEADER + f"Zoë Brontë,zoe@oak.example,Employee,{tree['north'].slug},2026-09-01\n"
    if ok:
        plan = roster_plan(
            actor=admin,
            organisation=tree["trust"],
            data=encode(text),
            whole_roster=False,
            leavers_on=timezone.localdate(),
        )
        assert plan.additions[0].row.name == "Zoë Brontë"
    else:
        with pytest.raises(RosterFileError):
            roster_plan(
                actor=admin,
                organisation=tree["trust"],
                data=encode(text),
                whole_roster=False,
                leavers_on=timezone.localdate(),
            )


def test_a_file_without_the_columns_is_refused_whole(admin, tree):
    with pytest.raises(RosterFileError, match="Missing: role"):
        roster_plan(
            actor=admin,
            organisation=tree["trust"],
            data=b"name,email,organisation,start date\nA,a@b.co,x,2026-01-01\n",
            whole_roster=False,
            leavers_on=timezone.localdate(),
        )


def test_apply_is_one_transaction(admin, tree, staff, monkeypatch):
    """A failure part-way (here the last leaver) leaves nothing of the file applied."""
    import provisioning.roster as roster

    data = _csv(f"Nia New,nia@oak.example,Volunteer,{tree['south'].slug},2026-09-01")
    upload = _upload(admin, tree, data, whole=True)

    def refuse(**kwargs):
        raise roster.ValidationError({"ends_on": ["Refused for the test."]})

    monkeypatch.setattr(roster, "people_record_leaver_batch", refuse)
    with pytest.raises(roster.ValidationError):
        roster_apply(actor=admin, upload=upload)
    assert not Person.objects.filter(email="nia@oak.example").exists()
    upload.refresh_from_db()
    assert upload.applied_at is None
    assert not AuditLogEntry.objects.filter(action=AuditAction.ROSTER_SYNCED).exists()


def test_pages_preview_then_apply(client_for, admin, tree, staff, django_capture_on_commit_callbacks):
    client = client_for(admin)
    data = _csv(f"Nia New,nia@oak.example,Volunteer,{tree['south'].slug},2026-09-01")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        f"/provisioning/{tree['trust'].slug}/roster/",
        {"file": SimpleUploadedFile("r.csv", data), "leavers_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    preview_url = response["Location"]
    page = client.get(preview_url)
    assert "nia@oak.example" in page.content.decode() and not Person.objects.filter(email="nia@oak.example").exists()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert client.post(preview_url).status_code == 302
        assert client.post(preview_url).status_code == 302  # a second click queues nothing more
    assert len([c for c in queued if "apply_roster_upload" in c.__qualname__]) == 1
    assert Person.objects.filter(email="nia@oak.example").exists()
    applied = client.get(preview_url)
    assert "Roster applied" in applied.content.decode()
    # An upload in cp1252 is refused on the form, with nothing kept.
    bad = client.post(
        f"/provisioning/{tree['trust'].slug}/roster/",
        {"file": SimpleUploadedFile("r.csv", "name,email\nZoë,z@x.co\n".encode("cp1252")), "leavers_on": "2026-01-01"},
    )
    assert "not in UTF-8" in bad.content.decode() and RosterUpload.objects.count() == 1


def test_a_failed_background_apply_is_shown_and_can_be_asked_again(client_for, admin, tree, staff, monkeypatch):
    import provisioning.roster as roster

    upload = _upload(
        admin, tree, _csv(f"Nia New,nia@oak.example,Volunteer,{tree['south'].slug},2026-09-01"), whole=True
    )

    def refuse(**kwargs):
        raise roster.ValidationError({"ends_on": ["Lee's role cannot end today."]})

    monkeypatch.setattr(roster, "people_record_leaver_batch", refuse)
    assert roster.roster_apply_request(actor=admin, upload=upload)
    roster.roster_apply_run(upload_id=upload.pk, actor_id=admin.pk)  # what the worker does
    upload.refresh_from_db()
    assert upload.applied_at is None and upload.apply_requested_at is None
    assert "cannot end today" in upload.apply_error
    assert not Person.objects.filter(email="nia@oak.example").exists()
    page = client_for(admin).get(f"/provisioning/{tree['trust'].slug}/roster/{upload.pk}/")
    assert "cannot end today" in page.content.decode() and "Apply these changes" in page.content.decode()


def test_a_lost_apply_message_is_queued_again_by_the_sweep(admin, tree, staff, django_capture_on_commit_callbacks):
    from datetime import timedelta as delta

    from provisioning.reconcile import sweep_roster_applications

    upload = _upload(admin, tree, _csv(f"Nia New,nia@oak.example,Volunteer,{tree['south'].slug},2026-09-01"))
    with django_capture_on_commit_callbacks(execute=False):  # the message is lost: never sent
        assert roster_apply_request(actor=admin, upload=upload)
    assert not Person.objects.filter(email="nia@oak.example").exists()
    now = timezone.now()
    assert sweep_roster_applications(now) == 0  # within the grace period: its message may still be queued
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_roster_applications(now + delta(hours=1)) == 1
    assert Person.objects.filter(email="nia@oak.example").exists()
    upload.refresh_from_db()
    assert upload.applied_at is not None
    assert AuditLogEntry.objects.get(action=AuditAction.ROSTER_SYNCED).actor == admin
    assert sweep_roster_applications(now + delta(hours=2)) == 0  # applied: nothing more to queue
