"""Services for what people owe, what they sign and what they declare.

Each function does one thing inside a transaction and takes keyword arguments
only. Evidence rows are written once: an acknowledgement, its declaration and
interests, and its audit events are inserted in one transaction, after the
evidence hash over all of them has been computed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from acknowledgements.evidence import (
    RequestMeta,
    build_evidence,
    evidence_hash,
    hold_person_evidence,
    pre_signing_events,
)
from acknowledgements.models import (
    Acknowledgement,
    AuditEvent,
    AuthMethod,
    Declaration,
    EventKind,
    Interest,
    Obligation,
)
from conduct.models import Adoption, CodeVersion, Organisation, Person, Role, RoleKind, VersionStatus
from conduct.permissions import Action, can
from conduct.services import adoption_scope_q, in_force_adoptions, names_match

BATCH = 2000


def _due(owed_from: date, adoption: Adoption) -> date:
    """Due by the adoption's signing date, or the code's allowance after joining if later."""
    return max(adoption.signing_due_on, owed_from + timedelta(days=adoption.version.code.signing_due_days))


@transaction.atomic
def obligations_open_for_adoption(*, adoption: Adoption) -> int:
    """Everyone in the code's audience within the adoption's scope now owes the new version.

    Open obligations for earlier versions of the same code, for the same people,
    are marked superseded (they stay as history). Roles that end before the
    adoption are left out; roles starting later owe it from their start date.
    Returns the number of obligations created. Safe to run twice.
    """
    code = adoption.version.code
    now = timezone.now()
    roles = (
        Role.objects.filter(
            adoption_scope_q(
                board=adoption.board,
                organisation=adoption.organisation,
                includes_sub_organisations=adoption.includes_sub_organisations,
            ),
            kind__in=code.audience,
        )
        .exclude(ends_on__lt=adoption.adopted_on)
        .order_by("person_id", "starts_on", "pk")
        .values_list("pk", "person_id", "organisation_id", "starts_on")
    )
    first_role: dict[int, tuple[int, int, date]] = {}
    for role_id, person_id, organisation_id, starts_on in roles.iterator(chunk_size=BATCH):
        first_role.setdefault(person_id, (role_id, organisation_id, starts_on))

    Obligation.objects.filter(
        code=code, person_id__in=list(first_role), acknowledged_at__isnull=True, superseded_at__isnull=True
    ).exclude(version=adoption.version).update(superseded_at=now)

    rows = []
    for person_id, (role_id, organisation_id, starts_on) in first_role.items():
        owed_from = max(adoption.adopted_on, starts_on)
        rows.append(
            Obligation(
                person_id=person_id,
                version=adoption.version,
                code=code,
                role_id=role_id,
                organisation_id=organisation_id,
                adoption=adoption,
                owed_from=owed_from,
                due_on=_due(owed_from, adoption),
            )
        )
    created = Obligation.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
    return len(created)


@transaction.atomic
def obligations_open_for_role(*, role: Role) -> list[Obligation]:
    """A joiner owes, from their start date, each code version in force where they join."""
    opened = []
    for adoption in in_force_adoptions(role.organisation).values():
        if role.kind not in adoption.version.code.audience:
            continue
        owed_from = max(role.starts_on, adoption.adopted_on)
        obligation, created = Obligation.objects.get_or_create(
            person=role.person,
            version=adoption.version,
            defaults={
                "code": adoption.version.code,
                "role": role,
                "organisation": role.organisation,
                "adoption": adoption,
                "owed_from": owed_from,
                "due_on": _due(owed_from, adoption),
            },
        )
        if created:
            opened.append(obligation)
    return opened


# ---------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------

ROLE_LABELS = dict(RoleKind.choices)


def acceptance_statement(version: CodeVersion) -> str:
    """The sentence a signer accepts, naming the code, its version and its owner as shown."""
    code = version.code
    return (
        f"I have read and understood the {code.title} (version {version.label}) of {code.owner.name} "
        "and agree to abide by it."
    )


def academic_year_start(day: date) -> date:
    """1 September of the academic year (1 September to 31 August) containing ``day``."""
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


@dataclass(frozen=True)
class InterestData:
    kind: str
    counterparty: str
    nature: str
    starts_on: date
    ends_on: date | None = None


@dataclass(frozen=True)
class DeclarationData:
    """Either nothing to declare, or one or more interests."""

    nothing_to_declare: bool
    interests: Sequence[InterestData] = field(default_factory=tuple)

    def validate(self) -> None:
        if self.nothing_to_declare and self.interests:
            raise ValidationError(
                {"declaration": "Choose either “nothing to declare” or list your interests, not both."}
            )
        if not self.nothing_to_declare and not self.interests:
            raise ValidationError({"declaration": "List at least one interest, or choose “I have nothing to declare”."})
        for interest in self.interests:
            if interest.ends_on and interest.ends_on < interest.starts_on:
                raise ValidationError(
                    {"declaration": f"The interest in {interest.counterparty} ends before it starts."}
                )


@dataclass(frozen=True)
class SignResult:
    acknowledgement: Acknowledgement
    created: bool


def owed_obligation(person: Person, version: CodeVersion, *, for_update: bool = False) -> Obligation | None:
    """The person's obligation for this version, if it is still owed through a current role."""
    obligations = Obligation.objects.filter(
        person=person, version=version, superseded_at__isnull=True
    ).for_current_roles()
    if for_update:
        # Serialises two submissions from the same person (PostgreSQL); the unique constraint is the backstop.
        obligations = obligations.select_for_update(of=("self",))
    return obligations.select_related("organisation", "role").first()


