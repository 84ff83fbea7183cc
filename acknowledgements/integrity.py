"""Checking all the evidence (``manage.py verify_evidence`` and the daily task), and one record (``/verify/``).

Walks every chain (order, links, hashes, signatures, heads), every chained record against what was
signed (fields in clear and the commitments to personal ones), every evidence row for its entry, every
stored PDF's bytes against its SHA-256 and every adopted version's text against its content hash. Each
broken item is a ``Finding`` in plain words; a run is saved as an ``IntegrityCheck``. See docs/evidence.md.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from acknowledgements.evidence_records import ACKNOWLEDGEMENT, AUDIT_EVENT, DECLARATION, SEALED_PDF
from acknowledgements.models import SealedPdf
from conduct.evidence_records import ADOPTION, AUDIT_LOG_ENTRY
from conduct.models import CodeVersion, VersionStatus
from core.anchoring import anchor_problems
from core.display import date_and_time
from core.evidence_chain import (
    EvidenceType,
    Finding,
    chain_append,
    chain_findings,
    link_problems,
    queued_problems,
    record_problems,
)
from core.evidence_keys import verification_keys
from core.models import ChainAnchor, ChainHead, ChainQueue, EvidenceLink, EvidenceSalt, IntegrityCheck, tombstones_of
from core.pdf import TOO_SLOW, check_seal

logger = logging.getLogger(__name__)

EVIDENCE_TYPES: tuple[EvidenceType, ...] = (
    ACKNOWLEDGEMENT,
    DECLARATION,
    AUDIT_EVENT,
    SEALED_PDF,
    ADOPTION,
    AUDIT_LOG_ENTRY,
)
TYPE_NAMES = {
    ACKNOWLEDGEMENT.label: "acknowledgement",
    DECLARATION.label: "declaration",
    AUDIT_EVENT.label: "audit event",
    SEALED_PDF.label: "stored PDF",
    ADOPTION.label: "adoption",
    AUDIT_LOG_ENTRY.label: "audit log entry",
}
CHUNK = 2000


def _model(spec: EvidenceType) -> type[Model]:
    return apps.get_model(spec.label)


def _records(spec: EvidenceType) -> Iterator[Model]:
    queryset = _model(spec)._default_manager.order_by("pk")
    if spec is DECLARATION:
        queryset = queryset.prefetch_related("interests")
    return queryset.iterator(chunk_size=CHUNK)


@dataclass
class IntegrityReport:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    findings: list[Finding] = field(default_factory=list)
    erased: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings


def _check_chains(report: IntegrityReport, keys: dict) -> None:
    heads = {head.scope: head for head in ChainHead.objects.all()}
    scopes = set(heads) | set(EvidenceLink.objects.values_list("scope", flat=True).distinct())
    for scope in sorted(scopes):
        links = EvidenceLink.objects.filter(scope=scope).order_by("seq", "pk").iterator(chunk_size=CHUNK)
        chain = chain_findings(scope, links, heads.get(scope), keys)
        report.counts["chains"] += 1
        report.counts["chain entries"] += chain.entries
        report.findings.extend(chain.findings)


def _check_records(report: IntegrityReport) -> None:
    now, keys = timezone.now(), verification_keys()
    for spec in EVIDENCE_TYPES:
        name = TYPE_NAMES[spec.label]
        links = {link.record_id: link for link in EvidenceLink.objects.filter(record_type=spec.label)}
        queued = {row.record_id: row for row in ChainQueue.objects.filter(record_type=spec.label)}
        salts = dict(EvidenceSalt.objects.filter(record_type=spec.label).values_list("record_id", "salt"))
        seen = set()
        for record in _records(spec):
            seen.add(record.pk)
            report.counts[f"{name}s"] += 1
            link: EvidenceLink | ChainQueue | None = links.get(record.pk)
            problems = []
            if link is None and record.pk in queued:  # signed, waiting for the sequencer: pending, not broken
                link = queued[record.pk]
                report.counts["waiting for their chain"] += 1
                problems = queued_problems(link, now, keys)
            if link is None:
                report.findings.append(Finding(name, f"{name} {record.pk}", "it is in no chain: it was never signed"))
                continue
            more, erased = record_problems(spec, record, link, salts.get(record.pk))
            problems += more
            report.erased += erased
            for problem in problems:
                report.findings.append(Finding(name, f"{name} {record.pk}", problem))
        for record_id in sorted(set(queued) - seen):
            report.findings.append(
                Finding(
                    name, f"{name} {record_id}", "it was signed (waiting for its chain) but its row has been deleted"
                )
            )
        for record_id in sorted(set(links) - seen):
            link = links[record_id]
            report.findings.append(
                Finding(
                    name,
                    f"{name} {record_id}",
                    f"it was signed (chain {link.scope} entry {link.seq}) but its row has been deleted",
                )
            )


def _file_sha256(record: SealedPdf) -> str | None:
    """The stored file's SHA-256, read in pieces; None when the file is missing or unreadable."""
    digest = hashlib.sha256()
    try:
        with record.file.open("rb") as handle:
            for piece in iter(lambda: handle.read(1 << 20), b""):
                digest.update(piece)
    except (OSError, ValueError):
        return None
    return digest.hexdigest()


