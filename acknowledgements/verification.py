"""Public verification of the PDFs this service issues: acknowledgements and adoption certificates.

A PDF reads VERIFIED only when all three hold:

1. its SHA-256 equals the stored hash of a PDF we issued (any change to any byte,
   or re-saving it in another program, changes the hash);
2. its seal (a PAdES signature made with this instance's key) is intact and covers the whole file;
3. the record it is about still hashes to the evidence hash stored when it was
   made (so a record altered in the database afterwards is caught).

A verification code looks the record up instead, and checks the stored PDF
(its bytes against their stored hash, and its seal) and the record the same way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from django.utils import timezone

from acknowledgements.evidence import acknowledgement_evidence_hash
from acknowledgements.issuing import EVIDENCE_FILE
from acknowledgements.models import Acknowledgement, SealedPdf
from acknowledgements.sealed_pdfs import sealed_pdf_bytes
from conduct.models import Adoption
from conduct.services import adoption_evidence_hash
from core.canonical import VERIFICATION_ALPHABET, sha256_hex
from core.pdf import check_seal, embedded_files

CODE_RE = re.compile(rf"^[{VERIFICATION_ALPHABET}]{{16}}$")


@dataclass
class Verification:
    verified: bool
    reasons: list[str] = field(default_factory=list)  # why not, in plain words
    kind: str = ""  # "acknowledgement" or "adoption"
    facts: list[tuple[str, str]] = field(default_factory=list)  # what the record says: (label, value)
    notes: list[str] = field(default_factory=list)  # worth knowing even when verified
    verification_code: str = ""

    @property
    def headline(self) -> str:
        return "VERIFIED" if self.verified else "NOT VERIFIED"


def normalise_code(raw: str) -> str:
    """Accept a code typed with spaces, lower case, or without dashes; give the stored spelling."""
    letters = re.sub(r"[\s\-]+", "", raw or "").upper()
    if not CODE_RE.match(letters):
        return ""
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%-d %B %Y at %H:%M %Z")


def _acknowledgement_facts(ack: Acknowledgement) -> list[tuple[str, str]]:
    facts = [
        ("Signed by", ack.person.full_name),
        ("Code", f"{ack.version.code.title}, version {ack.version.label}"),
        ("Organisation", ack.organisation.name),
        ("Role(s)", ", ".join(f"{r['label']}, {r['organisation']}" for r in ack.roles or []) or "—"),
    ]
    if ack.recorded_by is not None:  # recorded on their behalf (``ack.on_behalf``)
        facts.append(("Signed on paper", f"{ack.paper_signed_on:%-d %B %Y}"))
        facts.append(("Recorded on their behalf by", f"{ack.recorded_by.full_name} on {_local(ack.signed_at)}"))
    else:
        facts.append(("Signed", _local(ack.signed_at)))
    facts.append(("Content hash of the text signed", ack.content_hash))
    facts.append(("Evidence hash", ack.evidence_hash))
    return facts


def _adoption_facts(adoption: Adoption) -> list[tuple[str, str]]:
    return [
        ("Adopted by", adoption.board.name),
        ("Code", f"{adoption.version.code.title}, version {adoption.version.label}"),
        (
            "Meeting",
            f"{adoption.meeting.held_on:%-d %B %Y}"
            + (f" (minute {adoption.minute_reference})" if adoption.minute_reference else ""),
        ),
        ("Signed by the chair", adoption.chair.full_name),
        ("Effective from", f"{adoption.effective_on:%-d %B %Y}"),
        ("Content hash of the text adopted", adoption.content_hash),
        ("Evidence hash", adoption.evidence_hash),
    ]


def _record_checks(record: SealedPdf, result: Verification) -> None:
    """Check the record behind a stored PDF and describe it."""

    if record.acknowledgement_id:
        ack = Acknowledgement.objects.select_related(
            "person", "version__code", "organisation", "recorded_by", "corrects"
        ).get(pk=record.acknowledgement_id)
        result.kind, result.verification_code = "acknowledgement", ack.verification_code
        result.facts = _acknowledgement_facts(ack)
        if acknowledgement_evidence_hash(ack) != ack.evidence_hash:
            result.reasons.append("The record no longer matches its evidence hash: its stored data has been altered.")
        correction = ack.corrections.select_related("recorded_by").first()
        if correction:
            corrected_by = correction.recorded_by.full_name if correction.recorded_by else "an officer"
            result.notes.append(
                f"This record was corrected on {_local(correction.signed_at)} by {corrected_by}: "
                f"{correction.correction_reason} The corrected record's code is {correction.verification_code}."
            )
        if ack.corrects is not None:
            result.notes.append(
                f"This record corrects an earlier one ({ack.corrects.verification_code}): {ack.correction_reason}"
            )
    elif record.adoption_id is not None:  # a sealed PDF has exactly one subject (a database constraint)
        adoption = Adoption.objects.select_related("board", "version__code", "meeting", "chair").get(
            pk=record.adoption_id
        )
        result.kind, result.verification_code = "adoption", adoption.verification_code
        result.facts = _adoption_facts(adoption)
        if adoption_evidence_hash(adoption) != adoption.evidence_hash:
            result.reasons.append(
                "The adoption record no longer matches its evidence hash: its stored data has been altered."
            )


def verify_pdf(content: bytes) -> Verification:
    """Verify an uploaded PDF."""
    result = Verification(verified=False)
    record = SealedPdf.objects.filter(sha256=sha256_hex(content)).first()
    if record is None:
        result.reasons.append(_unknown_file_reason(content))
        return result
    return _checked(result, record, content)


def _checked(result: Verification, record: SealedPdf, pdf: bytes) -> Verification:
    """The seal of these bytes and the record behind them; VERIFIED only if neither gave a reason not to."""
    seal = check_seal(pdf)
    if not seal.ok:
        result.reasons.append(seal.problem)
    _record_checks(record, result)
    result.verified = not result.reasons
    return result


def _unknown_file_reason(content: bytes) -> str:
    """Why a file matches nothing we issued, as precisely as the file allows."""
    seal = check_seal(content)
    code = ""
    try:
        evidence = json.loads(embedded_files(content).get(EVIDENCE_FILE, b"{}"))
        code = evidence.get("verification_code", "") if isinstance(evidence, dict) else ""
    except Exception:  # noqa: BLE001 - a mangled file simply has no readable evidence
        code = ""
    about = f" It says it is record {code}, but it is not the file we issued for that record." if code else ""
    if seal.ok:
        return "The file is not one we issued: its fingerprint matches none of ours." + about
    if seal.problem == "The PDF carries no seal.":
        return (
            "The file carries no seal: it is not a PDF we issued, or it was printed or exported to a new PDF." + about
        )
    return f"{seal.problem} Editing or re-saving a PDF, even without changing what it shows, changes the file." + about


def verify_code(raw: str) -> Verification:
    """Verify by verification code: the record, and the PDF we stored for it."""
    result = Verification(verified=False)
    code = normalise_code(raw)
    if not code:
        result.reasons.append(
            "That is not a verification code: it has sixteen letters and digits, e.g. K7QX-M2PD-9RTW-HB4N."
        )
        return result
    record = (
        SealedPdf.objects.filter(acknowledgement__verification_code=code).first()
        or SealedPdf.objects.filter(adoption__verification_code=code).first()
    )
    if record is None:
        if (
            Acknowledgement.objects.filter(verification_code=code).exists()
            or Adoption.objects.filter(verification_code=code).exists()
        ):
            result.reasons.append("The record exists but its PDF has not been issued yet. Try again in a few minutes.")
        else:
            result.reasons.append(
                "No record has this verification code. Check it against the evidence page of the PDF."
            )
        return result
    stored = sealed_pdf_bytes(record)
    if sha256_hex(stored) != record.sha256:
        result.reasons.append("The stored PDF no longer matches the fingerprint recorded when it was issued.")
        _record_checks(record, result)
        return result
    return _checked(result, record, stored)