def current_acknowledgement(person: Person, version: CodeVersion) -> Acknowledgement | None:
    """The person's acknowledgement of the version as it now stands: the latest correction, if any."""
    return (
        Acknowledgement.objects.filter(person=person, version=version, corrections__isnull=True)
        .select_related("version__code", "recorded_by")
        .order_by("-signed_at", "-pk")
        .first()
    )


def signing_roles(person: Person, obligation: Obligation, on: date) -> list[dict]:
    """The role(s) the signature is owed for, as they stand now: the obligation's role first,
    then any other current role the code applies to within its owner."""
    code = obligation.code
    roles = list(
        Role.objects.current(on)
        .filter(person=person, kind__in=code.audience, organisation__path__startswith=code.owner.path)
        .select_related("organisation")
        .order_by("starts_on", "pk")
    )
    if obligation.role_id not in {role.pk for role in roles}:
        roles.insert(0, obligation.role)
    roles.sort(key=lambda role: role.pk != obligation.role_id)
    return [
        {
            "role_id": role.pk,
            "kind": role.kind,
            "label": ROLE_LABELS.get(role.kind, role.kind),
            "title": role.title,
            "organisation_id": role.organisation_id,
            "organisation": role.organisation.name,
        }
        for role in roles
    ]


def role_kinds_of(ack: Acknowledgement) -> set[str]:
    """The role kinds an acknowledgement was made under: the text as the signer saw it is filtered by these."""
    return {role["kind"] for role in ack.roles or []}


def _name_errors(typed_name: str, person: Person) -> dict[str, list[str]]:
    if names_match(typed_name, person.full_name):
        return {}
    return {
        "typed_name": [
            f"Type your full name exactly as it is on record, {person.full_name} "
            "(capital letters and extra spaces do not matter)."
        ]
    }


def _declaration_rows(
    data: DeclarationData | None,
    *,
    person: Person,
    organisation: Organisation,
    version: CodeVersion | None,
    made_at: datetime,
    recorded_by: Person | None,
) -> tuple[Declaration | None, list[Interest]]:
    if data is None:
        return None, []
    data.validate()
    declaration = Declaration(
        person=person,
        organisation=organisation,
        version=version,
        nothing_to_declare=data.nothing_to_declare,
        made_at=made_at,
        academic_year_start=academic_year_start(timezone.localtime(made_at).date()),
        recorded_by=recorded_by,
    )
    interests = [
        Interest(
            kind=item.kind,
            counterparty=" ".join(item.counterparty.split()),
            nature=item.nature.strip(),
            starts_on=item.starts_on,
            ends_on=item.ends_on,
        )
        for item in data.interests
    ]
    return declaration, interests


