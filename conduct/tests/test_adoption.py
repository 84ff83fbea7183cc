"""Adoption: the rules (each refusal is clear and changes nothing), the evidence, and the signing round's audience."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acknowledgements.models import AuditEvent, Obligation
from conduct.models import Adoption, CodeVersion, Meeting, Organisation, Person, RoleKind, VersionStatus
from conduct.people import role_end
from conduct.services import (
    AdoptionRequest,
    adoption_evidence_hash,
    adoption_record,
    role_create,
    version_content_as_data,
    versions_mark_superseded,
)
from conduct.tests.factories import (
    CodeFactory,
    MeetingFactory,
    PersonFactory,
    RoleFactory,
    adopt,
    make_chair,
    make_version,
    trust_tree,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)


@pytest.fixture
def governance(tree):
    return CodeFactory.create(
        owner=tree["trust"], audience=["trustee", "local_governor", "chair", "member"], title="Governance code"
    )


@pytest.fixture
def chair(tree):
    return make_chair(tree["board"], PersonFactory.create(full_name="Rachel Hudson"))


@pytest.fixture
def meeting(tree):
    return MeetingFactory.create(board=tree["board"], held_on=TODAY - timedelta(days=3), minutes_reference="TB-11")


def request_for(
    version: CodeVersion, board: Organisation, meeting: Meeting, chair: Person, **overrides: Any
) -> AdoptionRequest:
    request = AdoptionRequest(
        version=version,
        board=board,
        meeting=meeting,
        chair=chair,
        chair_signature=chair.full_name,
        effective_on=meeting.held_on,
    )
    return replace(request, **overrides)


def record(request: AdoptionRequest, by: Person, **kwargs) -> Adoption:
    return adoption_record(request=request, recorded_by=by, today=TODAY, **kwargs)


def nothing_changed(version: CodeVersion) -> None:
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT and version.content_hash == ""
    assert not Adoption.objects.filter(version=version).exists()
    assert not Obligation.objects.filter(version=version).exists()
    assert not AuditEvent.objects.filter(version=version, kind="adopted").exists()


# ---------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------


def test_adoption_locks_the_text_records_evidence_and_opens_the_round(tree, governance, chair, meeting):
    trustee = RoleFactory.create(organisation=tree["board"], kind=RoleKind.TRUSTEE).person
    version = make_version(governance)
    adoption = record(
        request_for(version, tree["board"], meeting, chair, minute_reference="item 6"),
        chair,
        ip_address="203.0.113.9",
        user_agent="Firefox",
    )
    version.refresh_from_db()
    assert version.status == VersionStatus.ADOPTED and version.content_hash == version.compute_hash()
    assert adoption.content_hash == version.content_hash
    assert (adoption.adopted_on, adoption.effective_on) == (meeting.held_on, meeting.held_on)
    assert adoption.review_due_on == date(2027, 11, 19)  # one year after the meeting
    assert adoption.signing_due_on == meeting.held_on + timedelta(days=30)
    assert adoption.organisation == tree["trust"] and adoption.minute_reference == "item 6"
    assert (adoption.ip_address, adoption.user_agent, adoption.recorded_on_behalf) == ("203.0.113.9", "Firefox", False)
    assert adoption.evidence_hash == adoption_evidence_hash(Adoption.objects.get(pk=adoption.pk))
    assert Obligation.objects.filter(version=version, person=trustee).exists()
    event = AuditEvent.objects.get(version=version, kind="adopted")
    assert (event.person, event.actor, event.details["adoption_id"]) == (chair, chair, adoption.pk)


def test_a_clerk_records_the_decision_on_the_chairs_behalf(tree, governance, chair, meeting):
    clerk = RoleFactory.create(organisation=tree["board"], kind=RoleKind.CLERK).person
    adoption = record(request_for(make_version(governance), tree["board"], meeting, chair), clerk)
    assert adoption.recorded_by == clerk and adoption.chair == chair and adoption.recorded_on_behalf


def test_the_evidence_hash_does_not_depend_on_names_that_may_change(tree, governance, chair, meeting):
    adoption = record(request_for(make_version(governance), tree["board"], meeting, chair), chair)
    stored = adoption.evidence_hash
    tree["board"].name = "Renamed Board"
    tree["board"].save()
    Person.objects.filter(pk=chair.pk).update(full_name="Rachel Hudson-Smith")
    assert adoption_evidence_hash(Adoption.objects.get(pk=adoption.pk)) == stored


def test_review_and_signing_dates_can_be_set(tree, governance, chair, meeting):
    adoption = record(
        request_for(
            make_version(governance),
            tree["board"],
            meeting,
            chair,
            effective_on=date(2027, 1, 1),
            review_due_on=date(2027, 9, 1),
            signing_due_on=date(2027, 1, 31),
        ),
        chair,
    )
    assert (adoption.effective_on, adoption.review_due_on, adoption.signing_due_on) == (
        date(2027, 1, 1),
        date(2027, 9, 1),
        date(2027, 1, 31),
    )


def test_the_next_version_supersedes_the_previous_one_once_every_board_has_moved_on(tree, governance, chair, meeting):
    lgb_chair = make_chair(tree["north_lgb"])
    first = make_version(governance, "2025-2026")
    adopt(first, tree["board"], chair=chair, held_on=TODAY - timedelta(days=300))
    adopt(first, tree["north_lgb"], chair=lgb_chair, held_on=TODAY - timedelta(days=290))
    second = make_version(governance, "2026-2027", version_content_as_data(first), based_on=first)
    record(request_for(second, tree["board"], meeting, chair), chair)
    first.refresh_from_db()
    assert first.status == VersionStatus.ADOPTED  # still in force at the North LGB
    adopt(second, tree["north_lgb"], chair=lgb_chair, held_on=TODAY - timedelta(days=1))
    first.refresh_from_db()
    assert first.status == VersionStatus.SUPERSEDED and first.superseded_at is not None


def test_checking_for_supersession_reads_the_adoptions_once_however_many_boards_moved_on(tree, governance, chair):
    first = make_version(governance, "2025-2026")
    for board, days_ago in (("south_lgb", 300), ("board", 290), ("north_lgb", 280)):
        adopt(first, tree[board], held_on=TODAY - timedelta(days=days_ago))
    second = make_version(governance, "2026-2027", version_content_as_data(first), based_on=first)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            versions_mark_superseded(code=governance, at=timezone.now())
        return len(ctx.captured_queries)

    adopt(second, tree["board"], held_on=TODAY - timedelta(days=30))
    one_moved_on = queries()
    adopt(second, tree["north_lgb"], held_on=TODAY - timedelta(days=20))
    assert queries() == one_moved_on
    assert CodeVersion.objects.get(pk=first.pk).status == VersionStatus.ADOPTED  # still in force at the South LGB


# ---------------------------------------------------------------------------
# The rules: each refusal is clear and changes nothing
# ---------------------------------------------------------------------------


def test_a_draft_with_no_clauses_cannot_be_adopted(tree, governance, chair, meeting):
    version = make_version(governance, sections=[{"number": "1", "title": "Empty", "clauses": []}])
    with pytest.raises(ValidationError) as error:
        record(request_for(version, tree["board"], meeting, chair), chair)
    assert error.value.message_dict["version"] == ["This version has no clauses; add its text before adopting it."]
    nothing_changed(version)


def test_a_board_cannot_adopt_the_same_version_twice(tree, governance, chair, meeting):
    version = make_version(governance)
    record(request_for(version, tree["board"], meeting, chair), chair)
    second_meeting = MeetingFactory.create(board=tree["board"], held_on=TODAY - timedelta(days=1))
    with pytest.raises(ValidationError) as error:
        record(request_for(version, tree["board"], second_meeting, chair), chair)
    assert "Oak Trust Board has already adopted Governance code 2025-2026." in error.value.message_dict["version"]
    assert Adoption.objects.filter(version=version).count() == 1


def test_a_meeting_in_the_future_is_refused(tree, governance, chair):
    version = make_version(governance)
    future = MeetingFactory.create(board=tree["board"], held_on=TODAY + timedelta(days=1))
    with pytest.raises(ValidationError) as error:
        record(request_for(version, tree["board"], future, chair), chair)
    assert error.value.message_dict["meeting"] == [
        "The meeting date is in the future; record the adoption after the meeting."
    ]
    nothing_changed(version)


def test_a_review_date_before_the_effective_date_is_refused(tree, governance, chair, meeting):
    version = make_version(governance)
    with pytest.raises(ValidationError) as error:
        record(
            request_for(
                version, tree["board"], meeting, chair, effective_on=TODAY, review_due_on=TODAY - timedelta(days=1)
            ),
            chair,
        )
    assert error.value.message_dict["review_due_on"] == ["The review date cannot be before the effective date."]
    nothing_changed(version)


def test_a_signature_that_does_not_match_the_chair_is_refused(tree, governance, chair, meeting):
    version = make_version(governance)
    with pytest.raises(ValidationError) as error:
        record(request_for(version, tree["board"], meeting, chair, chair_signature="R Hudson"), chair)
    assert error.value.message_dict["chair_signature"] == [
        "The signature must be the chair's name as on record: Rachel Hudson."
    ]
    nothing_changed(version)


def test_the_signature_ignores_case_and_spacing(tree, governance, chair, meeting):
    adoption = record(
        request_for(make_version(governance), tree["board"], meeting, chair, chair_signature="  rachel   HUDSON "),
        chair,
    )
    assert adoption.chair_signature == "rachel HUDSON"


def test_someone_who_was_not_chair_on_the_meeting_date_cannot_sign(tree, governance, meeting):
    newcomer = make_chair(tree["board"], since=TODAY - timedelta(days=1))  # became chair after the meeting
    version = make_version(governance)
    with pytest.raises(ValidationError) as error:
        record(request_for(version, tree["board"], meeting, newcomer), newcomer)
    assert "was not the chair of Oak Trust Board on the day of the meeting" in error.value.message_dict["chair"][0]
    nothing_changed(version)


def test_a_meeting_of_another_board_is_refused(tree, governance, chair):
    version = make_version(governance)
    other = MeetingFactory.create(board=tree["north_lgb"], held_on=TODAY - timedelta(days=2))
    with pytest.raises(ValidationError) as error:
        record(request_for(version, tree["board"], other, chair), chair)
    assert error.value.message_dict["meeting"] == ["Choose a meeting of this board."]
    nothing_changed(version)


def test_a_board_of_another_trust_cannot_adopt_the_code(tree, governance):
    elm = trust_tree("Elm Trust")
    elm_chair = make_chair(elm["board"])
    version = make_version(governance)
    elm_meeting = MeetingFactory.create(board=elm["board"], held_on=TODAY - timedelta(days=2))
    with pytest.raises(ValidationError) as error:
        record(request_for(version, elm["board"], elm_meeting, elm_chair), elm_chair)
    assert "is not a board of Oak Trust" in error.value.message_dict["board"][0]
    nothing_changed(version)


def test_a_board_cannot_go_back_to_an_older_version(tree, governance, chair, meeting):
    old = make_version(governance, "2025-2026")
    adopt(old, tree["north_lgb"], held_on=TODAY - timedelta(days=100))
    new = make_version(governance, "2026-2027", version_content_as_data(old), based_on=old)
    adopt(new, tree["board"], chair=chair, held_on=TODAY - timedelta(days=5))
    with pytest.raises(ValidationError) as error:
        record(request_for(old, tree["board"], meeting, chair), chair)
    assert error.value.message_dict["version"] == [
        "Oak Trust Board has already adopted a later version (2026-2027) of Governance code."
    ]


def test_several_problems_are_reported_together(tree, governance, chair):
    version = make_version(governance)
    future = MeetingFactory.create(board=tree["board"], held_on=TODAY + timedelta(days=5))
    with pytest.raises(ValidationError) as error:
        record(request_for(version, tree["board"], future, chair, chair_signature="Someone Else"), chair)
    assert set(error.value.message_dict) >= {"meeting", "chair_signature"}
    nothing_changed(version)


# ---------------------------------------------------------------------------
# The signing round's audience
# ---------------------------------------------------------------------------


def owes(person: Person, version: CodeVersion) -> bool:
    return Obligation.objects.filter(person=person, version=version).exists()


def test_trust_board_adoption_without_sub_organisations_reaches_the_board_and_the_trust_only(
    tree, governance, chair, meeting
):
    trustee = RoleFactory.create(organisation=tree["board"], kind=RoleKind.TRUSTEE).person
    member = RoleFactory.create(organisation=tree["trust"], kind=RoleKind.MEMBER).person
    local = RoleFactory.create(organisation=tree["north_lgb"], kind=RoleKind.LOCAL_GOVERNOR).person
    employee = RoleFactory.create(organisation=tree["trust"], kind=RoleKind.EMPLOYEE).person  # not in the audience
    version = make_version(governance)
    record(request_for(version, tree["board"], meeting, chair), chair)
    assert owes(trustee, version) and owes(member, version) and owes(chair, version)
    assert not owes(local, version), "each local board adopts separately"
    assert not owes(employee, version), "employees are not in the governance code's audience"


def test_an_adoption_covering_sub_organisations_reaches_everyone_below(tree, chair, meeting):
    staff_code = CodeFactory.create(owner=tree["trust"], audience=["employee", "volunteer"])
    north = RoleFactory.create(organisation=tree["north"], kind=RoleKind.EMPLOYEE).person
    south = RoleFactory.create(organisation=tree["south"], kind=RoleKind.VOLUNTEER).person
    central = RoleFactory.create(organisation=tree["trust"], kind=RoleKind.EMPLOYEE).person
    elsewhere = RoleFactory.create(organisation=trust_tree("Elm Trust")["north"], kind=RoleKind.EMPLOYEE).person
    version = make_version(staff_code)
    record(request_for(version, tree["board"], meeting, chair, includes_sub_organisations=True), chair)
    assert owes(north, version) and owes(south, version) and owes(central, version)
    assert not owes(elsewhere, version)
    obligation = Obligation.objects.get(person=north, version=version)
    assert obligation.organisation == tree["north"] and obligation.due_on == meeting.held_on + timedelta(days=30)


def test_a_local_board_adoption_reaches_its_own_governors_only(tree, governance):
    north_gov = RoleFactory.create(organisation=tree["north_lgb"], kind=RoleKind.LOCAL_GOVERNOR).person
    south_gov = RoleFactory.create(organisation=tree["south_lgb"], kind=RoleKind.LOCAL_GOVERNOR).person
    version = make_version(governance)
    adopt(version, tree["north_lgb"], includes_sub_organisations=False, held_on=TODAY - timedelta(days=2))
    assert owes(north_gov, version) and not owes(south_gov, version)


def test_leavers_owe_nothing_and_future_starters_owe_from_their_start(tree, governance, chair, meeting):
    left = RoleFactory.create(
        organisation=tree["board"], kind=RoleKind.TRUSTEE, ends_on=meeting.held_on - timedelta(days=1)
    ).person
    leaving = RoleFactory.create(
        organisation=tree["board"], kind=RoleKind.TRUSTEE, ends_on=meeting.held_on + timedelta(days=60)
    ).person
    starting = RoleFactory.create(
        organisation=tree["board"], kind=RoleKind.TRUSTEE, starts_on=TODAY + timedelta(days=40)
    ).person
    version = make_version(governance)
    record(request_for(version, tree["board"], meeting, chair), chair)
    assert not owes(left, version)
    assert owes(leaving, version)
    later = Obligation.objects.get(person=starting, version=version)
    assert later.owed_from == TODAY + timedelta(days=40) and later.due_on == TODAY + timedelta(days=70)


def test_someone_joining_after_adoption_owes_it_from_their_start_date(tree, governance, chair, meeting):
    version = make_version(governance)
    record(request_for(version, tree["board"], meeting, chair), chair)
    joiner = PersonFactory.create()
    role_create(person=joiner, organisation=tree["board"], kind=RoleKind.TRUSTEE, starts_on=TODAY)
    obligation = Obligation.objects.get(person=joiner, version=version)
    assert obligation.owed_from == TODAY and obligation.due_on == TODAY + timedelta(days=30)


def test_a_leaver_stops_owing_it(tree, governance, chair, meeting):
    role = RoleFactory.create(organisation=tree["board"], kind=RoleKind.TRUSTEE)
    version = make_version(governance)
    record(request_for(version, tree["board"], meeting, chair), chair)
    role_end(actor=None, role=role, ends_on=TODAY - timedelta(days=1), reason="Stepped down")
    assert not Obligation.objects.filter(person=role.person, version=version).open().for_current_roles(TODAY).exists()
    assert Obligation.objects.filter(person=role.person, version=version).exists()  # kept as history


def test_someone_holding_two_roles_owes_one_signature(tree, governance, chair, meeting):
    person = PersonFactory.create()
    RoleFactory.create(person=person, organisation=tree["board"], kind=RoleKind.TRUSTEE)
    RoleFactory.create(person=person, organisation=tree["trust"], kind=RoleKind.MEMBER)
    version = make_version(governance)
    record(request_for(version, tree["board"], meeting, chair), chair)
    assert Obligation.objects.filter(person=person, version=version).count() == 1


def test_a_new_version_replaces_unsigned_obligations_and_keeps_signed_ones_as_history(tree, governance, chair, meeting):
    signed_person = RoleFactory.create(organisation=tree["board"], kind=RoleKind.TRUSTEE).person
    unsigned_person = RoleFactory.create(organisation=tree["board"], kind=RoleKind.TRUSTEE).person
    first = make_version(governance, "2025-2026")
    adopt(first, tree["board"], chair=chair, held_on=TODAY - timedelta(days=300))
    signed_at = timezone.now() - timedelta(days=200)
    Obligation.objects.filter(person=signed_person, version=first).update(acknowledged_at=signed_at)
    second = make_version(governance, "2026-2027", version_content_as_data(first), based_on=first)
    record(request_for(second, tree["board"], meeting, chair), chair)
    old_signed = Obligation.objects.get(person=signed_person, version=first)
    old_unsigned = Obligation.objects.get(person=unsigned_person, version=first)
    assert old_signed.acknowledged_at == signed_at and old_signed.superseded_at is None
    assert old_unsigned.superseded_at is not None and old_unsigned.acknowledged_at is None
    assert owes(signed_person, second) and owes(unsigned_person, second)
