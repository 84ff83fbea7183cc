"""Public verification of the PDFs this service issues: acknowledgements and adoption certificates.

A PDF reads VERIFIED only when all of these hold, and the page lists each check made:

1. its SHA-256 equals the stored hash of a PDF we issued (any change to any byte,
   or re-saving it in another program, changes the hash);
2. its seal (a PAdES signature made with this instance's key) is intact and covers the whole file;
3. the evidence JSON embedded in it hashes to the record's evidence hash;
4. the record it is about still hashes to the evidence hash stored when it was
   made (so a record altered in the database afterwards is caught);
5. the record and the stored PDF's fingerprint are signed entries of their organisation's chain
   (docs/evidence.md): the signature (made with a key outside the database) is valid, the entry
   follows the one before it, and the record still says what was signed. Editing a row and
   recomputing its hash no longer passes.

A verification code looks the record up instead, and checks the stored PDF (its bytes against
their stored hash, and its seal) and the record the same way. A deleted row or a missing file is
said in plain words, never an error page. The name shown is the one typed when signing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from django.utils import timezone

from acknowledgements.evidence import acknowledgement_evidence_hash
from acknowledgements.evidence_records import ACKNOWLEDGEMENT, SEALED_PDF
from acknowledgements.integrity import record_evidence
from acknowledgements.issuing import EVIDENCE_FILE
from acknowledgements.models import Acknowledgement, SealedPdf
from acknowledgements.sealed_pdfs import sealed_pdf_bytes
from conduct.evidence_records import ADOPTION
from conduct.models import Adoption, CodeVersion
from conduct.services import adoption_evidence_hash
from core.anchoring import latest_anchor
from core.canonical import VERIFICATION_ALPHABET, canonical_json, sha256_hex
from core.evidence_chain import EvidenceType
from core.models import EvidenceLink, Tombstone, erased_words, tombstone_of
from core.pdf import check_seal, embedded_files
from core.timestamps import check_token

CODE_RE = re.compile(rf"^[{VERIFICATION_ALPHABET}]{{16}}$")


@dataclass
class Verification:
    verified: bool
    reasons: list[str] = field(default_factory=list)  # why not, in plain words
    kind: str = ""  # "acknowledgement" or "adoption"
    facts: list[tuple[str, str]] = field(default_factory=list)  # what the record says: (label, value)
    notes: list[str] = field(default_factory=list)  # worth knowing even when verified
    verification_code: str = ""
    checks: list[str] = field(default_factory=list)  # what was checked and held, in plain words

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


def _acknowledgement_facts(ack: Acknowledgement, erased: Tombstone | None = None) -> list[tuple[str, str]]:
    signer = f"Name {erased_words(erased)}" if erased is not None else ack.typed_name or "(erased)"
    facts = [
        ("Signed by (the name typed when signing)", signer),
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


def _adoption_facts(adoption: Adoption, erased: Tombstone | None = None) -> list[tuple[str, str]]:
    chair = f"Name {erased_words(erased)}" if erased is not None else adoption.chair_signature or "(erased)"
    return [
        ("Adopted by", adoption.board.name),
        ("Code", f"{adoption.version.code.title}, version {adoption.version.label}"),
        (
            "Meeting",
            f"{adoption.meeting.held_on:%-d %B %Y}"
            + (f" (minute {adoption.minute_reference})" if adoption.minute_reference else ""),
        ),
        ("Signed by the chair (as typed)", chair),
        ("Effective from", f"{adoption.effective_on:%-d %B %Y}"),
        ("Content hash of the text adopted", adoption.content_hash),
        ("Evidence hash", adoption.evidence_hash),
    ]


def _queued_checks(evidence, result: Verification, what: str) -> None:
    if evidence.problems:
        result.reasons.extend(f"The {what}: {problem}." for problem in evidence.problems)
        return
    queued = evidence.queued
    result.checks.append(
        f"The {what} is signed (key {queued.key_id}) and its signature over what it says is valid; it is waiting "
        "for its place in its organisation's evidence chain, which it is given within moments of being made."
    )
    if evidence.erased:
        result.notes.append(f"The personal details of this {what} have been erased; its signed commitments remain.")


def _chain_checks(spec: EvidenceType, record, result: Verification, what: str) -> None:
    """The record's signed entry in its organisation's chain: signature, place, and what it says."""
    evidence = record_evidence(spec, record)
    if evidence.queued is not None:  # signed, its place in the chain is being given (within seconds)
        _queued_checks(evidence, result, what)
        return
    if evidence.link is None:
        result.reasons.append(f"The {what} is not a signed entry of any chain: it was not made by this service.")
        return
    link = evidence.link
    if evidence.problems:
        result.reasons.extend(f"The {what}: {problem}." for problem in evidence.problems)
        return
    result.checks.append(
        f"The {what} is entry {link.seq} of its organisation's evidence chain, follows the entry before it, and "
        f"its signature (key {link.key_id}) over what it says is valid."
    )
    if evidence.erased:
        result.notes.append(f"The personal details of this {what} have been erased; its signed commitments remain.")


def _deleted_record_reason(kind: str, verification_code: str) -> str:
    """A record whose row is gone: say so, and whether the chain shows it was made."""
    spec = ACKNOWLEDGEMENT if kind == "acknowledgement" else ADOPTION
    link = (
        EvidenceLink.objects.filter(
            record_type=spec.label, payload__contains=f'"verification_code":"{verification_code}"'
        )
        .only("scope", "seq")
        .first()
        if verification_code
        else None
    )
    if link is not None:
        return (
            f"Our signed evidence chain shows this {kind} was made (chain {link.scope}, entry {link.seq}), but its "
            "record has been deleted from our database: the evidence has been tampered with."
        )
    return f"The {kind} this PDF was issued for is no longer in our records."


def _embedded_evidence(pdf: bytes) -> bytes | None:
    try:
        return embedded_files(pdf).get(EVIDENCE_FILE)
    except Exception:  # noqa: BLE001 - a mangled file simply has no readable evidence
        return None


def _embedded_code(pdf: bytes | None) -> str:
    raw = _embedded_evidence(pdf) if pdf else None
    try:
        evidence = json.loads(raw) if raw else {}
    except ValueError:
        return ""
    code = evidence.get("verification_code", "") if isinstance(evidence, dict) else ""
    return code if isinstance(code, str) else ""


def _record_checks(record: SealedPdf, result: Verification, pdf: bytes | None = None) -> None:
    """Check the record behind a stored PDF (and the evidence embedded in the PDF, if given) and describe it."""
    _chain_checks(SEALED_PDF, record, result, "PDF's fingerprint")
    if record.acknowledgement_id:
        ack = (
            Acknowledgement.objects.select_related("person", "version__code", "organisation", "recorded_by", "corrects")
            .filter(pk=record.acknowledgement_id)
            .first()
        )
        result.kind = "acknowledgement"
        if ack is None:
            result.reasons.append(_deleted_record_reason("acknowledgement", _embedded_code(pdf)))
            return
        result.verification_code = ack.verification_code
        erased = tombstone_of(ACKNOWLEDGEMENT.label, ack.pk)
        result.facts = _acknowledgement_facts(ack, erased)
        _text_checks(ack.version, ack.content_hash, result, "signed")
        if erased is not None:
            _erased_notes(erased, result)
        elif acknowledgement_evidence_hash(ack) != ack.evidence_hash:
            result.reasons.append("The record no longer matches its evidence hash: its stored data has been altered.")
        else:
            result.checks.append("The record, recomputed from what is stored now, matches its evidence hash.")
        _embedded_checks(pdf, ack.evidence_hash, result)
        _chain_checks(ACKNOWLEDGEMENT, ack, result, "record")
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
        adoption = (
            Adoption.objects.select_related("board", "version__code", "meeting", "chair")
            .filter(pk=record.adoption_id)
            .first()
        )
        result.kind = "adoption"
        if adoption is None:
            result.reasons.append(_deleted_record_reason("adoption", _embedded_code(pdf)))
            return
        result.verification_code = adoption.verification_code
        erased = tombstone_of(ADOPTION.label, adoption.pk)
        result.facts = _adoption_facts(adoption, erased)
        _text_checks(adoption.version, adoption.content_hash, result, "adopted")
        if erased is not None:
            _erased_notes(erased, result)
        elif adoption_evidence_hash(adoption) != adoption.evidence_hash:
            result.reasons.append(
                "The adoption record no longer matches its evidence hash: its stored data has been altered."
            )
        else:
            result.checks.append("The adoption record, recomputed from what is stored now, matches its evidence hash.")
        _embedded_checks(pdf, adoption.evidence_hash, result)
        _chain_checks(ADOPTION, adoption, result, "adoption record")


def _erased_notes(erased: Tombstone, result: Verification) -> None:
    """An erased record: its hash cannot be recomputed without the personal fields; its signed entry still fixes it."""
    result.checks.append(
        "The record's evidence hash is the one fixed in its signed chain entry (checked below); it cannot be "
        "recomputed, because its personal data has been erased."
    )
    result.notes.append(f"This record exists; its personal data was {erased_words(erased)}.")


def _text_checks(version: CodeVersion, content_hash: str, result: Verification, done: str) -> None:
    """The version's text as stored now against the content hash of the text that was signed or adopted."""
    if version.compute_hash() != content_hash:
        result.reasons.append(
            f"The text of the code has been changed since it was {done}: it no longer matches its content hash."
        )
    else:
        result.checks.append(f"The code's text as stored now matches the content hash of the text {done}.")