def _insert_with_evidence(
    ack: Acknowledgement, declaration: Declaration | None, interests: list[Interest], *, event: AuditEvent
) -> bool:
    """Hash everything, then insert the acknowledgement, its declaration and its event.

    Returns False when another request inserted this person's acknowledgement of
    the version first (the partial unique constraint refused ours).
    """
    version = ack.version
    ack.evidence_hash = evidence_hash(
        build_evidence(
            ack,
            declaration=declaration,
            interests=interests,
            events=pre_signing_events(ack),
            version_label=version.label,
            code_id=version.code_id,
            corrects_code=ack.corrects.verification_code if ack.corrects_id else None,
        )
    )
    try:
        with transaction.atomic():
            ack.save()
    except IntegrityError:
        if ack.paper_scan:
            ack.paper_scan.storage.delete(ack.paper_scan.name)
        if ack.corrects_id is None and Acknowledgement.objects.filter(person=ack.person, version=version).exists():
            return False
        raise
    if declaration is not None:
        declaration.acknowledgement = ack
        declaration.save()
        for interest in interests:
            interest.declaration = declaration
            interest.save()
    event.acknowledgement = ack
    event.save()
    return True


def _mark_obligation_acknowledged(obligation: Obligation, at: datetime) -> None:
    # Conditional: a second writer (or a correction) never moves the first signature's time.
    Obligation.objects.filter(pk=obligation.pk, acknowledged_at__isnull=True).update(acknowledged_at=at)


def _queue_pdf(ack: Acknowledgement, *, send_receipt: bool) -> None:
    from acknowledgements.signing_tasks import issue_acknowledgement_pdf

    transaction.on_commit(lambda: issue_acknowledgement_pdf.delay(ack.pk, send_receipt=send_receipt))


def _not_owed_error(person: Person, version: CodeVersion) -> ValidationError:
    if (
        version.status == VersionStatus.SUPERSEDED
        or Obligation.objects.filter(person=person, version=version, superseded_at__isnull=False).exists()
    ):
        return ValidationError("This version has been replaced by a newer one; sign the current version instead.")
    return ValidationError(f"{person.full_name} does not owe a signature for this version through a current role.")


def _open_obligation(person: Person, version: CodeVersion) -> tuple[Obligation | None, Acknowledgement | None]:
    """Lock the person's obligation for the version; return it and any acknowledgement already made."""
    obligation = owed_obligation(person, version, for_update=True)
    existing = current_acknowledgement(person, version)
    if existing is None and obligation is None:
        raise _not_owed_error(person, version)
    return obligation, existing


def _new_acknowledgement(
    *,
    obligation: Obligation,
    version: CodeVersion,
    statement: str,
    typed_name: str,
    at: datetime,
    roles_on: date,
    request_meta: RequestMeta,
    **fields,
) -> Acknowledgement:
    return Acknowledgement(
        person=obligation.person,
        version=version,
        obligation=obligation,
        organisation=obligation.organisation,
        roles=signing_roles(obligation.person, obligation, roles_on),
        content_hash=version.content_hash,
        statement=statement.strip(),
        typed_name=" ".join(typed_name.split()),
        signed_at=at,
        ip_address=request_meta.ip_address,
        user_agent=request_meta.user_agent,
        **fields,
    )


def _event(
    kind: str, *, ack: Acknowledgement, actor: Person, at: datetime, request_meta: RequestMeta, **details
) -> AuditEvent:
    return AuditEvent(
        person_id=ack.person_id,
        version_id=ack.version_id,
        kind=kind,
        occurred_at=at,
        actor=actor,
        ip_address=request_meta.ip_address,
        user_agent=request_meta.user_agent,
        details={"verification_code": ack.verification_code, **details},
    )


