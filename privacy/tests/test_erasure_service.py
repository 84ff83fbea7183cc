"""person_erase: what it removes, what it keeps, and when it refuses (issue 13)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from acknowledgements.integrity import evidence_check
from acknowledgements.models import Acknowledgement, AuditEvent, Declaration, Interest, OutgoingEmail, SealedPdf
from conduct.models import AuditAction, AuditLogEntry, Person
from conduct.tests.factories import PersonFactory, RoleFactory
from core.models import EvidenceLink, EvidenceSalt, Tombstone
from privacy.erasure import ErasureRefused, person_erase
from privacy.holds import legal_hold_release, legal_hold_set
from privacy.models import ErasurePermit, ErasureRecord
from privacy.tests.factories import (
    COUNTERPARTY,
    NATURE,
    SIGNER_AGENT,
    SIGNER_EMAIL,
    SIGNER_IP,
    SIGNER_NAME,
    roles_end,
    signed_person,
)

pytestmark = pytest.mark.django_db

REQUEST = "Email of 3 November 2026 asking for erasure; no legal reason to keep the records (Article 17(1)(a))."


def _erase(signed, django_capture_on_commit_callbacks, **overrides):
    arguments = {"actor": signed.admin, "person": signed.person, "reason": REQUEST, "basis": "erasure_request"}
    with django_capture_on_commit_callbacks(execute=True):
        return person_erase(**{**arguments, **overrides})


def test_erasure_replaces_the_account_and_blanks_every_personal_field(django_capture_on_commit_callbacks):
    signed = signed_person()
    person = signed.person
    record = _erase(signed, django_capture_on_commit_callbacks)

    person.refresh_from_db()
    assert person.full_name == f"Erased person {person.pk}"
    assert person.email == f"erased-{person.pk}@erased.invalid"
    assert not person.is_active and not person.has_usable_password()
    ack = Acknowledgement.objects.get(pk=signed.acknowledgement.pk)
    assert (ack.typed_name, ack.ip_address, ack.user_agent) == ("", None, "")
    assert ack.evidence_hash == signed.acknowledgement.evidence_hash  # the record itself stays
    assert ack.signed_at == signed.acknowledgement.signed_at
    assert not Interest.objects.filter(declaration__person=person).exists()
    assert Declaration.objects.filter(person=person).count() == 1
    for event in AuditEvent.objects.filter(person=person):
        assert (event.ip_address, event.user_agent, event.details) == (None, "", {})
    assert not EvidenceSalt.objects.filter(record_type="acknowledgements.acknowledgement", record_id=ack.pk).exists()
    assert OutgoingEmail.objects.get(acknowledgement=ack).to_address == person.email
    assert not ErasurePermit.objects.exists()
    assert record.records["acknowledgements"] == [ack.pk]
    assert record.records["sealed_pdfs"] == [signed.pdf.pk]


def test_the_sealed_pdf_is_deleted_with_a_tombstone_and_its_row_kept(django_capture_on_commit_callbacks):
    signed = signed_person()
    name = signed.pdf.file.name or ""
    assert default_storage.exists(name)
    _erase(signed, django_capture_on_commit_callbacks)

    assert not default_storage.exists(name)
    assert SealedPdf.objects.filter(pk=signed.pdf.pk).exists()  # chained evidence: the row and its hash stay
    stone = Tombstone.objects.get(record_type="acknowledgements.sealedpdf", record_id=signed.pdf.pk)
    assert (stone.sha256, stone.file_name, stone.basis) == (signed.pdf.sha256, name, "erasure_request")
    assert stone.erased_by == signed.admin and stone.reason == REQUEST


def test_after_erasure_every_chain_and_signature_verifies_and_the_records_read_erased(
    django_capture_on_commit_callbacks,
):
    signed = signed_person()
    before = evidence_check()
    assert before.ok, before.findings
    _erase(signed, django_capture_on_commit_callbacks)

    after = evidence_check()
    assert after.ok, after.findings
    # The acknowledgement, the declaration, the person's events and audit entries are reported erased, not broken.
    erased_kinds = {stone.record_type for stone in Tombstone.objects.all()}
    assert {"acknowledgements.acknowledgement", "acknowledgements.declaration", "acknowledgements.auditevent"} <= (
        erased_kinds
    )
    assert after.erased == Tombstone.objects.exclude(record_type="acknowledgements.sealedpdf").count()
    assert after.counts["chain entries"] == EvidenceLink.objects.count() == before.counts["chain entries"] + 1


def test_one_audit_entry_names_the_records_and_no_erased_value(django_capture_on_commit_callbacks):
    signed = signed_person()
    record = _erase(signed, django_capture_on_commit_callbacks)

    entry = AuditLogEntry.objects.get(action=AuditAction.PERSON_ERASED)
    assert entry.actor == signed.admin and entry.subject == signed.person
    assert entry.organisation == signed.who.orgs["trust"]
    assert entry.details["erasure_id"] == record.pk
    assert entry.details["records"]["acknowledgements"] == [signed.acknowledgement.pk]
    text = entry.summary + str(entry.details)
    for value in (SIGNER_NAME, SIGNER_EMAIL, SIGNER_IP, COUNTERPARTY):
        assert value.lower() not in text.lower()
    assert EvidenceLink.objects.filter(record_type="conduct.auditlogentry", record_id=entry.pk).exists()


def test_a_double_click_erases_once(django_capture_on_commit_callbacks):
    signed = signed_person()
    first = _erase(signed, django_capture_on_commit_callbacks)
    second = _erase(signed, django_capture_on_commit_callbacks)

    assert first.pk == second.pk
    assert ErasureRecord.objects.count() == 1
    assert AuditLogEntry.objects.filter(action=AuditAction.PERSON_ERASED).count() == 1


def test_a_legal_hold_refuses_erasure_until_released(django_capture_on_commit_callbacks):
    signed = signed_person()
    legal_hold_set(actor=signed.admin, person=signed.person, reason="Employment tribunal claim 2026/0042")

    with pytest.raises(ErasureRefused, match="legal hold"):
        _erase(signed, django_capture_on_commit_callbacks)
    assert Person.objects.get(pk=signed.person.pk).full_name == SIGNER_NAME
    assert not ErasureRecord.objects.exists()
    assert AuditLogEntry.objects.filter(action=AuditAction.LEGAL_HOLD_SET, subject=signed.person).count() == 1

    legal_hold_release(actor=signed.admin, person=signed.person, reason="Claim withdrawn")
    assert AuditLogEntry.objects.filter(action=AuditAction.LEGAL_HOLD_RELEASED).count() == 1
    _erase(signed, django_capture_on_commit_callbacks)
    assert ErasureRecord.objects.filter(person=signed.person).exists()


def test_another_trusts_admin_a_school_admin_a_clerk_and_oneself_are_refused(django_capture_on_commit_callbacks):
    signed = signed_person()
    elsewhere = signed_person(trust="Elm Trust", full_name="Other Signer", email="other@example.org")
    school_admin = PersonFactory.create()
    RoleFactory.create(person=school_admin, organisation=signed.who.orgs["north"], kind="admin")
    clerk = PersonFactory.create()
    RoleFactory.create(person=clerk, organisation=signed.who.orgs["board"], kind="clerk")

    for actor in (elsewhere.admin, school_admin, clerk, signed.person):
        with pytest.raises(ErasureRefused, match="may not erase"):
            _erase(signed, django_capture_on_commit_callbacks, actor=actor)
    assert Person.objects.get(pk=signed.person.pk).email == SIGNER_EMAIL
    assert not ErasureRecord.objects.exists() and not Tombstone.objects.exists()


@pytest.mark.parametrize("basis", ["retention_ended", "erasure_request"])
def test_someone_who_still_holds_a_role_is_not_erased_on_either_basis(basis, django_capture_on_commit_callbacks):
    signed = signed_person(still_here=True)
    with pytest.raises(ErasureRefused, match="still holds a role here: record them as a leaver first"):
        _erase(signed, django_capture_on_commit_callbacks, basis=basis, reason="Asked in writing on 1 December")
    # A role ending later this term still counts: they are here until it ends.
    roles_end(signed.person, timezone.localdate() + timedelta(days=10))
    with pytest.raises(ErasureRefused, match="record them as a leaver first"):
        _erase(signed, django_capture_on_commit_callbacks, basis=basis, reason="Asked in writing on 1 December")
    assert not ErasureRecord.objects.exists() and Person.objects.get(pk=signed.person.pk).full_name == SIGNER_NAME


def test_retention_ended_is_refused_until_six_years_after_the_last_role(django_capture_on_commit_callbacks):
    signed = signed_person()

    roles_end(signed.person, timezone.localdate() - timedelta(days=365))
    with pytest.raises(ErasureRefused, match="retention period ends on"):
        _erase(signed, django_capture_on_commit_callbacks, basis="retention_ended", reason="")
    assert not ErasureRecord.objects.exists()

    roles_end(signed.person, date(2020, 9, 2))  # more than six years ago
    record = _erase(signed, django_capture_on_commit_callbacks, basis="retention_ended", reason="")
    assert record.basis == "retention_ended"


def test_the_retention_sweep_without_an_officer_may_erase_only_once_retention_ended(
    django_capture_on_commit_callbacks,
):
    signed = signed_person()
    roles_end(signed.person, date(2020, 9, 2))
    with pytest.raises(ErasureRefused, match="runs without an officer"):
        _erase(signed, django_capture_on_commit_callbacks, actor=None)  # an erasure request needs an officer
    record = _erase(signed, django_capture_on_commit_callbacks, actor=None, basis="retention_ended", reason="")
    assert record.erased_by is None
    entry = AuditLogEntry.objects.get(action=AuditAction.PERSON_ERASED)
    assert entry.actor is None and entry.subject == signed.person


def test_an_erasure_request_needs_a_reason_and_a_known_basis(django_capture_on_commit_callbacks):
    signed = signed_person()
    with pytest.raises(ErasureRefused, match="erasure request is"):
        _erase(signed, django_capture_on_commit_callbacks, reason="   ")
    with pytest.raises(ErasureRefused, match="Choose why"):
        _erase(signed, django_capture_on_commit_callbacks, basis="because")
    assert not ErasureRecord.objects.exists()


def test_no_personal_value_of_the_person_remains_anywhere_in_the_database(django_capture_on_commit_callbacks):
    signed = signed_person()
    needles = [SIGNER_NAME, SIGNER_EMAIL, SIGNER_IP, SIGNER_AGENT, COUNTERPARTY, NATURE]
    assert {table for table, _column, _value in _found(needles)} >= {
        "conduct_person",
        "acknowledgements_acknowledgement",
        "acknowledgements_interest",
        "acknowledgements_outgoingemail",
    }  # the search finds them before
    _erase(signed, django_capture_on_commit_callbacks)

    assert _found(needles) == []


def _found(needles):
    from privacy.tests.factories import occurrences

    return occurrences(needles)


def _every_other_row_of(signed, client_for) -> None:
    """The person as a chair who adopted a version, with a verified address, a session, a reminder that failed,
    a SCIM identity, an admin log line and an officer's audit entry about them: every row that can name them."""
    from allauth.account.models import EmailAddress
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from conduct.audit import audit_log_record
    from conduct.services import AdoptionRequest, adoption_record
    from conduct.tests.factories import MeetingFactory, make_version
    from provisioning.models import ExternalIdentity
    from reminders.models import ReminderLog

    person, orgs = signed.person, signed.who.orgs
    RoleFactory.create(person=person, organisation=orgs["board"], kind="chair", starts_on=date(2020, 9, 1))
    version = make_version(signed.who.code, label="2026-2027")
    held_on = timezone.localdate() - timedelta(days=2)
    adoption_record(
        request=AdoptionRequest(
            version=version,
            board=orgs["board"],
            meeting=MeetingFactory.create(board=orgs["board"], held_on=held_on),
            chair=person,
            chair_signature=SIGNER_NAME,
            effective_on=held_on,
            includes_sub_organisations=True,
        ),
        recorded_by=person,
        ip_address=SIGNER_IP,
        user_agent=SIGNER_AGENT,
        today=timezone.localdate(),
    )
    EmailAddress.objects.create(user=person, email=SIGNER_EMAIL, verified=True, primary=True)
    client_for(person).get("/")  # a session in the database
    ReminderLog.objects.create(
        recipient=person,
        kind="signing",
        subject="obligation:1",
        step="due",
        planned_for=timezone.localdate(),
        status="failed",
        last_error=f"550 5.1.1 <{SIGNER_EMAIL}>: mailbox unavailable",
    )
    ExternalIdentity.objects.create(
        organisation=orgs["trust"],
        person=person,
        external_id="e-77",
        user_name=SIGNER_EMAIL,
        attributes={"name": {"formatted": SIGNER_NAME}, "emails": [{"value": SIGNER_EMAIL}]},
    )
    LogEntry.objects.create(
        user=signed.admin,
        content_type=ContentType.objects.get_for_model(Person),
        object_id=str(person.pk),
        object_repr=str(person),
        action_flag=CHANGE,
        change_message=f"Changed email of {SIGNER_NAME}",
    )
    audit_log_record(
        actor=signed.admin,
        action=AuditAction.PERSON_CHANGED,
        organisation=orgs["trust"],
        target=person,
        subject=person,
        summary=f"{SIGNER_NAME}'s email corrected to {SIGNER_EMAIL}",
        details={"before": {"email": "old@example.org"}, "after": {"email": SIGNER_EMAIL}},
        ip_address="192.0.2.99",
    )


def test_no_personal_value_remains_in_any_row_that_can_name_them(client_for, django_capture_on_commit_callbacks):
    signed = signed_person()
    _every_other_row_of(signed, client_for)
    needles = [SIGNER_NAME, SIGNER_EMAIL, SIGNER_IP, SIGNER_AGENT, COUNTERPARTY, NATURE]
    before = {table for table, _column, _value in _found(needles)}
    assert {
        "conduct_adoption",
        "account_emailaddress",
        "reminders_reminderlog",
        "provisioning_externalidentity",
        "django_admin_log",
        "conduct_auditlogentry",
    } <= before
    roles_end(signed.person, timezone.localdate() - timedelta(days=30))  # the chair has left too
    _erase(signed, django_capture_on_commit_callbacks)

    assert _found(needles) == []
    assert evidence_check().ok  # the adoption the person chaired is erased too, and still verifies
    assert Tombstone.objects.filter(record_type="conduct.adoption").count() == 1
    changed = AuditLogEntry.objects.get(action=AuditAction.PERSON_CHANGED)
    assert (changed.summary, changed.details, changed.ip_address) == ("erased", {}, None)  # what, when, who stay
    assert changed.actor == signed.admin and changed.subject == signed.person