def _check_files(report: IntegrityReport) -> None:
    erased = tombstones_of(SEALED_PDF.label)  # deleted with a person's data (privacy.erasure): reported, not broken
    for record in SealedPdf.objects.order_by("pk").iterator(chunk_size=CHUNK):
        report.counts["PDF files"] += 1
        if record.pk in erased:
            report.counts["erased PDF files"] += 1
            continue
        item = f"stored PDF {record.pk} ({record.file.name})"
        actual = _file_sha256(record)
        if actual is None:
            report.findings.append(Finding("file", item, "its file is missing from storage"))
        elif actual != record.sha256:
            report.findings.append(Finding("file", item, "its file no longer matches the SHA-256 recorded when issued"))


def _check_versions(report: IntegrityReport) -> None:
    versions = CodeVersion.objects.exclude(status=VersionStatus.DRAFT).select_related("code").order_by("pk")
    for version in versions:
        report.counts["adopted versions"] += 1
        if version.compute_hash() != version.content_hash:
            report.findings.append(
                Finding(
                    "version",
                    f"{version.code.title} version {version.label} (id {version.pk})",
                    "its text no longer matches the content hash fixed when it was adopted",
                )
            )


SEALS_CHECKED = 200  # the newest stored PDFs' seals (about 0.1 s each): a day's issuing, in a small school trust


def _check_seals(report: IntegrityReport) -> None:
    """The newest stored PDFs' seals, validated as /verify/ does: as of their timestamps, with their validation
    data, from a trusted authority. Their bytes are already checked against the signed SHA-256 (_check_files);
    this catches what the bytes cannot show, e.g. a seal timestamped by an authority that is not trusted."""
    erased = tombstones_of(SEALED_PDF.label)
    for record in SealedPdf.objects.order_by("-pk")[:SEALS_CHECKED]:
        try:
            with record.file.open("rb") as handle:
                content = handle.read()
        except (OSError, ValueError):
            continue  # a missing file is _check_files' finding
        if record.pk in erased:
            continue
        seal = check_seal(content)
        if seal.problem == TOO_SLOW:  # a busy machine, not a broken seal: once more, then left for the next run
            seal = check_seal(content)
        report.counts["seals"] += 1
        if seal.problem == TOO_SLOW:
            report.counts["seals not checked in time"] += 1
        elif not seal.ok:
            report.findings.append(
                Finding("seal", f"seal of stored PDF {record.pk} ({record.file.name})", seal.problem)
            )