def _save_signature(
    ack: Acknowledgement,
    declaration: tuple[Declaration | None, list[Interest]],
    event: AuditEvent,
    *,
    acknowledged_at: datetime,
    issue_pdf: bool,
) -> SignResult:
    """Insert the evidence, mark the obligation, queue the PDF; or return the record another request made first."""
    if not _insert_with_evidence(ack, *declaration, event=event):
        return SignResult(current_acknowledgement(ack.person, ack.version), created=False)
    _mark_obligation_acknowledged(ack.obligation, acknowledged_at)
    if issue_pdf:
        _queue_pdf(ack, send_receipt=True)
    return SignResult(ack, created=True)


def acknowledgement_sign(
    *,
    person: Person,
    version: CodeVersion,
    typed_name: str,
    statement: str,
    declaration: DeclarationData | None,
    request_meta: RequestMeta,
    at: datetime | None = None,
    issue_pdf: bool = True,
) -> SignResult:
    """The person signs the version they owe. Signing twice returns the first acknowledgement.

    Raises ValidationError (by field) for a name that does not match the one on
    record or a missing declaration; nothing is saved then.
    """
    with transaction.atomic():
        hold_person_evidence(person.pk)
        at = at or timezone.now()
        obligation, existing = _open_obligation(person, version)
        if existing:
            return SignResult(existing, created=False)
        errors = _name_errors(typed_name, person)
        if version.code.requires_declaration and declaration is None:
            errors["declaration"] = ["Declare your interests, or that you have nothing to declare."]
        if not statement.strip():
            errors["statement"] = ["The acceptance statement is missing."]
        if errors:
            raise ValidationError(errors)
        ack = _new_acknowledgement(
            obligation=obligation,
            version=version,
            statement=statement,
            typed_name=typed_name,
            at=at,
            roles_on=timezone.localtime(at).date(),
            request_meta=request_meta,
            auth_method=request_meta.auth_method,
            auth_provider=request_meta.auth_provider,
            mfa_used=request_meta.mfa_used,
        )
        rows = _declaration_rows(
            declaration,
            person=person,
            organisation=obligation.organisation,
            version=version,
            made_at=at,
            recorded_by=None,
        )
        event = _event(EventKind.SIGNED, ack=ack, actor=person, at=at, request_meta=request_meta)
        return _save_signature(ack, rows, event, acknowledged_at=at, issue_pdf=issue_pdf)


# ---------------------------------------------------------------------------
# Recorded on someone's behalf (a paper form signed at a meeting)
# ---------------------------------------------------------------------------