def _embedded_hash(raw: bytes) -> str:
    """The evidence hash of an embedded evidence.json: of its bytes (an acknowledgement's), or of the canonical
    evidence once the look-up fields an adoption certificate adds (its hash and code) are set aside."""
    try:
        evidence = json.loads(raw)
    except ValueError:
        return ""
    if isinstance(evidence, dict) and "evidence_hash" in evidence:
        rest = {name: value for name, value in evidence.items() if name not in ("evidence_hash", "verification_code")}
        return sha256_hex(canonical_json(rest))
    return sha256_hex(raw)


def _embedded_checks(pdf: bytes | None, evidence_hash: str, result: Verification) -> None:
    """The evidence JSON carried inside the PDF against the record's (signed) evidence hash."""
    if pdf is None:
        return
    raw = _embedded_evidence(pdf)
    if raw is None:
        result.reasons.append("The PDF carries no evidence record (evidence.json).")
    elif _embedded_hash(raw) != evidence_hash:
        result.reasons.append("The evidence record inside the PDF does not match the record's evidence hash.")
    else:
        result.checks.append("The evidence record inside the PDF (evidence.json) matches the record's evidence hash.")


def verify_pdf(content: bytes) -> Verification:
    """Verify an uploaded PDF."""
    result = Verification(verified=False)
    digest = sha256_hex(content)
    record = SealedPdf.objects.filter(sha256=digest).first()
    if record is None:
        issued = (
            EvidenceLink.objects.filter(record_type=SEALED_PDF.label, payload__contains=f'"sha256":"{digest}"')
            .only("scope", "seq")
            .first()
        )
        if issued is not None:
            result.reasons.append(
                f"Our signed evidence chain shows we issued this very file (chain {issued.scope}, entry {issued.seq}), "
                "but its record has been deleted from our database: the evidence has been tampered with."
            )
            code = _embedded_code(content)
            if code and not _record_exists(code):
                result.reasons.append(_deleted_record_reason("acknowledgement", code))
            return result
        result.reasons.append(_unknown_file_reason(content))
        return result
    return _checked(result, record, content)


