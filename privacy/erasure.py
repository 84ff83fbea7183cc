"""Erasure of a person's personal data (issue 13; design in docs/retention.md, "Erasure").

The signed evidence commits to personal fields through salted HMACs (docs/evidence.md, section 4), so
erasing blanks those fields and deletes the salts, while every record's existence, dates, hashes,
signature and place in its chain still verify. Each erased record and each deleted file gets a
``core.Tombstone`` (when, why, by whom; a file's SHA-256), which verification reads to say "erased".

The append-only triggers allow the blanking only while this transaction's ``ErasurePermit`` row exists
(``privacy/migrations/0002_erasure_triggers.py``); the ORM's own guard (``AppendOnlyQuerySet``) is passed
by calling the plain ``QuerySet`` methods, here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from acknowledgements.evidence_records import ACKNOWLEDGEMENT, AUDIT_EVENT, DECLARATION
from acknowledgements.models import (
    Acknowledgement,
    AuditEvent,
    Declaration,
    EmailStatus,
    Interest,
    OutgoingEmail,
    SealedPdf,
)
from conduct.audit import audit_log_record
from conduct.evidence_records import ADOPTION, AUDIT_LOG_ENTRY
from conduct.models import Adoption, AuditAction, AuditLogEntry, Organisation, Person, Role, root_id
from conduct.permissions import ERASED_EMAIL_DOMAIN, can_erase_person, erased_email, is_erased_person
from core.display import long_date
from core.evidence_chain import ERASED
from core.models import EvidenceSalt, Tombstone
from privacy.models import ErasureBasis, ErasurePermit, ErasureRecord, LegalHold
from privacy.retention import retention_ends_on

BASIS_RETENTION_ENDED = ErasureBasis.RETENTION_ENDED.value
BASIS_ERASURE_REQUEST = ErasureBasis.ERASURE_REQUEST.value
BASES = (BASIS_RETENTION_ENDED, BASIS_ERASURE_REQUEST)
REASON_MAX: int = ErasureRecord._meta.get_field("reason").max_length or 500
ERASED_DOMAIN = ERASED_EMAIL_DOMAIN


class ErasureRefused(Exception):
    """The erasure was refused (permission, legal hold, retention not passed, missing reason); nothing changed."""


def erased_name(person_id: int) -> str:
    return f"Erased person {person_id}"


def is_erased(person: Person) -> bool:
    return is_erased_person(person)


# ---------------------------------------------------------------------------
# When erasure is allowed
# ---------------------------------------------------------------------------


def still_holds_a_role(person: Person) -> bool:
    """A role held today or yet to start (one ending later this term included).

    Erasing such a person would leave them owing codes for ever under a name no one can chase, so their time
    here must end first (record them as a leaver), whatever the basis.
    """
    return Role.objects.filter(person=person).served_since(timezone.localdate()).exists()


def open_hold(person: Person) -> LegalHold | None:
    return LegalHold.objects.filter(person=person, released_at__isnull=True).first()


def erasure_refusal(*, actor: Person | None, person: Person, reason: str, basis: str) -> str | None:
    """Why this erasure may not go ahead, in plain words; None when it may.

    ``actor`` None is the nightly retention sweep (``privacy.retention``): it may erase only because the
    retention period has ended, never a superuser's account, and never on someone's request.
    """
    if actor is None:
        if person.is_superuser or basis != BASIS_RETENTION_ENDED:
            return "Only an erasure because the retention period has ended runs without an officer."
    elif not can_erase_person(actor, person):
        return "You may not erase this person's data: only an admin of their trust may, and never their own."
    if basis not in BASES:
        return "Choose why the data is being erased: the retention period has ended, or an erasure request."
    if basis == BASIS_ERASURE_REQUEST and not reason.strip():
        return "Say what the erasure request is (who asked, when, and why it is valid under UK GDPR Article 17)."
    if len(reason) > REASON_MAX:
        return f"The reason must be at most {REASON_MAX} characters."
    if (hold := open_hold(person)) is not None:
        since = long_date(timezone.localtime(hold.set_at))
        return f"{person.full_name}'s data is under a legal hold since {since}: release it first."
    if still_holds_a_role(person):
        return f"{person.full_name} still holds a role here: record them as a leaver first, then erase their data."
    if basis == BASIS_RETENTION_ENDED:
        ends_on = retention_ends_on(person)
        if ends_on is None:
            return "Their retention period has not started: they still chair an adoption in force."
        if ends_on > timezone.localdate():
            return f"Their retention period ends on {long_date(ends_on)}; until then erase only on a valid request."
    return None


# ---------------------------------------------------------------------------
# What an erasure touches
# ---------------------------------------------------------------------------


@dataclass
class Touched:
    """The person's records, by kind, and the files to delete once the erasure has committed."""

    acknowledgements: list[int]
    declarations: list[int]
    interests: list[int]
    events: list[int]
    adoptions: list[int]
    audit_entries: list[int]
    sealed_pdfs: list[SealedPdf]
    scans: list[tuple[int, str, str]]  # (acknowledgement id, file name, SHA-256)
    report_files: list[str]

    def as_ids(self) -> dict[str, list[int]]:
        return {
            "acknowledgements": self.acknowledgements,
            "declarations": self.declarations,
            "interests": self.interests,
            "audit_events": self.events,
            "adoptions": self.adoptions,
            "audit_log_entries": self.audit_entries,
            "sealed_pdfs": [record.pk for record in self.sealed_pdfs],
            "paper_scans": [ack_id for ack_id, _name, _sha in self.scans],
        }


