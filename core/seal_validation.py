"""Validating a PAdES seal and an RFC 3161 token with pyHanko, with no Django and no network.

The app (``core.pdf``, ``core.timestamps``) passes what its settings trust; the offline verifier
(``core.verify_offline``) passes what the bundle or its command line names. One implementation, so
the page, ``verify_evidence`` and the offline check cannot disagree about what a seal or a token is worth.

A seal is judged the PAdES B-LT way: the timestamp inside the signature must be intact, of this
signature, and made by an authority whose certificate chains to a trusted root (as of the validation
time); the seal's certificate chain is then validated *as of the timestamp's time*, with the
certificates, CRLs and OCSP responses embedded in the PDF's DSS. So a seal whose certificate has since
expired still verifies, and one whose validation data was stripped, or whose timestamp was removed or
made by someone else, says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

EXPIRED_AUTHORITY = (
    "the timestamp authority's certificate has expired (keeping a timestamp verifiable beyond that needs archive "
    "timestamps, PAdES B-LTA)"
)
UNTRUSTED_AUTHORITY = (
    "the timestamp was made by an authority that is not trusted (its certificate does not chain to a trusted root)"
)


def run(coroutine) -> Any:
    """Run a pyHanko coroutine whether or not an event loop is already running in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def timestamp_context(roots: Sequence, *, moment: datetime | None = None, other_certs=(), crls=(), ocsps=()):
    """Whom to trust for timestamps, as of ``moment`` (now by default). Never fetches: a verification must
    not reach out to the network; certificates and revocation data may come from a PDF's DSS."""
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(
        trust_roots=list(roots),
        other_certs=list(other_certs),
        crls=list(crls),
        ocsps=list(ocsps),
        moment=moment,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )


def timestamp_status_problems(status) -> list[str]:
    """What is wrong with a validated timestamp (pyHanko's TimestampSignatureStatus), in words."""
    if not (status.intact and status.valid):
        return ["the timestamp token's signature is not valid"]
    if not status.trusted:
        reason = str(getattr(status.trust_problem_indic, "name", "") or "")
        if "EXPIRED" in reason or "OUT_OF_BOUNDS" in reason:
            return [EXPIRED_AUTHORITY]
        return [UNTRUSTED_AUTHORITY]
    return []


@dataclass(frozen=True)
class TokenCheck:
    at: datetime | None  # the time the authority vouches for (None if the token cannot be read)
    problems: list[str]


def check_token(token_der: bytes, digest: bytes, roots: Sequence, *, moment: datetime | None = None) -> TokenCheck:
    """Is a token an intact timestamp of ``digest``, signed by an authority that chains to one of ``roots``?"""
    from asn1crypto import cms, tsp  # type: ignore[import-untyped]  # noqa: F401 - tsp lets asn1crypto read a TSTInfo

    try:
        signed_data = cms.ContentInfo.load(token_der)["content"]
        tst_info = signed_data["encap_content_info"]["content"].parsed
        at = tst_info["gen_time"].native
        if tst_info["message_imprint"]["hashed_message"].native != digest:
            return TokenCheck(at, ["the timestamp is of something else"])
        status = run(_validate_tst(signed_data, timestamp_context(roots, moment=moment), lambda _algorithm: digest))
    except Exception as exc:  # noqa: BLE001 - a mangled token, whatever pyHanko raises, is a broken token
        return TokenCheck(None, [f"the timestamp token cannot be read ({exc.__class__.__name__})"])
    return TokenCheck(at, timestamp_status_problems(status))


async def _validate_tst(signed_data, context, imprint: Callable[[str], bytes]):
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko.sign.validation.status import TimestampSignatureStatus

    return TimestampSignatureStatus(**await validate_tst_signed_data(signed_data, context, imprint))


@dataclass(frozen=True)
class SealJudgement:
    ok: bool
    intact: bool = False
    valid: bool = False
    covers_whole_file: bool = False
    ours: bool = False
    problem: str = ""
    timestamped_at: datetime | None = None  # the authority's time, when the seal carries a trusted timestamp
    validation_data: bool = False  # the PDF carries a DSS (PAdES B-LT)


def seal_roots(current, chain: Sequence = (), previous: Sequence = ()) -> list:
    """What a seal must chain to: the chain's root (``chain`` ends with it), or the self-signed current seal
    certificate; and any earlier seal certificate that is self-signed (it is its own root). An earlier seal issued
    by a CA must chain to the same root."""
    roots = [chain[-1]] if chain else [current]
    return roots + [cert for cert in previous if cert.self_signed in ("yes", "maybe")]


