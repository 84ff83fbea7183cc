"""Signing: a person acknowledges the version they owe, with its evidence hashed and written once.

An acknowledgement, its declaration and interests, and its audit events are inserted
in one transaction, after the evidence hash over all of them has been computed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from acknowledgements.declarations import DeclarationData, declaration_rows
from acknowledgements.events import acknowledgement_event
from acknowledgements.evidence import build_evidence, evidence_hash
from acknowledgements.evidence_records import chain_signature
from acknowledgements.models import (
    Acknowledgement,
    AuditEvent,
    Declaration,
    EventKind,
    Interest,
    Obligation,
)
from acknowledgements.obligations import current_acknowledgement, owed_obligation
from acknowledgements.outgoing import receipt_email_record
from conduct.models import (
    CodeVersion,
    Person,
    Role,
    VersionStatus,
    role_label,
)
from conduct.services import names_match
from core.request_meta import RequestMeta
from core.tasks import enqueue_on_commit


def acceptance_statement(version: CodeVersion) -> str:
    """The sentence a signer accepts, naming the code, its version and its owner as shown."""
    code = version.code
    return (
        f"I have read and understood the {code.title} (version {version.label}) of {code.owner.name} "
        "and agree to abide by it."
    )


@dataclass(frozen=True)
class SignResult:
    acknowledgement: Acknowledgement
    created: bool


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
            "label": role_label(role.kind),
            "title": role.title,
            "organisation_id": role.organisation_id,
            "organisation": role.organisation.name,
        }
        for role in roles
    ]


def role_kinds_of(ack: Acknowledgement) -> set[str]:
    """The role kinds an acknowledgement was made under: the text as the signer saw it is filtered by these."""
    return {role["kind"] for role in ack.roles or []}


def typed_name_errors(typed_name: str, person: Person) -> dict[str, list[str]]:
    if names_match(typed_name, person.full_name):
        return {}
    return {
        "typed_name": [
            f"Type your full name exactly as it is on record, {person.full_name} "
            "(capital letters and extra spaces do not matter)."
        ]
    }


def insert_with_evidence(
    ack: Acknowledgement,
    declaration: Declaration | None,
    interests: list[Interest],
    *,
    event: AuditEvent,
    savepoint: bool = True,
) -> bool:
    """Hash everything, then insert the acknowledgement, its declaration and its event.

    Returns False when another request inserted this person's acknowledgement of
    the version first (the partial unique constraint refused ours). Without ``savepoint`` (the caller holds the
    unsigned obligation's lock, so no other signature of it can exist) such a refusal ends the caller's
    transaction with the IntegrityError instead, for the caller to handle outside it.
    """
    version = ack.version
    ack.evidence_hash = evidence_hash(build_evidence(ack, declaration=declaration, interests=interests))
    if not savepoint:
        ack.save()
        _insert_the_rest(ack, declaration, interests, event)
        return True
    try:
        with transaction.atomic():
            ack.save()
    except IntegrityError:
        if scan_name := ack.paper_scan.name:
            ack.paper_scan.storage.delete(scan_name)
        if ack.corrects_id is None and Acknowledgement.objects.filter(person=ack.person, version=version).exists():
            return False
        raise
    _insert_the_rest(ack, declaration, interests, event)
    return True


def _insert_the_rest(
    ack: Acknowledgement, declaration: Declaration | None, interests: list[Interest], event: AuditEvent
) -> None:
    if declaration is not None:
        declaration.acknowledgement = ack
        declaration.save()
        for interest in interests:
            interest.declaration = declaration
            interest.save()
    event.acknowledgement = ack
    event.save()


def _mark_obligation_acknowledged(obligation: Obligation, at: datetime) -> None:
    # Conditional: a second writer (or a correction) never moves the first signature's time.
    Obligation.objects.filter(pk=obligation.pk, acknowledged_at__isnull=True).update(acknowledged_at=at)


def queue_pdf(ack: Acknowledgement, *, send_receipt: bool) -> None:
    """Queue the PDF once the signature commits; a receipt owed is recorded now, in the same transaction.

    The receipt's row (``OutgoingEmail``) is what survives a lost message: the reconciliation sweep
    issues the missing PDF, and the issue queues the receipt the row says is owed.
    """
    from acknowledgements.tasks import (
        issue_acknowledgement_pdf,  # here, not at the top: the tasks module imports this one
    )

    if send_receipt:
        receipt_email_record(acknowledgement=ack)
    enqueue_on_commit(issue_acknowledgement_pdf, ack.pk, send_receipt=send_receipt)


def _not_owed_error(person: Person, version: CodeVersion) -> ValidationError:
    if (
        version.status == VersionStatus.SUPERSEDED
        or Obligation.objects.filter(person=person, version=version, superseded_at__isnull=False).exists()
    ):
        return ValidationError("This version has been replaced by a newer one; sign the current version instead.")
    return ValidationError(f"{person.full_name} does not owe a signature for this version through a current role.")


def lock_obligation_for_signing(person: Person, version: CodeVersion) -> Obligation | Acknowledgement:
    """Lock the person's obligation for the version and their row (``hold_person_evidence``, in the same
    statement), and return the obligation, or the acknowledgement they already made.

    Raises ValidationError when they have neither signed nor owe it.
    """
    obligation = owed_obligation(person, version, for_update=True)
    if obligation is not None and obligation.acknowledged_at is None:
        # Not signed: every signature marks its obligation in the transaction that makes it (and the partial
        # unique constraint is the backstop), so there is no acknowledgement to look for.
        obligation.person, obligation.code = person, version.code  # the caller's: no lazy loads
        return obligation
    existing = current_acknowledgement(person, version)
    if existing is not None:
        return existing
    if obligation is None:
        raise _not_owed_error(person, version)
    obligation.person, obligation.code = person, version.code
    return obligation


def new_acknowledgement(
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


def save_signature(
    ack: Acknowledgement,
    declaration: tuple[Declaration | None, list[Interest]],
    event: AuditEvent,
    *,
    acknowledged_at: datetime,
    issue_pdf: bool,
    savepoint: bool = True,
) -> SignResult:
    """Insert the evidence, mark the obligation, queue the PDF; or return the record another request made first.

    ``savepoint=False``: see ``insert_with_evidence``."""
    if not insert_with_evidence(ack, *declaration, event=event, savepoint=savepoint):
        first = current_acknowledgement(ack.person, ack.version)
        assert first is not None  # insert_with_evidence found it, and acknowledgements are never deleted
        return SignResult(first, created=False)
    if ack.obligation is not None:  # always: a signature is made for what is owed (new_acknowledgement)
        _mark_obligation_acknowledged(ack.obligation, acknowledged_at)
    if issue_pdf:
        queue_pdf(ack, send_receipt=True)
    chain_signature(ack, *declaration, event)  # last: the chain head is held only from here to the commit
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
    try:
        return _sign_in_transaction(
            person=person,
            version=version,
            typed_name=typed_name,
            statement=statement,
            declaration=declaration,
            request_meta=request_meta,
            at=at,
            issue_pdf=issue_pdf,
        )
    except IntegrityError:
        # The backstop refused a second acknowledgement (only possible if the obligation's lock was bypassed):
        # the transaction is rolled back, and the signature already on record is the answer.
        existing = current_acknowledgement(person, version)
        if existing is None:
            raise
        return SignResult(existing, created=False)


def _sign_in_transaction(
    *,
    person: Person,
    version: CodeVersion,
    typed_name: str,
    statement: str,
    declaration: DeclarationData | None,
    request_meta: RequestMeta,
    at: datetime | None,
    issue_pdf: bool,
) -> SignResult:
    with transaction.atomic():
        obligation = lock_obligation_for_signing(person, version)  # and the person's row: stamp the time after it
        if isinstance(obligation, Acknowledgement):  # signed already (a second tab, a double submit)
            return SignResult(obligation, created=False)
        at = at or timezone.now()
        errors = typed_name_errors(typed_name, person)
        if version.code.requires_declaration and declaration is None:
            errors["declaration"] = ["Declare your interests, or that you have nothing to declare."]
        if not statement.strip():
            errors["statement"] = ["The acceptance statement is missing."]
        if errors:
            raise ValidationError(errors)
        ack = new_acknowledgement(
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
        rows = declaration_rows(
            declaration,
            person=person,
            organisation=obligation.organisation,
            version=version,
            made_at=at,
            recorded_by=None,
        )
        event = acknowledgement_event(EventKind.SIGNED, ack=ack, actor=person, at=at, request_meta=request_meta)
        # The obligation is locked and unsigned: no other signature of it can be inserted, so no savepoint.
        return save_signature(ack, rows, event, acknowledged_at=at, issue_pdf=issue_pdf, savepoint=False)
