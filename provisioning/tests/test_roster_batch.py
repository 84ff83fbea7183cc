"""The roster sync's batch apply: the same rows as the one-at-a-time services, in queries that do not grow.

``roster_apply`` goes through the ``*_batch`` services; ``_apply_one_by_one`` below applies the same plan
through the per-person services the People pages call (as the sync did before), so the two can be
compared row for row on the same mixed file: additions (new people, a new role for someone known, one
ending on a given date), corrections of name and email, a new title, a role absent from the file and
leavers, with a code in force so that joiners owe it and leavers' obligations close.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acknowledgements.integrity import evidence_check
from acknowledgements.invitations import invitation_create
from acknowledgements.models import AuditEvent, EventKind, Invitation, Obligation, OutgoingEmail
from conduct.models import AuditAction, AuditLogEntry, Person, Role
from conduct.people import person_details_update, person_record_leaver, role_end, role_update_governance
from conduct.tests.factories import CodeFactory, PersonFactory, RoleFactory, adopt, make_version
from core.models import EvidenceLink
from provisioning.models import ExternalIdentity, RosterUpload
from provisioning.roster import (
    ROW_END_REASON,
    VIA,
    RosterPlan,
    _record_external_ids,
    roster_apply,
    roster_preview,
    roster_upload_create,
)

pytestmark = pytest.mark.django_db
HEADER = "name,email,role,organisation,start date,end date,title,external id\n"
TODAY = timezone.localdate()
STARTED = TODAY - timedelta(days=200)


class _Undo(Exception):
    """Raised to roll back one route's changes, so the other route starts from the same database."""


@pytest.fixture
def staff_code(tree):
    """A code for employees and volunteers in force across the trust (adopted by the trust board)."""
    code = CodeFactory.create(owner=tree["trust"], audience=["employee", "volunteer"])
    return adopt(make_version(code), tree["board"], held_on=TODAY - timedelta(days=300))