def _record_exists(code: str) -> bool:
    return (
        Acknowledgement.objects.filter(verification_code=code).exists()
        or Adoption.objects.filter(verification_code=code).exists()
    )


def _checked(result: Verification, record: SealedPdf, pdf: bytes) -> Verification:
    """The seal of these bytes and the record behind them; VERIFIED only if nothing gave a reason not to."""
    result.checks.append("The file's SHA-256 is that of a PDF we issued.")
    seal = check_seal(pdf)
    if not seal.ok:
        result.reasons.append(seal.problem)
    else:
        result.checks.append("Its seal is intact, was made by this service and covers the whole file.")
        if seal.timestamped_at is not None:
            result.checks.append(_seal_time_check(seal))
    if (erased := tombstone_of(SEALED_PDF.label, record.pk)) is not None:
        result.notes.append(
            f"This is the PDF we issued; our own copy was deleted with the person's personal data "
            f"({erased_words(erased)})."
        )
    _record_checks(record, result, pdf)
    result.verified = not result.reasons
    return result


def _seal_time_check(seal) -> str:
    """What the seal's timestamp proved (PAdES B-T), and with what the certificate was checked (B-LT)."""
    data = (
        "with the validation data embedded in the file"
        if seal.validation_data
        else "the file carries no validation data for it"
    )
    return (
        f"Its seal carries a timestamp of {_local(seal.timestamped_at)} from a trusted timestamp authority; "
        f"the seal's certificate was valid at that time ({data})."
    )


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
        elif (deleted := _deleted_record_reason("acknowledgement", code)).startswith("Our signed") or (
            deleted := _deleted_record_reason("adoption", code)
        ).startswith("Our signed"):
            result.reasons.append(deleted)
        else:
            result.reasons.append(
                "No record has this verification code. Check it against the evidence page of the PDF."
            )
        return result
    erased = tombstone_of(SEALED_PDF.label, record.pk)
    if erased is not None:
        result.notes.append(
            f"The PDF we stored for this record was deleted with the person's personal data ({erased_words(erased)}); "
            "the record itself is checked below."
        )
        _record_checks(record, result)
        result.verified = not result.reasons
        return result
    try:
        stored = sealed_pdf_bytes(record)
    except (OSError, ValueError):
        result.reasons.append(
            "The PDF we stored for this record is missing from our storage; the record itself is checked below."
        )
        _record_checks(record, result)
        return result
    if sha256_hex(stored) != record.sha256:
        result.reasons.append("The stored PDF no longer matches the fingerprint recorded when it was issued.")
        _record_checks(record, result)
        return result
    return _checked(result, record, stored)


@dataclass(frozen=True)
class PublicAnchor:
    """The latest chain heads timestamped by the authority, as the public page shows them."""

    timestamped_at: object
    authority: str
    digest: str
    heads: list[tuple[int, int, str]]
    problem: str = ""  # why its timestamp cannot be relied on (another authority's, altered), if it cannot


def public_anchor() -> PublicAnchor | None:
    """The latest anchor: anyone can note its digest and later hold the operator to it."""
    anchor = latest_anchor()
    if anchor is None:
        return None
    try:
        heads = [(int(scope), int(seq), str(head)) for scope, seq, head in json.loads(anchor.heads)]
    except (ValueError, TypeError):
        heads = []
    problems = check_token(bytes(anchor.token), bytes.fromhex(anchor.digest)).problems
    return PublicAnchor(
        anchor.timestamped_at or anchor.created_at, anchor.tsa_url, anchor.digest, heads, "; ".join(problems)
    )