def judge_seal(
    reader,
    signature,
    *,
    seal_certificates: Sequence,
    seal_roots: Sequence,
    seal_chain: Sequence = (),
    timestamp_roots: Sequence,
    at: datetime | None = None,
) -> SealJudgement:
    """Validate ``signature`` (pyHanko's EmbeddedPdfSignature) and say what it is worth: ours if it was made with
    one of ``seal_certificates`` (the current seal's and earlier ones'). May raise pyHanko's errors for a mangled
    signature: the caller words those."""
    status, has_dss = _validate(reader, signature, seal_roots, seal_chain, timestamp_roots, at)
    return _judged(status, {cert.sha256 for cert in seal_certificates}, has_dss)


def _validate(reader, signature, seal_roots, seal_chain, timestamp_roots, at):
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
    from pyhanko_certvalidator import ValidationContext

    material = validation_data(reader)
    tst = next(iter(extract_tst_data_iter(signature.signer_info, signed=False)), None)
    # The time the authority vouches for; it counts only if the timestamp validates and is trusted (_judged).
    stamped = tst["encap_content_info"]["content"].parsed["gen_time"].native if tst is not None else None
    seal_context = ValidationContext(
        trust_roots=list(seal_roots),
        other_certs=[*seal_chain, *material["other_certs"]],
        crls=material["crls"],
        ocsps=material["ocsps"],
        moment=stamped or at,
        allow_fetching=False,  # an upload never makes the server reach out; the DSS carries what is needed
        revocation_mode="hard-fail",  # a chain with revocation endpoints needs their answers (from the DSS)
        retroactive_revinfo=True,  # the answers were fetched just after the timestamp, when the seal was made
    )
    tsa_context = timestamp_context(
        timestamp_roots, moment=at, other_certs=material["other_certs"], crls=material["crls"], ocsps=material["ocsps"]
    )
    status = validate_pdf_signature(signature, seal_context, ts_validation_context=tsa_context)
    return status, material["present"]


def validation_data(reader) -> dict:
    """The certificates, CRLs and OCSP responses in the PDF's DSS (none if it has no DSS)."""
    from asn1crypto import crl, ocsp
    from pyhanko.pdf_utils.decode_limits import DecodePurpose
    from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return {"present": False, "other_certs": [], "crls": [], "ocsps": []}
    return {
        "present": True,
        "other_certs": list(dss.load_certs()),
        "crls": [crl.CertificateList.load(ref.get_object().read_data(DecodePurpose.CRL)) for ref in dss.crls],
        "ocsps": [ocsp.OCSPResponse.load(ref.get_object().read_data(DecodePurpose.OCSP_RESPONSE)) for ref in dss.ocsps],
    }


def _judged(status, ours_sha256: set[bytes], has_dss: bool) -> SealJudgement:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    ours = status.signing_cert is not None and status.signing_cert.sha256 in ours_sha256
    # The seal covers the whole file, or everything but the validation data added after it (B-LT's DSS revision).
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level is not None
        and status.modification_level <= ModificationLevel.LTA_UPDATES
    )
    intact, valid = bool(status.intact), bool(status.valid)
    stamp = status.timestamp_validity
    stamp_problems = timestamp_status_problems(stamp) if stamp is not None else []
    problem = ""
    if not intact:
        problem = "The seal is broken: the file was changed after it was issued."
    elif not ours:
        problem = "The seal was not made by this service."
    elif not whole:
        problem = "Content was added to the file after it was sealed."
    elif not valid:
        problem = "The seal's signature is not valid."
    elif stamp_problems:
        problem = f"The seal's timestamp cannot be relied on: {stamp_problems[0]}."
    elif not status.trusted:
        problem = _untrusted_seal(status, stamped=stamp is not None, has_dss=has_dss)
    return SealJudgement(
        ok=not problem,
        intact=intact,
        valid=valid,
        covers_whole_file=whole,
        ours=ours,
        problem=problem,
        timestamped_at=stamp.timestamp if stamp is not None and not stamp_problems else None,
        validation_data=has_dss,
    )


def _untrusted_seal(status, *, stamped: bool, has_dss: bool) -> str:
    """Why the seal's certificate chain did not validate, as precisely as pyHanko's subindication allows."""
    reason = str(getattr(status.trust_problem_indic, "name", "") or "")
    if not stamped and ("EXPIRED" in reason or "OUT_OF_BOUNDS" in reason):
        return "The seal's certificate has expired and the seal carries no timestamp to show it was made before then."
    if not has_dss:
        return (
            "The seal's certificate chain cannot be validated: the PDF lacks the validation data (certificates and "
            "revocation information) it was issued with."
        )
    return f"The seal's certificate chain cannot be validated at the time it was sealed ({reason or 'untrusted'})."