SCAN_MAX_BYTES = 10 * 1024 * 1024
SCAN_TYPES = {b"%PDF-": "PDF", b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


def scan_validate(scan: UploadedFile) -> str:
    """The scan's SHA-256; refuses empty, oversized and non-PDF/PNG/JPEG files with a clear message."""
    if scan.size == 0:
        raise ValidationError({"scan": "The scan is empty."})
    if scan.size > SCAN_MAX_BYTES:
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
    with transaction.atomic():
        hold_person_evidence(person.pk)
        at = at or timezone.now()
        obligation, existing = _open_obligation(person, version)
        if existing:
            return SignResult(existing, created=False)
        if not can(recorded_by, Action.RECORD_ON_BEHALF, obligation.organisation):
            raise PermissionDenied("You may not record signatures for this organisation.")
        errors = _name_errors(typed_name, person)
        errors.update(_paper_errors(obligation, paper_signed_on, reason, timezone.localtime(at).date()))
        scan_sha256 = ""
        if scan is not None:
            try:
                scan_sha256 = scan_validate(scan)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        ack = _new_acknowledgement(
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
        rows = _declaration_rows(
            declaration,
            person=person,
            organisation=obligation.organisation,
            version=version,
            made_at=paper_signed_at(paper_signed_on),
            recorded_by=recorded_by,
        )
        event = _event(
            EventKind.RECORDED_ON_BEHALF,
            ack=ack,
            actor=recorded_by,
            at=at,
            request_meta=request_meta,
            paper_signed_on=paper_signed_on.isoformat(),
        )
        return _save_signature(ack, rows, event, acknowledged_at=paper_signed_at(paper_signed_on), issue_pdf=issue_pdf)


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
    if original.obligation_id:
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
    event = _event(
        EventKind.CORRECTED,
        ack=correction,
        actor=corrected_by,
        at=at,
        request_meta=request_meta,
        corrects=original.verification_code,
    )
    try:
        _insert_with_evidence(correction, declaration, interests, event=event)
    except IntegrityError:
        raise ValidationError("This record has already been corrected; correct the latest record instead.")
    if original.obligation_id:
        # Bookkeeping, not evidence: the obligation now shows the corrected date.
        Obligation.objects.filter(pk=original.obligation_id).update(acknowledged_at=paper_signed_at(paper_signed_on))
    _queue_pdf(correction, send_receipt=False)
    return correction


# ---------------------------------------------------------------------------
# Declarations of interest outside signing (governors renew theirs each year)
# ---------------------------------------------------------------------------


def declaration_organisations(person: Person, on: date | None = None) -> list[Organisation]:
    """Where the person holds a current role, governance roles first: where a declaration can be made."""
    roles = Role.objects.current(on).filter(person=person).select_related("organisation").order_by("starts_on", "pk")
    governance = {RoleKind.MEMBER, RoleKind.TRUSTEE, RoleKind.LOCAL_GOVERNOR, RoleKind.CHAIR}
    ordered: list[Organisation] = []
    for role in sorted(roles, key=lambda r: r.kind not in governance):
        if role.organisation not in ordered:
            ordered.append(role.organisation)
    return ordered


@transaction.atomic
def declaration_make(
    *,
    person: Person,
    organisation: Organisation,
    declaration: DeclarationData,
    at: datetime | None = None,
) -> Declaration:
    """The person declares their interests (or nothing to declare) for an organisation they serve."""
    at = at or timezone.now()
    if organisation not in declaration_organisations(person, timezone.localtime(at).date()):
        raise ValidationError({"organisation": f"You do not hold a current role in {organisation.name}."})
    row, interests = _declaration_rows(
        declaration, person=person, organisation=organisation, version=None, made_at=at, recorded_by=None
    )
    row.save()
    for interest in interests:
        interest.declaration = row
        interest.save()
    return row


def latest_declaration(person: Person, organisation: Organisation | None = None) -> Declaration | None:
    declarations = Declaration.objects.filter(person=person)
    if organisation is not None:
        declarations = declarations.filter(organisation=organisation)
    return declarations.prefetch_related("interests").order_by("-made_at", "-pk").first()


def interests_still_held(declaration: Declaration | None, on: date | None = None) -> list[Interest]:
    """The interests of a declaration that had not ended by ``on``: what a renewal starts from."""
    if declaration is None:
        return []
    on = on or timezone.localdate()
    return [interest for interest in declaration.interests.all() if interest.ends_on is None or interest.ends_on >= on]


# ---------------------------------------------------------------------------
# Audit events outside signing
# ---------------------------------------------------------------------------


def event_first_view(
    *, person: Person, version: CodeVersion, request_meta: RequestMeta, at: datetime | None = None
) -> None:
    """Record the first time the person opened a version they owe.

    One insert whether or not it is the first time (INSERT … ON CONFLICT DO
    NOTHING against ``event_first_view_once``), so a second tab, a reload or a
    race costs the same and records nothing twice. The time is stamped once the
    person's row is held, like every event a signature's hash may cover.
    """
    with transaction.atomic():
        hold_person_evidence(person.pk)
        event = AuditEvent(
            person=person,
            version=version,
            kind=EventKind.FIRST_VIEWED,
            occurred_at=at or timezone.now(),
            actor=person,
            ip_address=request_meta.ip_address,
            user_agent=request_meta.user_agent,
        )
        AuditEvent.objects.bulk_create([event], ignore_conflicts=True)


def event_pdf_downloaded(*, acknowledgement: Acknowledgement, by: Person, request_meta: RequestMeta) -> AuditEvent:
    event = AuditEvent(
        person_id=acknowledgement.person_id,
        version_id=acknowledgement.version_id,
        acknowledgement=acknowledgement,
        kind=EventKind.PDF_DOWNLOADED,
        actor=by,
        ip_address=request_meta.ip_address,
        user_agent=request_meta.user_agent,
    )
    event.save()
    return event
