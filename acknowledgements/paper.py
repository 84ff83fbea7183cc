"""Signatures recorded on someone's behalf (a paper form signed at a meeting), their scans, and corrections of them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from acknowledgements.declarations import DeclarationData, declaration_rows
from acknowledgements.events import acknowledgement_event
from acknowledgements.evidence import (
    hold_person_evidence,
)
from acknowledgements.evidence_records import chain_signature
from acknowledgements.models import (
    Acknowledgement,
    Declaration,
    EventKind,
    Interest,
    Obligation,
)
from acknowledgements.signing import (
    SignResult,
    acceptance_statement,
    insert_with_evidence,
    lock_obligation_for_signing,
    new_acknowledgement,
    queue_pdf,
    save_signature,
    typed_name_errors,
)
from conduct.audit import audit_log_record
from conduct.models import (
    AuditAction,
    CodeVersion,
    Person,
)
from conduct.permissions import Action, can
from core.academic_year import academic_year_start
from core.request_meta import AuthMethod, RequestMeta

SCAN_MAX_BYTES = 10 * 1024 * 1024


SCAN_TYPES = {b"%PDF-": "PDF", b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


def scan_validate(scan: UploadedFile) -> str:
    """The scan's SHA-256; refuses empty, oversized and non-PDF/PNG/JPEG files with a clear message."""
    size = scan.size or 0  # Django measures every upload; a size it could not tell counts as empty
    if size == 0:
        raise ValidationError({"scan": "The scan is empty."})
    if size > SCAN_MAX_BYTES:
        raise ValidationError({"scan": f"The scan is larger than {SCAN_MAX_BYTES // (1024 * 1024)} MB."})
    scan.seek(0)
    head = scan.read(8)
    if not any(head.startswith(magic) for magic in SCAN_TYPES):
        raise ValidationError({"scan": "Upload the scan as a PDF, PNG or JPEG file."})
    digest = hashlib.sha256()
    scan.seek(0)
    for chunk in scan.chunks():
        digest.update(chunk)
    scan.seek(0)
    return digest.hexdigest()


def paper_signed_at(day: date) -> datetime:
    """Paper forms carry a date, not a time: midday in London keeps the day the same in any zone."""
    return datetime.combine(day, time(12, 0), tzinfo=ZoneInfo(settings.TIME_ZONE))