def _ids(queryset: models.QuerySet) -> list[int]:
    return sorted(queryset.values_list("pk", flat=True))


def _touched(person: Person) -> Touched:
    from reports.models import ReportJob

    acknowledgements = Acknowledgement.objects.filter(person=person)
    declarations = Declaration.objects.filter(person=person)
    scans = acknowledgements.exclude(paper_scan="").values_list("pk", "paper_scan", "paper_scan_sha256")
    reports = ReportJob.objects.filter(requested_by=person).exclude(file="").values_list("file", flat=True)
    return Touched(
        acknowledgements=_ids(acknowledgements),
        declarations=_ids(declarations),
        interests=_ids(Interest.objects.filter(declaration__person=person)),
        events=_ids(AuditEvent.objects.filter(Q(person=person) | Q(actor=person))),
        adoptions=_ids(Adoption.objects.filter(chair=person)),
        audit_entries=_ids(
            AuditLogEntry.objects.filter(
                Q(subject=person) | Q(actor=person) | Q(target_type="conduct.person", target_id=str(person.pk))
            )
        ),
        sealed_pdfs=list(SealedPdf.objects.filter(acknowledgement__person=person).order_by("pk")),
        scans=[(pk, name, sha) for pk, name, sha in scans],
        report_files=list(reports),
    )


# ---------------------------------------------------------------------------
# The blanking, under the permit
# ---------------------------------------------------------------------------


def _permit_write(person: Person) -> ErasurePermit:
    txid = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT txid_current()")
            txid = cursor.fetchone()[0]
    return ErasurePermit.objects.create(txid=txid, person_id=person.pk)


def _blank(model: type[models.Model], ids: list[int], **values: Any) -> None:
    if ids:
        # The plain QuerySet.update: AppendOnlyQuerySet refuses, the trigger checks the permit.
        models.QuerySet.update(model._default_manager.filter(pk__in=ids), **values)


def _evidence_blank(touched: Touched) -> None:
    _blank(
        Acknowledgement,
        touched.acknowledgements,
        typed_name="",
        ip_address=None,
        user_agent="",
        paper_scan="",
        # The table requires a reason on on-behalf and corrected records: it reads "erased" instead.
        on_behalf_reason=Case(When(recorded_by__isnull=False, then=Value(ERASED)), default=Value("")),
        correction_reason=Case(When(corrects__isnull=False, then=Value(ERASED)), default=Value("")),
    )
    _blank(AuditEvent, touched.events, ip_address=None, user_agent="", details={})
    _blank(Adoption, touched.adoptions, chair_signature="", ip_address=None, user_agent="")
    _blank(AuditLogEntry, touched.audit_entries, summary=ERASED, details={}, ip_address=None)  # lists read "erased"
    if touched.interests:
        models.QuerySet.delete(Interest._default_manager.filter(pk__in=touched.interests))