def _roster(tree, size: int) -> bytes:
    """``size`` staff at North, one file naming most of them: a mixed first sync of about ``size`` rows."""
    north, south = tree["north"], tree["south"]
    rows = []
    for i in range(size):
        person = PersonFactory.create(full_name=f"Staff {i:03d}", email=f"staff{i:03d}@oak.example")
        RoleFactory.create(person=person, organisation=north, kind="employee", starts_on=STARTED, title="Teacher")
        if i % 5 == 0:
            RoleFactory.create(person=person, organisation=south, kind="volunteer", starts_on=STARTED)
        if i % 10 == 9:
            continue  # a leaver: absent from the file altogether
        name = f"Staff {i:03d}" + (" Corrected" if i % 4 == 1 else "")
        email = f"staff{i:03d}@oak.example" if i % 8 != 3 else f"staff{i:03d}.new@oak.example"
        title = "Head of Year" if i % 6 == 2 else "Teacher"
        # Staff with a South volunteering role are listed without it: that role alone ends (absent).
        rows.append(f"{name},{email},Employee,{north.slug},{STARTED},,{title},MIS{i:03d}")
        if i % 7 == 4 and i % 5 != 0:
            rows.append(f"{name},{email},Volunteer,{south.slug},{TODAY},,,MIS{i:03d}")  # a new role, someone known
    for i in range(max(size // 3, 1)):
        ends = (TODAY + timedelta(days=30)).isoformat() if i % 4 == 1 else ""
        rows.append(f"New Starter {i:03d},new{i:03d}@oak.example,Employee,{north.slug},{TODAY},{ends},,NEW{i:03d}")
    rows.append(f"Bad Row,not-an-email,Employee,{north.slug},{TODAY},,,")  # rejected: nothing of it is saved
    return (HEADER + "".join(row + "\n" for row in rows)).encode("utf-8")


def _upload(admin, tree, data: bytes) -> RosterUpload:
    return roster_upload_create(
        actor=admin,
        organisation=tree["trust"],
        data=data,
        file_name="mis.csv",
        whole_roster=True,
        leavers_on=TODAY,
    )


def _apply_one_by_one(actor: Person, upload: RosterUpload, plan: RosterPlan) -> None:
    """The same plan through the per-person services, one change at a time (the reference)."""
    for change in plan.person_changes:
        person_details_update(
            actor=actor, person=change.person, full_name=change.full_name, email=change.email, via=VIA
        )
    recorded, new_people = list(plan.identities), set()
    for addition in plan.additions:
        row = addition.row
        result = invitation_create(
            invited_by=actor,
            full_name=row.name,
            email=row.email,
            organisation=row.organisation,
            kind=row.kind,
            starts_on=row.starts_on,
            title=row.title,
            via=VIA,
        )
        if row.ends_on is not None:
            role_end(actor=actor, role=result.role, ends_on=row.ends_on, reason=ROW_END_REASON, via=VIA)
        if addition.person is None and row.external_id and row.email not in new_people:
            recorded.append((result.person, row.external_id))
        new_people.add(row.email)
    _record_external_ids(upload.organisation, recorded)
    for role_change in plan.role_changes:
        role = role_update_governance(
            actor=actor,
            role=role_change.role,
            category=role_change.role.category,
            appointed_by=role_change.role.appointed_by,
            starts_on=role_change.starts_on or role_change.role.starts_on,
            term_ends_on=role_change.role.term_ends_on,
            title=role_change.title if role_change.title is not None else role_change.role.title,
            via=VIA,
        )
        if role_change.ends_on is not None:
            role_end(actor=actor, role=role, ends_on=role_change.ends_on, reason=ROW_END_REASON, via=VIA)
    reason = f"Not on the roster of {upload.organisation.name} uploaded {upload.uploaded_at:%d/%m/%Y}"
    for leaver in plan.leavers:
        if leaver.whole:
            person_record_leaver(
                actor=actor, person=leaver.person, ends_on=TODAY, reason=reason, within=upload.organisation, via=VIA
            )
        else:
            for role in leaver.roles:
                role_end(actor=actor, role=role, ends_on=max(TODAY, role.starts_on), reason=reason, via=VIA)


def _ids_as_keys(value: Any, names: dict[str, dict[int, str]]) -> Any:
    """Details with database ids (which differ between the two routes) replaced by what they stand for."""
    if isinstance(value, dict):
        return {
            key: (names[key].get(item, "?") if key in names else _ids_as_keys(item, names))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_ids_as_keys(item, names) for item in value]
    return value


def _role_key(role: Role) -> str:
    return f"{role.person.email}/{role.organisation.slug}/{role.kind}/{role.starts_on}"


def _snapshot(since: dict[str, int]) -> dict[str, Any]:
    """Everything a sync writes, as natural keys and values (no ids), for rows made after ``since``."""
    roles = {role.pk: role for role in Role.objects.select_related("person", "organisation")}
    role_names = {pk: _role_key(role) for pk, role in roles.items()}
    invitations = Invitation.objects.filter(pk__gt=since["invitation"]).select_related("role")
    names = {
        "role_id": role_names,
        "invitation_id": {i.pk: "invitation " + role_names[i.role_id or 0] for i in invitations},
    }
    entries = AuditLogEntry.objects.filter(pk__gt=since["entry"]).exclude(action=AuditAction.ROSTER_SYNCED)
    events = AuditEvent.objects.filter(pk__gt=since["event"], kind=EventKind.INVITED).select_related("person")
    emails = dict(Person.objects.values_list("pk", "email"))
    synced = list(AuditLogEntry.objects.filter(action=AuditAction.ROSTER_SYNCED).values_list("pk", flat=True))
    return {
        "people": sorted((p.email, p.full_name, p.is_active, p.has_usable_password()) for p in Person.objects.all()),
        "email addresses": sorted(
            Person.objects.filter(emailaddress__isnull=False).values_list(
                "email", "emailaddress__email", "emailaddress__primary", "emailaddress__verified"
            )
        ),
        "roles": sorted(
            (_role_key(role), role.ends_on, role.end_reason, role.title, role.category) for role in roles.values()
        ),
        "obligations": sorted(
            (
                o.person.email,
                o.version_id,
                role_names[o.role_id],
                o.owed_from,
                o.due_on,
                o.acknowledged_at,
                o.superseded_at,
            )
            for o in Obligation.objects.select_related("person")
        ),
        "invitations": sorted((role_names[i.role_id or 0], i.invited_by_id) for i in invitations),
        "emails": sorted(
            OutgoingEmail.objects.filter(invitation__in=invitations).values_list("kind", "to_address", "status")
        ),
        "invited events": sorted(
            (e.person.email, repr(_ids_as_keys(e.details, {"invitation_id": {}}))) for e in events
        ),
        "audit entries": sorted(
            (
                e.action,
                e.actor_id,
                e.organisation_id,
                emails.get(e.subject_id or 0),
                e.target_type,
                e.summary,
                repr(_ids_as_keys(e.details, names)),
            )
            for e in entries
        ),
        "chain entries": Counter(
            EvidenceLink.objects.filter(pk__gt=since["link"])
            .exclude(record_type="conduct.auditlogentry", record_id__in=synced)
            .values_list("scope", "record_type")
        ),
        "external ids": sorted(ExternalIdentity.objects.values_list("person__email", "external_id")),
    }


def _marks() -> dict[str, int]:
    def last(model) -> int:
        return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    return {
        "invitation": last(Invitation),
        "entry": last(AuditLogEntry),
        "event": last(AuditEvent),
        "link": last(EvidenceLink),
    }


def test_the_batch_apply_makes_exactly_the_rows_the_per_person_services_make(
    admin, tree, staff_code, django_capture_on_commit_callbacks
):
    data = _roster(tree, 24)
    since = _marks()
    try:
        with transaction.atomic():
            upload = _upload(admin, tree, data)
            plan = roster_preview(actor=admin, upload=upload)
            with django_capture_on_commit_callbacks(execute=False) as one_by_one_queued:
                _apply_one_by_one(admin, upload, plan)
            one_by_one = _snapshot(since)
            raise _Undo
    except _Undo:
        pass
    assert not Invitation.objects.exists()  # rolled back: the batch starts from the same database

    upload = _upload(admin, tree, data)
    with django_capture_on_commit_callbacks(execute=False) as batch_queued:
        roster_apply(actor=admin, upload=upload)
    batch = _snapshot(since)

    # The file exercised every kind of change the sync makes.
    assert plan.additions and plan.person_changes and plan.role_changes and plan.rejected
    assert any(leaver.whole for leaver in plan.leavers) and any(not leaver.whole for leaver in plan.leavers)
    assert any(a.person is not None for a in plan.additions) and any(a.row.ends_on for a in plan.additions)
    assert batch["obligations"] and batch["invitations"]
    for part in batch:
        assert batch[part] == one_by_one[part], part
    assert len(batch_queued) == len(one_by_one_queued) == len(batch["invitations"])  # one email each, on commit
    # Joiners owe the code; leavers owe nothing after today.
    new_starter = Person.objects.get(email="new000@oak.example")
    assert Obligation.objects.for_current_roles().filter(person=new_starter, version=staff_code.version).exists()
    leaver = Person.objects.get(email="staff009@oak.example")
    assert not Obligation.objects.for_current_roles(TODAY + timedelta(days=1)).filter(person=leaver).exists()
    assert not Person.objects.filter(full_name="Bad Row").exists()  # the rejected row left nothing
    assert AuditLogEntry.objects.filter(action=AuditAction.ROSTER_SYNCED).count() == 1
    assert evidence_check().ok  # every chain still verifies: one append per chain per batch


def _apply_queries(admin, tree, size: int) -> int:
    """How many queries applying a ``size``-person mixed file takes (everything rolled back after)."""
    try:
        with transaction.atomic():
            upload = _upload(admin, tree, _roster(tree, size))
            with CaptureQueriesContext(connection) as queries:
                plan = roster_apply(actor=admin, upload=upload)
            assert plan.additions and plan.person_changes and plan.role_changes and plan.leavers
            assert any(a.row.ends_on for a in plan.additions) and any(not leaver.whole for leaver in plan.leavers)
            raise _Undo
    except _Undo:
        pass
    return len(queries)


def test_the_apply_takes_as_many_queries_for_30_people_as_for_10(admin, tree, staff_code):
    small = _apply_queries(admin, tree, 10)
    large = _apply_queries(admin, tree, 30)
    assert large == small  # a constant number of statements: nothing is done a row at a time


def test_applying_the_same_file_again_changes_nothing(admin, tree, staff_code):
    data = _roster(tree, 12)
    roster_apply(actor=admin, upload=_upload(admin, tree, data))
    since = _marks()
    counts = (Person.objects.count(), Role.objects.count(), Obligation.objects.count(), OutgoingEmail.objects.count())
    again = roster_apply(actor=admin, upload=_upload(admin, tree, data))
    assert again.change_count == 0
    assert (
        Person.objects.count(),
        Role.objects.count(),
        Obligation.objects.count(),
        OutgoingEmail.objects.count(),
    ) == counts
    assert list(AuditLogEntry.objects.filter(pk__gt=since["entry"]).values_list("action", flat=True)) == [
        AuditAction.ROSTER_SYNCED
    ]


def test_a_row_the_services_refuse_leaves_nothing_of_the_file(admin, tree, staff_code, monkeypatch):
    """A refusal inside the batch (here the leavers') undoes the whole apply: people, roles, invitations, chain."""
    from provisioning import roster

    data = _roster(tree, 8)
    upload = _upload(admin, tree, data)
    before = (Person.objects.count(), Role.objects.count(), Invitation.objects.count(), EvidenceLink.objects.count())
    entries = AuditLogEntry.objects.count()
    real = roster.people_record_leaver_batch

    def refuse(**kwargs):
        real(**kwargs)  # the leavers' roles end …
        raise roster.ValidationError({"ends_on": ["Simulated refusal."]})  # … then the batch is refused

    monkeypatch.setattr(roster, "people_record_leaver_batch", refuse)
    with pytest.raises(roster.ValidationError):
        roster_apply(actor=admin, upload=upload)
    after = (Person.objects.count(), Role.objects.count(), Invitation.objects.count(), EvidenceLink.objects.count())
    assert after == before and AuditLogEntry.objects.count() == entries
    assert not Role.objects.filter(ends_on=TODAY).exists()
    upload.refresh_from_db()
    assert upload.applied_at is None  # the claim is undone too: the file can be applied again


def test_the_batch_refuses_a_row_it_may_not_apply_with_whom_it_is_about(admin, tree):
    """Batch services check each item as the per-person service does, and say whose it is."""
    from django.core.exceptions import ValidationError

    from conduct.people import RoleGrant, roles_add_batch

    pat = PersonFactory.create(full_name="Pat Smith", email="pat@oak.example")
    RoleFactory.create(person=pat, organisation=tree["north"], kind="employee", starts_on=date(2024, 9, 1))
    lee = PersonFactory.create(full_name="Lee Jones", email="lee@oak.example")
    grants = [
        RoleGrant(lee, tree["north"], "employee", TODAY),
        RoleGrant(pat, tree["north"], "employee", TODAY),  # overlaps the role Pat holds
    ]
    with pytest.raises(ValidationError) as refused:
        roles_add_batch(actor=admin, grants=grants)
    assert "Pat Smith <pat@oak.example>: Pat Smith is already employee" in str(refused.value)
    assert not Role.objects.filter(person=lee).exists()  # nothing of the batch was saved
