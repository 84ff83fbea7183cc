"""Domain services for organisations, roles, codes and adoption.

Each function does one thing inside a transaction and takes keyword arguments
only. Views call these; they never write models themselves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from conduct.audit import audit_log_record
from conduct.evidence_records import adoption_chain
from conduct.models import (
    Adoption,
    AuditAction,
    Clause,
    Code,
    CodeVersion,
    Meeting,
    Organisation,
    Person,
    Role,
    Section,
    VersionStatus,
)
from conduct.signals import adoption_recorded, role_started
from core.canonical import canonical_json, sha256_hex


def normalise_name(name: str) -> str:
    """Case-insensitive, with runs of whitespace collapsed: how typed signatures are compared."""
    return " ".join((name or "").split()).casefold()


def names_match(typed: str, on_record: str) -> bool:
    return bool(normalise_name(typed)) and normalise_name(typed) == normalise_name(on_record)


def add_years(day: date, years: int = 1) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# ---------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------

CLAUSE_FIELDS = ("number", "style", "depth", "term", "text", "roles")


@transaction.atomic
def version_create_from_content(
    *,
    code: Code,
    label: str,
    sections: Iterable[dict[str, Any]],
    created_by: Person | None = None,
    based_on: CodeVersion | None = None,
) -> CodeVersion:
    """A new draft version holding the given sections and clauses (fixture format).

    Each section is ``{"number", "title", "clauses": [...]}``; each clause has the
    keys in ``CLAUSE_FIELDS`` plus ``"new"``, and optionally ``"key"``.
    """
    version = CodeVersion.objects.create(code=code, label=label, created_by=created_by, based_on=based_on)
    section_rows, clause_rows = [], []
    for s_index, section_data in enumerate(sections, start=1):
        section = Section(
            version=version,
            position=s_index,
            number=section_data.get("number", ""),
            title=section_data.get("title", ""),
            **({"key": section_data["key"]} if section_data.get("key") else {}),
        )
        section_rows.append(section)
        for c_index, clause_data in enumerate(section_data.get("clauses", []), start=1):
            clause_rows.append(
                (
                    section,
                    Clause(
                        position=c_index,
                        is_new=bool(clause_data.get("new", False)),
                        **{
                            field: clause_data.get(field, [] if field == "roles" else "")
                            for field in CLAUSE_FIELDS
                            if field != "depth"
                        },
                        depth=int(clause_data.get("depth", 0)),
                        **({"key": clause_data["key"]} if clause_data.get("key") else {}),
                    ),
                )
            )
    Section.objects.bulk_create(section_rows)
    for section, clause in clause_rows:
        clause.section = section
    Clause.objects.bulk_create([clause for _, clause in clause_rows])
    return version


def version_content_as_data(version: CodeVersion, *, keep_keys: bool = True) -> list[dict[str, Any]]:
    """A version's sections and clauses in the fixture format (used to copy a version)."""
    data = []
    for section in version.ordered_sections():
        data.append(
            {
                **({"key": section.key} if keep_keys else {}),
                "number": section.number,
                "title": section.title,
                "clauses": [
                    {
                        **({"key": clause.key} if keep_keys else {}),
                        **{field: getattr(clause, field) for field in CLAUSE_FIELDS},
                        "new": False,
                    }
                    for clause in section.clauses.all()
                ],
            }
        )
    return data


# ---------------------------------------------------------------------------
# Adoption
# ---------------------------------------------------------------------------


def adoption_scope_q(
    *, board: Organisation, organisation: Organisation, includes_sub_organisations: bool, field: str = "organisation"
) -> Q:
    """Organisations an adoption covers: the board, the organisation it is for, and optionally all below."""
    query = Q(**{f"{field}": board}) | Q(**{f"{field}": organisation})
    if includes_sub_organisations:
        query |= Q(**{f"{field}__path__startswith": organisation.path})
    return query


def adoptions_covering(organisation: Organisation) -> QuerySet[Adoption]:
    """Every adoption whose scope includes ``organisation``."""
    return Adoption.objects.filter(
        Q(board=organisation)
        | Q(organisation=organisation)
        | Q(includes_sub_organisations=True, organisation_id__in=organisation.ancestor_ids())
    )


def in_force_adoptions(organisation: Organisation) -> dict[int, Adoption]:
    """For each code, the adoption in force for ``organisation``: the most recent that covers it."""
    in_force: dict[int, Adoption] = {}
    for adoption in (
        adoptions_covering(organisation).select_related("version__code").order_by("adopted_on", "recorded_at")
    ):
        in_force[adoption.version.code_id] = adoption
    return in_force


@dataclass(frozen=True)
class AdoptionRequest:
    version: CodeVersion
    board: Organisation
    meeting: Meeting
    chair: Person
    chair_signature: str
    effective_on: date
    review_due_on: date | None = None
    signing_due_on: date | None = None
    includes_sub_organisations: bool = False
    minute_reference: str = ""