def _evidence_kinds(touched: Touched) -> list[tuple[str, list[int]]]:
    return [
        (ACKNOWLEDGEMENT.label, touched.acknowledgements),
        (DECLARATION.label, touched.declarations),
        (AUDIT_EVENT.label, touched.events),
        (ADOPTION.label, touched.adoptions),
        (AUDIT_LOG_ENTRY.label, touched.audit_entries),
    ]


def _salts_delete_and_tombstones(touched: Touched, stone: dict[str, Any]) -> None:
    """Each erased record's salt goes (its commitments now reveal nothing); a tombstone says when and why."""
    tombstones = []
    for label, ids in _evidence_kinds(touched):
        EvidenceSalt.objects.filter(record_type=label, record_id__in=ids).delete()
        tombstones += [Tombstone(record_type=label, record_id=pk, **stone) for pk in ids]
    tombstones += [
        Tombstone(
            record_type="acknowledgements.sealedpdf",
            record_id=record.pk,
            file_name=record.file.name or "",
            sha256=record.sha256,
            **stone,
        )
        for record in touched.sealed_pdfs
    ]
    tombstones += [
        Tombstone(record_type=SCAN_TOMBSTONE, record_id=pk, file_name=name, sha256=sha, **stone)
        for pk, name, sha in touched.scans
    ]
    Tombstone.objects.bulk_create(tombstones)


UNSENT_AFTER_ERASURE = "Not sent: the person's personal data was erased."
SCAN_TOMBSTONE = "acknowledgements.paperscan"  # a paper scan's tombstone, by its acknowledgement's id


def _account_erase(person: Person) -> bool:
    """Replace name and email, lock the account. Conditional: False when another request erased it first."""
    updated = (
        Person.objects.filter(pk=person.pk)
        .exclude(email=erased_email(person.pk))
        .update(
            full_name=erased_name(person.pk),
            email=erased_email(person.pk),
            is_active=False,
            password=make_password(None),
        )
    )
    return updated == 1


def _sign_in_data_delete(person: Person) -> None:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount
    from django.contrib.sessions.models import Session

    EmailAddress.objects.filter(user=person).delete()
    SocialAccount.objects.filter(user=person).delete()
    Authenticator.objects.filter(user=person).delete()
    sessions = [s.pk for s in Session.objects.iterator() if s.get_decoded().get("_auth_user_id") == str(person.pk)]
    Session.objects.filter(pk__in=sessions).delete()


def _other_rows_blank(person: Person, old_name: str, old_email: str) -> None:
    """Rows outside the evidence that carry the person's name, address or what mail servers said about it."""
    from django.contrib.admin.models import LogEntry

    from provisioning.models import ExternalIdentity
    from reminders.models import ReminderLog
    from reports.models import ReportJob

    OutgoingEmail.objects.filter(person=person).update(to_address=erased_email(person.pk), last_error="")
    # Mail not sent yet would go to the erased address, and a receipt would fail for ever reading its deleted
    # PDF (queued again by every reconciliation sweep): it is given up, saying why.
    OutgoingEmail.objects.filter(person=person, status__in=(EmailStatus.PENDING, EmailStatus.SENDING)).update(
        status=EmailStatus.GIVEN_UP, claimed_at=None, last_error=UNSENT_AFTER_ERASURE
    )
    ReminderLog.objects.filter(recipient=person).update(last_error="", note="")
    # The provider's ids are the person's too, and a later SCIM write or roster row carrying them would
    # otherwise match the erased record and write their name and address back: they go, so the provider
    # meets a new person if it sends them again.
    ExternalIdentity.objects.filter(person=person).delete()
    ReportJob.objects.filter(requested_by=person).exclude(file="").update(file="", file_name="")
    mentions = Q(object_repr__icontains=old_email) | Q(change_message__icontains=old_email)
    if old_name.strip():
        mentions |= Q(object_repr__icontains=old_name) | Q(change_message__icontains=old_name)
    LogEntry.objects.filter(mentions).update(object_repr=ERASED, change_message="")
    _roster_rows_remove(old_email)


