"""Read-side queries for acknowledgements' pages, each in a fixed number of queries however many rows.

What a signer owes and signed (My codes), which version they read and as which role, one record
as its page shows it, and the lists officers work from (paper signatures, invitations). Who may
see what is decided in ``conduct.permissions``; these apply it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from acknowledgements.declarations import declaration_organisations
from acknowledgements.evidence import acknowledgement_evidence_hash
from acknowledgements.models import (
    Acknowledgement,
    AuditEvent,
    Declaration,
    EventKind,
    Invitation,
    Obligation,
    ObligationStatus,
    SealedPdf,
)
from conduct.models import GOVERNANCE_ROLE_KINDS, Code, CodeVersion, Organisation, Person, Role
from conduct.permissions import (
    can_correct_record,
    can_record_on_behalf,
    can_view_record,
    managed_people_q,
    paper_signatures_q,
    role_kinds_under,
)
from conduct.selectors import current_version
from core.academic_year import academic_year_label, academic_year_start
from core.models import Tombstone, tombstone_of

RECENT_DECLARATIONS = 10


@dataclass
class OwedCode:
    code: Code
    version: CodeVersion
    organisation: Organisation
    due_on: date
    status: str


def reader_role_kinds(user: Person, code: Code, on: date | None = None) -> set[str] | None:
    """The audience roles the reader holds where the code applies; None if they hold none (show everything)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if on is None:  # today: from the roles read with the signed-in user
        kinds = set(role_kinds_under(user, code.owner.path)) & set(code.audience)
    else:
        kinds = set(
            Role.objects.current(on)
            .filter(person=user, kind__in=code.audience, organisation__path__startswith=code.owner.path)
            .values_list("kind", flat=True)
        )
    return kinds or None


def codes_owed(user: Person, today: date | None = None) -> list[OwedCode]:
    """Code versions the person owes or has signed, for their current roles, soonest due first (one query).

    Only the newest version of each code where it is owed: a version signed last year that a newer one replaces
    is on My codes (what they signed), not here above the one they owe now."""
    today = today or timezone.localdate()
    obligations = (
        Obligation.objects.filter(person=user, superseded_at__isnull=True)
        .for_current_roles(today)
        .select_related("code", "version__code", "organisation")
        .order_by("-version_id")
    )
    newest: dict[tuple[int, int], Obligation] = {}
    for o in obligations:
        newest.setdefault((o.code_id, o.organisation_id), o)
    return [
        OwedCode(code=o.code, version=o.version, organisation=o.organisation, due_on=o.due_on, status=o.status(today))
        for o in sorted(newest.values(), key=lambda o: (o.due_on, o.pk))
    ]


def declaration_lapsed_for(user: Person, today: date | None = None) -> bool:
    """Whether the person's yearly declaration of interests has lapsed (the home page's reminder; two queries)."""
    today = today or timezone.localdate()
    return declaration_lapsed(user, recent_declarations(user), today)


def version_for_reader(user: Person, code: Code) -> CodeVersion | None:
    """The version this person owes for the code if any, else the current one."""
    owed = (
        Obligation.objects.filter(person=user, code=code, superseded_at__isnull=True)
        .select_related("version")
        .order_by("-owed_from")
        .first()
    )
    return owed.version if owed else current_version(code)


# ---------------------------------------------------------------------------
# My codes
# ---------------------------------------------------------------------------


@dataclass
class OwedRow:
    obligation: Obligation
    status: str
    acknowledgement: Acknowledgement | None


@dataclass
class MyCodes:
    to_sign: list[OwedRow]
    signed: list[Acknowledgement]  # newest first; a corrected record shows as its correction
    declarations: list[Declaration]  # the most recent, newest first
    may_declare: bool
    declaration_lapsed: bool
    academic_year: date  # 1 September of the academic year ``today`` is in
    academic_year_label: str


def recent_declarations(person: Person) -> list[Declaration]:
    """The person's latest declarations with their interests, newest first (two queries)."""
    return list(
        Declaration.objects.filter(person=person)
        .select_related("organisation")
        .prefetch_related("interests")
        .order_by("-made_at")[:RECENT_DECLARATIONS]
    )


def declaration_lapsed(person: Person, declarations: list[Declaration], today: date) -> bool:
    """Governors confirm their declaration every academic year: last year's lapses on 1 September.

    ``declarations`` are the person's latest, newest first (as ``recent_declarations``).
    """
    this_year = academic_year_start(today)
    if any(declaration.academic_year_start >= this_year for declaration in declarations):
        return False
    return Role.objects.current(today).filter(person=person, kind__in=GOVERNANCE_ROLE_KINDS).exists()


def my_codes(user: Person, today: date) -> MyCodes:
    """Everything the My codes page shows, in seven queries however many codes and declarations."""
    signed = list(
        Acknowledgement.objects.filter(person=user, corrections__isnull=True)
        .select_related("version__code__owner", "organisation", "pdf", "recorded_by")
        .order_by("-signed_at")
    )
    by_version = {ack.version_id: ack for ack in signed}
    obligations = (
        Obligation.objects.filter(person=user, superseded_at__isnull=True)
        .for_current_roles(today)
        .select_related("code__owner", "version", "organisation", "role")
        .order_by("acknowledged_at", "due_on")
    )
    rows = [OwedRow(o, o.status(today), by_version.get(o.version_id)) for o in obligations]
    declarations = recent_declarations(user)
    return MyCodes(
        to_sign=[row for row in rows if row.status in (ObligationStatus.OUTSTANDING, ObligationStatus.OVERDUE)],
        signed=signed,
        declarations=declarations,
        may_declare=bool(declaration_organisations(user, today)),
        declaration_lapsed=declaration_lapsed(user, declarations, today),
        academic_year=academic_year_start(today),
        academic_year_label=academic_year_label(today),
    )


