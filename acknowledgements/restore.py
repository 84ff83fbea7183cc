"""Checking a restored instance (``manage.py check_restore``): is everything the backup should have brought back here?

A restore needs four things together (README, "Backups and restore"): the database, the stored files,
the seal and evidence-signing keys, and the secret key. This check says, in plain words, which part is
missing or wrong:

- everything ``verify_evidence`` checks (``acknowledgements.integrity.evidence_check``): every chain and
  signature (a different evidence-signing key shows here), every record against what was signed, every
  stored PDF's bytes against its SHA-256 (a restore without the files shows here), every adopted text;
- every record's evidence hash, recomputed from what is stored now (records made before the chains too);
- every paper scan's bytes against its SHA-256;
- the seal: the newest stored PDF of each kind must carry a seal made with the configured seal key (a
  restore with a different seal key would otherwise make every PDF read NOT VERIFIED on /verify/).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from acknowledgements.evidence import acknowledgement_evidence_hash
from acknowledgements.integrity import evidence_check
from acknowledgements.models import Acknowledgement, SealedPdf
from conduct.models import Adoption
from conduct.services import adoption_evidence_hash
from core.evidence_chain import Finding
from core.models import tombstones_of
from core.pdf import TOO_SLOW, check_seal

CHUNK = 2000


@dataclass
class RestoreReport:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing_files: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings


def _sha256_of(file) -> str | None:
    digest = hashlib.sha256()
    try:
        with file.open("rb") as handle:
            for piece in iter(lambda: handle.read(1 << 20), b""):
                digest.update(piece)
    except (OSError, ValueError):
        return None
    return digest.hexdigest()


def _check_evidence_hashes(report: RestoreReport) -> None:
    # An erased record's personal fields are gone, so its hash cannot be recomputed: its signed chain entry,
    # checked by evidence_check, still fixes the hash (privacy.erasure).
    erased = tombstones_of("acknowledgements.acknowledgement")
    acknowledgements = Acknowledgement.objects.select_related("person", "version", "organisation", "recorded_by")
    for ack in acknowledgements.exclude(pk__in=erased).order_by("pk").iterator(chunk_size=CHUNK):
        report.counts["acknowledgement evidence hashes"] += 1
        if acknowledgement_evidence_hash(ack) != ack.evidence_hash:
            report.findings.append(
                Finding("record", f"acknowledgement {ack.verification_code}", "it no longer matches its evidence hash")
            )
    erased_adoptions = tombstones_of("conduct.adoption")
    report.counts["erased records"] = len(erased) + len(erased_adoptions)
    for adoption in Adoption.objects.exclude(pk__in=erased_adoptions).order_by("pk").iterator(chunk_size=CHUNK):
        report.counts["adoption evidence hashes"] += 1
        if adoption_evidence_hash(adoption) != adoption.evidence_hash:
            report.findings.append(
                Finding("record", f"adoption {adoption.verification_code}", "it no longer matches its evidence hash")
            )


def _check_scans(report: RestoreReport) -> None:
    scanned = Acknowledgement.objects.exclude(paper_scan="").only(
        "pk", "verification_code", "paper_scan", "paper_scan_sha256"
    )
    for ack in scanned.order_by("pk").iterator(chunk_size=CHUNK):
        report.counts["paper scans"] += 1
        item = f"paper scan of {ack.verification_code} ({ack.paper_scan.name})"
        actual = _sha256_of(ack.paper_scan)
        if actual is None:
            report.missing_files += 1
            report.findings.append(Finding("file", item, "its file is missing from storage"))
        elif ack.paper_scan_sha256 and actual != ack.paper_scan_sha256:
            report.findings.append(Finding("file", item, "its file no longer matches the SHA-256 recorded"))


def _check_seal_key(report: RestoreReport) -> None:
    stored = SealedPdf.objects.exclude(pk__in=tombstones_of("acknowledgements.sealedpdf")).order_by(
        "-created_at", "-pk"
    )
    for what, newest in (
        ("signed PDF", stored.filter(acknowledgement__isnull=False).first()),
        ("adoption certificate", stored.filter(adoption__isnull=False).first()),
    ):
        if newest is None:
            continue
        try:
            with newest.file.open("rb") as handle:
                content = handle.read()
        except (OSError, ValueError):
            continue  # reported with the files
        seal = check_seal(content)
        if not seal.ok and seal.problem == TOO_SLOW:  # a machine too busy to check within the untrusted-file limit
            seal = check_seal(content)
        if not seal.ok and seal.problem == TOO_SLOW:
            report.warnings.append(
                f"The seal of the newest {what} (stored PDF {newest.pk}) could not be checked in time: the machine "
                "is too busy. Run check_restore again when it is quieter."
            )
            continue
        # Counted apart from evidence_check's "seals" (every recent PDF, validated as /verify/ does): this is the
        # restored seal key's own check, on the newest PDF of each kind.
        report.counts["newest seals against the configured seal key"] += 1
        if not seal.ok:
            report.findings.append(
                Finding(
                    "seal key",
                    f"the newest {what} (stored PDF {newest.pk})",
                    f"its seal does not verify with the configured seal key ({seal.problem}); restore the seal key "
                    "and certificate (SEAL_KEY_FILE, SEAL_CERT_FILE) that were in use",
                )
            )


def restore_check() -> RestoreReport:
    """Check the restored instance; read-only."""
    evidence = evidence_check()
    report = RestoreReport()
    report.counts.update(evidence.counts)
    report.findings.extend(evidence.findings)
    report.missing_files = sum(1 for f in evidence.findings if f.kind == "file" and "missing" in f.problem)
    _check_evidence_hashes(report)
    _check_scans(report)
    _check_seal_key(report)
    return report