def _paper_errors(obligation: Obligation, paper_signed_on: date, reason: str, today: date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if paper_signed_on > today:
        errors["paper_signed_on"] = ["The date signed cannot be in the future."]
    elif paper_signed_on < obligation.adoption.adopted_on:
        errors["paper_signed_on"] = [
            f"The date signed cannot be before this version was adopted ({obligation.adoption.adopted_on:%-d %B %Y})."
        ]
    if not reason.strip():
        errors["reason"] = ["Say why it is recorded on their behalf, e.g. “signed on paper at the board meeting”."]
    return errors


@contextmanager
def _scans_removed_on_rollback() -> Iterator[list]:
    """Files written inside the block are deleted again if it fails: a rolled-back record leaves no scan behind.

    Scans are stored under names made unique by the storage, so deleting one never touches another record's.
    """
    written: list = []  # (storage, name) of each file saved
    try:
        yield written
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise


def acknowledgement_record_on_behalf(
    *,
    person: Person,
    version: CodeVersion,
    recorded_by: Person,
    typed_name: str,
    paper_signed_on: date,
    reason: str,
    declaration: DeclarationData | None,
    request_meta: RequestMeta,
    scan: UploadedFile | None = None,
    at: datetime | None = None,
    issue_pdf: bool = True,
) -> SignResult:
    """A clerk or admin records that the person signed on paper. The record names who recorded it and why."""
    with _scans_removed_on_rollback() as written, transaction.atomic():
        hold_person_evidence(person.pk)
        at = at or timezone.now()
        obligation = lock_obligation_for_signing(person, version)
        if isinstance(obligation, Acknowledgement):  # recorded already (a second tab, a double submit)
            return SignResult(obligation, created=False)
        if not can(recorded_by, Action.RECORD_ON_BEHALF, obligation.organisation):
            raise PermissionDenied("You may not record signatures for this organisation.")
        errors = typed_name_errors(typed_name, person)
        errors.update(_paper_errors(obligation, paper_signed_on, reason, timezone.localtime(at).date()))
        scan_sha256 = ""
        if scan is not None:
            try:
                scan_sha256 = scan_validate(scan)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        ack = new_acknowledgement(
            obligation=obligation,
            version=version,
            statement=acceptance_statement(version),
            typed_name=typed_name,
            at=at,
            roles_on=paper_signed_on,
            request_meta=request_meta,
            auth_method=AuthMethod.ON_BEHALF,
            recorded_by=recorded_by,
            on_behalf_reason=reason.strip(),
            paper_signed_on=paper_signed_on,
            paper_scan_sha256=scan_sha256,
        )
        if scan is not None:
            ack.paper_scan.save(f"{scan_sha256}{_extension(scan)}", scan, save=False)
            written.append((ack.paper_scan.storage, ack.paper_scan.name))
        rows = declaration_rows(
            declaration,
            person=person,
            organisation=obligation.organisation,
            version=version,
            made_at=paper_signed_at(paper_signed_on),
            recorded_by=recorded_by,
        )
        event = acknowledgement_event(
            EventKind.RECORDED_ON_BEHALF,
            ack=ack,
            actor=recorded_by,
            at=at,
            request_meta=request_meta,
            paper_signed_on=paper_signed_on.isoformat(),
        )
        result = save_signature(ack, rows, event, acknowledged_at=paper_signed_at(paper_signed_on), issue_pdf=issue_pdf)
        audit_log_record(
            actor=recorded_by,
            action=AuditAction.PAPER_RECORDED,
            organisation=obligation.organisation,
            target=result.acknowledgement,
            subject=person,
            summary=f"Recorded {person.full_name}'s paper signature of {version.code.title} {version.label} "
            f"(signed on {paper_signed_on:%-d %B %Y}).",
            details={
                "before": None,
                "after": {
                    "acknowledgement_id": result.acknowledgement.pk,
                    "paper_signed_on": paper_signed_on,
                    "reason": reason.strip(),
                    "scan": bool(scan_sha256),
                },
            },
        )
        return result


def _extension(upload: UploadedFile) -> str:
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    return {"PDF": ".pdf", "PNG": ".png", "JPEG": ".jpg"}[
        next(kind for magic, kind in SCAN_TYPES.items() if head.startswith(magic))
    ]


@transaction.atomic
def acknowledgement_correct(
    *,
    original: Acknowledgement,
    corrected_by: Person,
    correction_reason: str,
    paper_signed_on: date,
    on_behalf_reason: str,
    request_meta: RequestMeta,
    at: datetime | None = None,
) -> Acknowledgement:
    """Correct a paper record (e.g. the wrong date was typed): a new record pointing at the old one.

    The original stays exactly as it was; verification of it says it was corrected.
    Only records made on someone's behalf can be corrected, by someone who may record them.
    """
    hold_person_evidence(original.person_id)
    at = at or timezone.now()
    original = (
        Acknowledgement.objects.select_for_update(of=("self",))
        .select_related("version__code", "obligation__adoption")
        .get(pk=original.pk)
    )
    if not original.on_behalf:
        raise ValidationError(
            "Only a record made on someone's behalf can be corrected; a person's own signature stands."
        )
    if not can(corrected_by, Action.RECORD_ON_BEHALF, original.organisation):
        raise PermissionDenied("You may not correct records for this organisation.")
    if original.corrections.exists():
        raise ValidationError("This record has already been corrected; correct the latest record instead.")
    errors: dict[str, list[str]] = {}
    if not correction_reason.strip():
        errors["correction_reason"] = ["Say what was wrong with the original record."]
    if original.obligation is not None:
        errors.update(
            _paper_errors(original.obligation, paper_signed_on, on_behalf_reason, timezone.localtime(at).date())
        )
    if errors:
        raise ValidationError(errors)
    correction = Acknowledgement(
        person=original.person,
        version=original.version,
        obligation=original.obligation,
        organisation=original.organisation,
        roles=original.roles,
        content_hash=original.content_hash,
        statement=original.statement,
        typed_name=original.typed_name,
        signed_at=at,
        ip_address=request_meta.ip_address,
        user_agent=request_meta.user_agent,
        auth_method=AuthMethod.ON_BEHALF,
        recorded_by=corrected_by,
        on_behalf_reason=on_behalf_reason.strip(),
        paper_signed_on=paper_signed_on,
        paper_scan=original.paper_scan.name if original.paper_scan else "",
        paper_scan_sha256=original.paper_scan_sha256,
        corrects=original,
        correction_reason=correction_reason.strip(),
    )
    old_declaration = original.declarations.order_by("pk").first()
    declaration, interests = None, []
    if old_declaration is not None:
        declaration = Declaration(
            person=old_declaration.person,
            organisation=old_declaration.organisation,
            version=old_declaration.version,
            nothing_to_declare=old_declaration.nothing_to_declare,
            made_at=paper_signed_at(paper_signed_on),
            academic_year_start=academic_year_start(paper_signed_on),
            recorded_by=corrected_by,
        )
        interests = [
            Interest(
                kind=i.kind, counterparty=i.counterparty, nature=i.nature, starts_on=i.starts_on, ends_on=i.ends_on
            )
            for i in old_declaration.interests.order_by("pk")
        ]
    event = acknowledgement_event(
        EventKind.CORRECTED,
        ack=correction,
        actor=corrected_by,
        at=at,
        request_meta=request_meta,
        corrects=original.verification_code,
    )
    try:
        insert_with_evidence(correction, declaration, interests, event=event)
    except IntegrityError as clash:  # acknowledgement_corrected_once: someone corrected it first
        raise ValidationError("This record has already been corrected; correct the latest record instead.") from clash
    if original.obligation_id:
        # Bookkeeping, not evidence: the obligation now shows the corrected date.
        Obligation.objects.filter(pk=original.obligation_id).update(acknowledged_at=paper_signed_at(paper_signed_on))
    queue_pdf(correction, send_receipt=False)
    audit_log_record(
        actor=corrected_by,
        action=AuditAction.PAPER_CORRECTED,
        organisation=original.organisation,
        target=correction,
        subject=original.person,
        summary=f"Corrected the paper record of {original.person.full_name} for {original.version.code.title} "
        f"{original.version.label}: {correction.correction_reason}",
        details={
            "before": {"acknowledgement_id": original.pk, "paper_signed_on": original.paper_signed_on},
            "after": {"acknowledgement_id": correction.pk, "paper_signed_on": paper_signed_on},
        },
    )
    chain_signature(correction, declaration, interests, event)  # last: holds the chain head until the commit
    return correction