# ---------------------------------------------------------------------------
# One record
# ---------------------------------------------------------------------------


def acknowledgement_visible_to(user: Person, pk: int) -> Acknowledgement | None:
    """The acknowledgement, if ``user`` may see it (``can_view_record``); None if not, or if there is none."""
    ack = (
        Acknowledgement.objects.select_related(
            "person", "version__code__owner", "organisation", "recorded_by", "corrects"
        )
        .filter(pk=pk)
        .first()
    )
    if ack is None or not can_view_record(user, person_id=ack.person_id, organisation=ack.organisation):
        return None
    return ack


@dataclass
class RecordPage:
    ack: Acknowledgement
    pdf: SealedPdf | None  # None while the PDF is being issued
    declaration: Declaration | None
    events: list[AuditEvent]
    evidence_intact: bool  # the stored rows still hash to the evidence hash made at signing
    correction: Acknowledgement | None
    own: bool
    may_correct: bool
    erased: Tombstone | None = None  # its personal data was erased (privacy.erasure): when and why
    pdf_erased: Tombstone | None = None  # its stored PDF was deleted with it


def record_events(ack: Acknowledgement) -> list[AuditEvent]:
    """The record's audit trail: its own events, the first view of its version, and invitations before it."""
    return list(
        AuditEvent.objects.filter(
            Q(acknowledgement=ack)
            | Q(person_id=ack.person_id, version_id=ack.version_id, kind=EventKind.FIRST_VIEWED)
            | Q(person_id=ack.person_id, kind=EventKind.INVITED, occurred_at__lte=ack.signed_at)
        ).select_related("actor")
    )


def record_page(user: Person, pk: int) -> RecordPage | None:
    """One record as its page shows it, if ``user`` may see it (a fixed number of queries); else None."""
    ack = acknowledgement_visible_to(user, pk)
    if ack is None:
        return None
    pdf = SealedPdf.objects.filter(acknowledgement=ack).first()
    # Only an erased record has no typed name (signing requires one): no extra query for every other record.
    erased = None if ack.typed_name else tombstone_of("acknowledgements.acknowledgement", ack.pk)
    return RecordPage(
        ack=ack,
        pdf=pdf,
        declaration=ack.declarations.prefetch_related("interests").first(),
        events=record_events(ack),
        # An erased record cannot be rehashed without its personal fields; its signed chain entry fixes the hash.
        evidence_intact=erased is not None or acknowledgement_evidence_hash(ack) == ack.evidence_hash,
        erased=erased,
        pdf_erased=tombstone_of("acknowledgements.sealedpdf", pdf.pk) if erased is not None and pdf else None,
        correction=ack.corrections.select_related("recorded_by").first(),
        own=ack.person_id == user.pk,
        may_correct=can_correct_record(user, on_behalf=ack.on_behalf, organisation=ack.organisation),
    )


# ---------------------------------------------------------------------------
# Paper signatures and invitations
# ---------------------------------------------------------------------------


def paper_obligations(user: Person, query: str = "") -> QuerySet[Obligation]:
    """Who still owes a signature where ``user`` records paper signatures, by name (``query``: name or email)."""
    obligations = (
        Obligation.objects.open()
        .for_current_roles()
        .filter(paper_signatures_q(user, "organisation"))
        .select_related("person", "version__code", "organisation")
        .order_by("person__full_name", "due_on", "pk")
    )
    if query:
        obligations = obligations.filter(Q(person__full_name__icontains=query) | Q(person__email__icontains=query))
    return obligations


def recordable_obligation(user: Person, pk: int) -> Obligation | None:
    """The obligation, if ``user`` may record a paper signature for it; else None."""
    obligation = (
        Obligation.objects.select_related("person", "version__code__owner", "organisation", "adoption")
        .filter(pk=pk)
        .first()
    )
    if obligation is None or not can_record_on_behalf(user, obligation.organisation):
        return None
    return obligation


# The invitations page's filter: everyone, those who have accepted (set a password or signed in), the rest.
INVITATION_FILTERS = {"": "All", "accepted": "Accepted", "waiting": "Not yet accepted"}


def invitations_managed_by(user: Person, *, show: str = "") -> QuerySet[Invitation]:
    """Invitations to roles where ``user`` manages people, newest first; ``show`` one of ``INVITATION_FILTERS``."""
    invitations = Invitation.objects.filter(managed_people_q(user, "role__organisation"))
    if show == "accepted":
        invitations = invitations.filter(accepted_at__isnull=False)
    elif show == "waiting":
        invitations = invitations.filter(accepted_at__isnull=True)
    return invitations.select_related("person", "role__organisation", "invited_by").order_by("-created_at", "-pk")


def invitation_counts(user: Person) -> dict[str, int]:
    """How many of the invitations ``user`` manages were accepted and how many not yet (one query)."""
    counts = Invitation.objects.filter(managed_people_q(user, "role__organisation")).aggregate(
        accepted=Count("pk", filter=Q(accepted_at__isnull=False)),
        waiting=Count("pk", filter=Q(accepted_at__isnull=True)),
    )
    return {"accepted": counts["accepted"] or 0, "waiting": counts["waiting"] or 0}