ANCHORS_CHECKED = 31  # a month of daily anchors: each one's token and the heads it fixed


def _check_anchors(report: IntegrityReport) -> None:
    for anchor in ChainAnchor.objects.exclude(token=b"").order_by("-created_at", "-pk")[:ANCHORS_CHECKED]:
        report.counts["anchors"] += 1
        item = f"anchor of {date_and_time(timezone.localtime(anchor.created_at))} ({anchor.digest[:12]}…)"
        report.findings.extend(Finding("anchor", item, problem) for problem in anchor_problems(anchor))


def evidence_check() -> IntegrityReport:
    """Check everything; read-only."""
    report = IntegrityReport()
    keys = verification_keys()
    _check_chains(report, keys)
    _check_anchors(report)
    _check_records(report)
    _check_files(report)
    _check_seals(report)
    _check_versions(report)
    return report


def integrity_check_run() -> IntegrityCheck:
    """Check everything and save the run (what was checked, each broken item), for admins to see."""
    started = timezone.now()
    report = evidence_check()
    counts: dict[str, Any] = dict(report.counts)
    counts["erased records"] = report.erased
    return IntegrityCheck.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        ok=report.ok,
        counts=counts,
        problems=[finding.as_dict() for finding in report.findings],
    )


def latest_integrity_check() -> IntegrityCheck | None:
    return IntegrityCheck.objects.order_by("-started_at", "-pk").first()


# ---------------------------------------------------------------------------
# One record (/verify/ and the evidence bundle)
# ---------------------------------------------------------------------------


def _salt_of(spec: EvidenceType, record: Model) -> str | None:
    return (
        EvidenceSalt.objects.filter(record_type=spec.label, record_id=record.pk).values_list("salt", flat=True).first()
    )


def _queued_evidence(spec: EvidenceType, record: Model) -> RecordEvidence:
    """A record with no chain entry: signed and waiting for its place (pending), or never signed at all."""
    queued = ChainQueue.objects.filter(record_type=spec.label, record_id=record.pk).first()
    if queued is None:
        return RecordEvidence(None, problems=["it is in no chain: it was never signed"])
    result = RecordEvidence(None, queued=queued, problems=queued_problems(queued, timezone.now()))
    problems, result.erased = record_problems(spec, record, queued, _salt_of(spec, record))
    result.problems += problems
    return result


@dataclass
class RecordEvidence:
    """What the chain says about one record: its entry, its neighbours, and what is wrong."""

    link: EvidenceLink | None
    previous: EvidenceLink | None = None
    following: EvidenceLink | None = None
    problems: list[str] = field(default_factory=list)
    erased: bool = False
    queued: ChainQueue | None = None  # signed, waiting for the sequencer to give it its place (``link`` is None)

    @property
    def ok(self) -> bool:
        return (self.link is not None or self.queued is not None) and not self.problems


def record_evidence(spec: EvidenceType, record: Model) -> RecordEvidence:
    """The record's entry checked on its own and against its neighbours and the record itself."""
    link = EvidenceLink.objects.filter(record_type=spec.label, record_id=record.pk).first()
    if link is None:
        return _queued_evidence(spec, record)
    neighbours = {
        entry.seq: entry
        for entry in EvidenceLink.objects.filter(scope=link.scope, seq__in=[link.seq - 1, link.seq + 1])
    }
    result = RecordEvidence(link, neighbours.get(link.seq - 1), neighbours.get(link.seq + 1))
    result.problems += [f"its signed entry: {problem}" for problem in link_problems(link)]
    if link.seq > 1 and (result.previous is None or result.previous.link_hash != link.prev_hash):
        result.problems.append("the entry before it in the chain is missing or was changed")
    if result.following is not None and result.following.prev_hash != link.link_hash:
        result.problems.append("the entry after it in the chain does not follow it")
    salt = (
        EvidenceSalt.objects.filter(record_type=spec.label, record_id=record.pk).values_list("salt", flat=True).first()
    )
    problems, result.erased = record_problems(spec, record, link, salt)
    result.problems += problems
    return result