def _without_rows_of(data: bytes, email: str) -> bytes | None:
    """The roster file without the lines that carry ``email`` (the header stays); None if none does."""
    lines = data.decode("utf-8-sig", errors="replace").splitlines(keepends=True)
    kept = lines[:1] + [line for line in lines[1:] if email not in line.casefold()]
    return "".join(kept).encode() if len(kept) < len(lines) else None


def _roster_rows_remove(old_email: str) -> None:
    """Roster files keep every row as uploaded, the person's name and address among them: their rows go.

    Any organisation's file may name them (another trust's admin may have tried their address), so every
    upload is read; erasure is rare and a file is at most a few megabytes.
    """
    from provisioning.models import RosterUpload

    email = old_email.casefold()
    if not email:
        return
    for upload in RosterUpload.objects.only("pk", "data").iterator(chunk_size=20):
        redacted = _without_rows_of(bytes(upload.data), email)
        if redacted is not None:
            RosterUpload.objects.filter(pk=upload.pk).update(data=redacted)


def _files_delete(names: list[str]) -> None:
    """After the commit: a rolled-back erasure must not have lost the files."""
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            default_storage.delete(name)


def person_trust(person: Person) -> Organisation | None:
    path = Role.objects.filter(person=person).values_list("organisation__path", flat=True).first()
    return Organisation.objects.filter(pk=root_id(path)).first() if path else None


# ---------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------


def person_erase(*, actor: Person | None, person: Person, reason: str, basis: str) -> ErasureRecord:
    """Erase ``person``'s personal data and return the ``ErasureRecord``.

    ``basis`` is "retention_ended" (refused unless the person's retention period has passed) or
    "erasure_request" (UK GDPR Article 17; ``reason`` required). Raises ``ErasureRefused`` when the actor
    may not erase this person, a legal hold is on them, or the basis does not hold; ``actor`` None is the
    retention sweep, which may erase on "retention_ended" only. Erasing an erased
    person again (a double click) returns the existing record and changes nothing.
    """
    reason = " ".join(reason.split())
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        existing = ErasureRecord.objects.filter(person=person).first()
        if existing is not None:
            return existing
        if (refusal := erasure_refusal(actor=actor, person=person, reason=reason, basis=basis)) is not None:
            raise ErasureRefused(refusal)
        return _erase(actor=actor, person=person, reason=reason, basis=basis)


def _erase(*, actor: Person | None, person: Person, reason: str, basis: str) -> ErasureRecord:
    old_name, old_email, trust = person.full_name, person.email, person_trust(person)
    if not _account_erase(person):
        return ErasureRecord.objects.get(person=person)
    now = timezone.now()
    touched = _touched(person)
    permit = _permit_write(person)
    _evidence_blank(touched)
    _salts_delete_and_tombstones(touched, {"erased_at": now, "erased_by": actor, "basis": basis, "reason": reason})
    permit.delete()
    _sign_in_data_delete(person)
    _other_rows_blank(person, old_name, old_email)
    record = ErasureRecord.objects.create(
        person=person, erased_by=actor, erased_at=now, basis=basis, reason=reason, records=touched.as_ids()
    )
    audit_log_record(
        actor=actor,
        action=AuditAction.PERSON_ERASED,
        organisation=trust,
        target=record,
        subject=person,
        summary=f"Personal data of person {person.pk} erased ({ErasureBasis(basis).label.lower()})",
        details={"erasure_id": record.pk, "basis": basis, "records": touched.as_ids()},
    )
    files = [r.file.name or "" for r in touched.sealed_pdfs] + [name for _pk, name, _sha in touched.scans]
    transaction.on_commit(partial(_files_delete, files + touched.report_files), robust=True)
    return record