def adoption_validate(request: AdoptionRequest, *, recorded_by: Person, today: date | None = None) -> None:
    """Every rule an adoption must meet; raises ValidationError listing what is wrong."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    version, board, meeting = request.version, request.board, request.meeting
    if not Clause.objects.filter(section__version=version).exists():
        add("version", "This version has no clauses; add its text before adopting it.")
    if Adoption.objects.filter(version=version, board=board).exists():
        add("version", f"{board} has already adopted {version.code.title} {version.label}.")
    if version.status == VersionStatus.SUPERSEDED:
        add("version", "This version has been superseded; adopt the current one.")
    if meeting.board_id != board.pk:
        add("meeting", "Choose a meeting of this board.")
    if meeting.held_on > today:
        add("meeting", "The meeting date is in the future; record the adoption after the meeting.")
    if not board.path.startswith(version.code.owner.path):
        add("board", f"{board} is not a board of {version.code.owner}, which owns {version.code.title}.")
    later = (
        Adoption.objects.filter(board=board, version__code=version.code, version_id__gt=version.pk)
        .select_related("version")
        .first()
    )
    if later:
        add("version", f"{board} has already adopted a later version ({later.version.label}) of {version.code.title}.")
    review_due_on = request.review_due_on or default_review_due_on(
        adopted_on=meeting.held_on, effective_on=request.effective_on
    )
    if review_due_on < request.effective_on:
        add("review_due_on", "The review date cannot be before the effective date.")
    if request.effective_on < meeting.held_on:
        add("effective_on", "The code cannot take effect before the meeting that adopted it.")
    if (
        not Role.objects.current(meeting.held_on)
        .filter(person=request.chair, organisation=board, kind="chair")
        .exists()
    ):
        add("chair", f"{request.chair.full_name} was not the chair of {board} on the day of the meeting.")
    if not names_match(request.chair_signature, request.chair.full_name):
        add("chair_signature", f"The signature must be the chair's name as on record: {request.chair.full_name}.")
    if request.signing_due_on and request.signing_due_on < request.effective_on:
        add("signing_due_on", "Signatures cannot be due before the code takes effect.")
    if errors:
        raise ValidationError(errors)


def default_review_due_on(*, adopted_on: date, effective_on: date) -> date:
    """A year after adoption; a year after the effective date if the code takes effect later than that."""
    due = add_years(adopted_on)
    return due if due >= effective_on else add_years(effective_on)


ADOPTION_EVIDENCE_FORMAT = 1


def adoption_evidence(adoption: Adoption) -> dict[str, Any]:
    """The canonical record an adoption's evidence hash is computed over.

    Only values fixed when the adoption was made go in: identifiers, the typed
    signature, dates, the version's label and content hash (both locked by
    adoption). Names of people, boards and codes may legitimately change later,
    so they are left out; otherwise renaming a board would make its old
    adoptions look tampered with.
    """
    return {
        "type": "adoption",
        "format": ADOPTION_EVIDENCE_FORMAT,
        "code_id": adoption.version.code_id,
        "version_id": adoption.version_id,
        "version_label": adoption.version.label,
        "content_hash": adoption.content_hash,
        "board_id": adoption.board_id,
        "organisation_id": adoption.organisation_id,
        "includes_sub_organisations": adoption.includes_sub_organisations,
        "meeting_id": adoption.meeting_id,
        "meeting_held_on": adoption.adopted_on,
        "minute_reference": adoption.minute_reference,
        "chair_id": adoption.chair_id,
        "chair_signature": adoption.chair_signature,
        "adopted_on": adoption.adopted_on,
        "effective_on": adoption.effective_on,
        "review_due_on": adoption.review_due_on,
        "signing_due_on": adoption.signing_due_on,
        "recorded_by_id": adoption.recorded_by_id,
        "recorded_on_behalf": adoption.recorded_on_behalf,
        "recorded_at": adoption.recorded_at,
        "ip_address": adoption.ip_address,
        "user_agent": adoption.user_agent,
    }


def adoption_evidence_hash(adoption: Adoption) -> str:
    return sha256_hex(canonical_json(adoption_evidence(adoption)))


def version_lock(*, version: CodeVersion, effective_on: date, review_due_on: date, at: datetime) -> CodeVersion:
    """Freeze a draft's text: compute its content hash and mark it adopted (first adoption only)."""
    if version.status != VersionStatus.DRAFT:
        return version
    version.content_hash = version.compute_hash()
    version.status = VersionStatus.ADOPTED
    version.adopted_at = at
    version.effective_on = effective_on
    version.review_due_on = review_due_on
    version.save()
    return version


def versions_mark_superseded(*, code: Code, at: datetime) -> None:
    """A version is superseded once every board that adopted it has since adopted another version.

    "Since" means on or after the day it adopted this one. The code's adoptions
    are read in one query, as this runs under the version row lock.
    """
    by_board: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for version_id, board_id, adopted_on in Adoption.objects.filter(version__code=code).values_list(
        "version_id", "board_id", "adopted_on"
    ):
        by_board[board_id].append((version_id, adopted_on))
    for version in code.versions.filter(status=VersionStatus.ADOPTED):
        if _moved_on_everywhere(version.pk, by_board):
            version.status = VersionStatus.SUPERSEDED
            version.superseded_at = at
            version.save()