# ---------------------------------------------------------------------------
# Records made before signing existed
# ---------------------------------------------------------------------------


def _scope_of(spec: EvidenceType, record: Any) -> int:
    if spec in (ACKNOWLEDGEMENT, DECLARATION):
        return record.organisation_id
    if spec is ADOPTION:
        return record.board_id
    if spec is AUDIT_LOG_ENTRY:
        return record.organisation_id or 0
    if spec is SEALED_PDF:
        return record.acknowledgement.organisation_id if record.acknowledgement_id else record.adoption.board_id
    # An audit event: the organisation of what it is about.
    if record.acknowledgement_id:
        return record.acknowledgement.organisation_id
    if isinstance(record.details, dict) and isinstance(record.details.get("organisation_id"), int):
        return record.details["organisation_id"]
    if record.version_id:
        return record.version.code.owner_id
    return 0


def _moment(spec: EvidenceType, record: Any):
    for name in ("signed_at", "made_at", "occurred_at", "recorded_at", "created_at", "at"):
        if hasattr(record, name):
            return getattr(record, name)
    raise AttributeError(name)


def evidence_chain_backfill() -> int:
    """Sign and chain every evidence row not yet chained, oldest first; returns how many. Idempotent."""
    chained = 0
    pending = []
    for spec in EVIDENCE_TYPES:
        linked = set(EvidenceLink.objects.filter(record_type=spec.label).values_list("record_id", flat=True))
        # Signed and waiting for the sequencer: chained by it, never a second time here.
        linked |= set(ChainQueue.objects.filter(record_type=spec.label).values_list("record_id", flat=True))
        model = _model(spec)
        related = {
            ACKNOWLEDGEMENT.label: [],
            DECLARATION.label: [],
            ADOPTION.label: [],
            AUDIT_LOG_ENTRY.label: [],
            SEALED_PDF.label: ["acknowledgement", "adoption"],
            AUDIT_EVENT.label: ["acknowledgement", "version__code"],
        }[spec.label]
        for record in model._default_manager.exclude(pk__in=linked).select_related(*related).order_by("pk"):
            pending.append((_moment(spec, record), spec.label, record.pk, spec, record))
    pending.sort(key=lambda item: item[:3])
    for *_order, spec, record in pending:
        with transaction.atomic():
            chain_append(_scope_of(spec, record), [(spec, record)])
        chained += 1
    return chained


# ---------------------------------------------------------------------------
# The daily check
# ---------------------------------------------------------------------------


def _alert_recipients() -> list[str]:
    from django.conf import settings

    from conduct.models import Person

    emails = {email for _name, email in getattr(settings, "ADMINS", [])}
    emails |= set(
        Person.objects.filter(is_superuser=True, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    return sorted(emails)


def integrity_check_daily() -> IntegrityCheck:
    """The daily run: check everything, save the run, and email the operators if anything is broken."""
    from django.core.mail import send_mail

    run = integrity_check_run()
    if not run.ok and (recipients := _alert_recipients()):
        lines = [f"- {p['kind']}: {p['item']}: {p['problem']}" for p in run.problems[:200]]
        more = len(run.problems) - len(lines)
        body = (
            f"The evidence check of {date_and_time(timezone.localtime(run.started_at))} found "
            f"{len(run.problems)} broken item(s):\n\n"
            + "\n".join(lines)
            + (f"\n… and {more} more." if more > 0 else "")
            + "\n\nRun `manage.py verify_evidence` for the full list. See docs/evidence.md."
        )
        send_mail(f"Evidence check FAILED: {len(run.problems)} broken item(s)", body, None, recipients)
    logger.log(logging.INFO if run.ok else logging.ERROR, "evidence check: %s problem(s)", len(run.problems))
    return run