def _moved_on_everywhere(version_id: int, by_board: dict[int, list[tuple[int, date]]]) -> bool:
    """Whether every board that adopted the version adopted another one on or after that day."""
    adopted_on = {board_id: day for board_id, rows in by_board.items() for v, day in rows if v == version_id}
    return bool(adopted_on) and all(
        any(v != version_id and day >= adopted_on[board_id] for v, day in by_board[board_id]) for board_id in adopted_on
    )


@transaction.atomic
def adoption_record(
    *,
    request: AdoptionRequest,
    recorded_by: Person,
    ip_address: str | None = None,
    user_agent: str = "",
    recorded_at: datetime | None = None,
    today: date | None = None,
) -> Adoption:
    """A board adopts a version: validate, freeze the text, record evidence, open the signing round.

    The signing round (obligations, the audit event, the certificate) is opened by
    the receivers of ``adoption_recorded``, inside this transaction.
    """
    today = today or timezone.localdate()
    recorded_at = recorded_at or timezone.now()
    # Lock the version row so two adoptions of the same draft cannot race each other.
    version = CodeVersion.objects.select_for_update().select_related("code").get(pk=request.version.pk)
    request = AdoptionRequest(**{**request.__dict__, "version": version})
    adoption_validate(request, recorded_by=recorded_by, today=today)
    review_due_on = request.review_due_on or default_review_due_on(
        adopted_on=request.meeting.held_on, effective_on=request.effective_on
    )
    signing_due_on = request.signing_due_on or request.effective_on + timedelta(days=version.code.signing_due_days)
    version_lock(version=version, effective_on=request.effective_on, review_due_on=review_due_on, at=recorded_at)
    board = request.board
    adoption = Adoption(
        version=version,
        board=board,
        organisation=board.governs or board,
        includes_sub_organisations=request.includes_sub_organisations,
        meeting=request.meeting,
        minute_reference=request.minute_reference or request.meeting.minutes_reference,
        chair=request.chair,
        chair_signature=" ".join(request.chair_signature.split()),
        adopted_on=request.meeting.held_on,
        effective_on=request.effective_on,
        review_due_on=review_due_on,
        signing_due_on=signing_due_on,
        recorded_by=recorded_by,
        recorded_on_behalf=recorded_by.pk != request.chair.pk,
        content_hash=version.content_hash,
        recorded_at=recorded_at,
        ip_address=ip_address or None,
        user_agent=user_agent[:1000],
    )
    adoption.evidence_hash = adoption_evidence_hash(adoption)
    try:
        with transaction.atomic():
            adoption.save()
    except IntegrityError as clash:  # adoption_once_per_board: a second tab or a double submit
        raise ValidationError(
            {"version": f"{board} has already adopted {version.code.title} {version.label}."}
        ) from clash
    versions_mark_superseded(code=version.code, at=recorded_at)
    adoption_recorded.send(sender=Adoption, adoption=adoption, recorded_at=recorded_at)
    audit_log_record(
        actor=recorded_by,
        action=AuditAction.VERSION_ADOPTED,
        organisation=board,
        target=adoption,
        subject=request.chair,
        summary=f"{board.name} adopted {version.code.title} {version.label} at its meeting on "
        f"{adoption.adopted_on:%-d %B %Y}" + (" (recorded by the clerk)." if adoption.recorded_on_behalf else "."),
        details={
            "before": {"version_status": VersionStatus.DRAFT},
            "after": {
                "adoption_id": adoption.pk,
                "version_id": version.pk,
                "effective_on": adoption.effective_on,
                "review_due_on": adoption.review_due_on,
                "signing_due_on": adoption.signing_due_on,
                "includes_sub_organisations": adoption.includes_sub_organisations,
                "verification_code": adoption.verification_code,
            },
        },
        ip_address=ip_address or None,
    )
    adoption_chain(adoption)  # last: the board's chain head is held only from here to the commit
    return adoption


# ---------------------------------------------------------------------------
# Roles
# ---------------------------------------------------------------------------


@transaction.atomic
def role_create(
    *,
    person: Person,
    organisation: Organisation,
    kind: str,
    starts_on: date,
    title: str = "",
    ends_on: date | None = None,
    category: str = "",
    appointed_by: str = "",
    term_ends_on: date | None = None,
) -> Role:
    """Give a person a role; they owe, from their start date, every code in force there for that role.

    What they owe is opened by the receivers of ``role_started``, inside this transaction.
    """
    role = Role(
        person=person,
        organisation=organisation,
        kind=kind,
        starts_on=starts_on,
        title=title,
        ends_on=ends_on,
        category=category,
        appointed_by=appointed_by,
        term_ends_on=term_ends_on,
    )
    role.full_clean()
    role.save()
    role_started.send(sender=Role, role=role)
    return role
