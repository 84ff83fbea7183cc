"""Check an evidence bundle (and its PDF) with no network and no access to the app.

    python -m core.verify_offline evidence-K7QX-M2PD-9RTW-HB4N.json [signed.pdf] [--tsa-root root.pem ...]

Uses only the standard library, ``cryptography`` and pyHanko (no Django, no database). It checks:
the entry's statement hash and Ed25519 signature (with the public key in the bundle: compare its key id
with the one the service publishes), the entries before and after it, the evidence against the signed
evidence hash, the personal fields against their commitments, the stored PDF's signed fingerprint, the
anchor's RFC 3161 token and, given the PDF, its SHA-256, its seal (pyHanko) and its embedded evidence.
Timestamps (the anchor's and the seal's) must be signed by an authority whose certificate chains to a
trusted root: the roots given with ``--tsa-root`` (the authority's published root, obtained on your own),
or else those the bundle names (which then only shows the bundle is consistent with itself). The seal is
validated as of its timestamp, with the validation data in the PDF (PAdES B-LT), so it still verifies
after the seal certificate expires. Exit status 0 when everything holds, 1 otherwise. See README,
"Checking evidence offline".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import sys
from pathlib import Path
from typing import Any

from core.canonical import canonical_json


class Report:
    def __init__(self) -> None:
        self.lines: list[tuple[bool, str]] = []

    def check(self, ok: bool, what: str) -> bool:
        self.lines.append((ok, what))
        return ok

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.lines)


def statement(entry: dict[str, Any]) -> bytes:
    return canonical_json(
        {
            "v": 1,
            "chain": entry["chain"],
            "seq": entry["seq"],
            "prev": entry["prev"],
            "key": entry["key"],
            "record": json.loads(entry["payload"]),
        }
    )


def _entry_ok(entry: dict[str, Any], keys: dict[str, str], report: Report, name: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    message = statement(entry)
    ok = report.check(
        hashlib.sha256(message).hexdigest() == entry["link_hash"], f"{name}: its hash matches its contents"
    )
    pem = keys.get(entry["key"])
    if not report.check(pem is not None, f"{name}: signed with key {entry['key']}, whose public key is in the bundle"):
        return False
    try:
        load_pem_public_key(pem.encode()).verify(base64.b64decode(entry["signature"]), message)  # type: ignore[union-attr,call-arg]
        valid = True
    except (InvalidSignature, ValueError, TypeError):
        valid = False
    return report.check(valid, f"{name}: its Ed25519 signature is valid") and ok


def _chain(part: dict[str, Any], keys: dict[str, str], report: Report, what: str) -> dict[str, Any] | None:
    entry = part.get("entry")
    if not report.check(entry is not None, f"the {what} is an entry of a chain"):
        return None
    assert entry is not None
    where = f"{what} (chain {entry['chain']}, entry {entry['seq']})"
    _entry_ok(entry, keys, report, where)
    if part.get("previous"):
        _entry_ok(part["previous"], keys, report, f"the entry before the {what}")
        report.check(part["previous"]["link_hash"] == entry["prev"], f"{where} follows the entry before it")
    else:
        report.check(entry["seq"] == 1 and entry["prev"] == "0" * 64, f"{where} is the first of its chain")
    if part.get("next"):
        _entry_ok(part["next"], keys, report, f"the entry after the {what}")
        report.check(part["next"]["prev"] == entry["link_hash"], f"the entry after {where} follows it")
    return json.loads(entry["payload"])


def _evidence_hash(evidence: dict[str, Any]) -> str:
    if "evidence_hash" in evidence:  # an adoption certificate adds its hash and code for looking it up
        evidence = {k: v for k, v in evidence.items() if k not in ("evidence_hash", "verification_code")}
    return hashlib.sha256(canonical_json(evidence)).hexdigest()


def _commitments(bundle: dict[str, Any], payload: dict[str, Any], report: Report) -> None:
    personal = bundle.get("personal") or {}
    if not personal.get("salt"):
        report.lines.append((True, "personal fields: erased (their commitments remain signed)"))
        return
    salt = bytes.fromhex(personal["salt"])
    for name, value in (personal.get("fields") or {}).items():
        mac = hmac.new(salt, canonical_json([bundle["record"]["type"], name, value]), hashlib.sha256).hexdigest()
        report.check(mac == payload.get("commitments", {}).get(name), f"personal field {name} matches its commitment")


def _anchor(bundle: dict[str, Any], entry: dict[str, Any], tsa_roots: list, report: Report) -> None:
    anchor = bundle.get("anchor")
    if anchor is None:
        report.lines.append((True, "no timestamped anchor covers this entry yet (anchors are made daily)"))
        return
    report.check(
        hashlib.sha256(anchor["heads"].encode()).hexdigest() == anchor["digest"], "the anchor's heads match its digest"
    )
    heads = json.loads(anchor["heads"])
    report.check(
        any(scope == entry["chain"] and seq >= entry["seq"] for scope, seq, _ in heads),
        f"the anchor covers chain {entry['chain']} up to entry {entry['seq']} or later",
    )
    from core.seal_validation import check_token

    stamp = check_token(base64.b64decode(anchor["token"]), bytes.fromhex(anchor["digest"]), tsa_roots)
    report.check(
        not stamp.problems,
        f"the RFC 3161 token ({anchor.get('authority')}, {stamp.at}) timestamps exactly these heads and its "
        f"authority is trusted" + (f": {stamp.problems[0]}" if stamp.problems else ""),
    )


def _pdf(bundle: dict[str, Any], pdf: bytes, keys: dict[str, str], tsa_roots: list, report: Report) -> None:
    info = bundle.get("pdf")
    if not report.check(info is not None, "the bundle names the PDF issued for the record"):
        return
    assert info is not None
    report.check(hashlib.sha256(pdf).hexdigest() == info["sha256"], "the PDF's SHA-256 is that of the PDF issued")
    payload = _chain(info, keys, report, "stored PDF's fingerprint")
    if payload is not None:
        report.check(payload.get("sha256") == info["sha256"], "the PDF's fingerprint is the one signed")
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader

    from core.seal_validation import judge_seal, seal_roots

    try:
        (certificate,) = load_certs_from_pemder_data(info["seal_certificate"].encode())
        chain = list(load_certs_from_pemder_data(info["seal_chain"].encode())) if info.get("seal_chain") else []
        previous = [cert for pem in info.get("previous_seal_certificates") or [] for cert in _certs(pem)]
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        (signature,) = reader.embedded_signatures
        seal = judge_seal(
            reader,
            signature,
            seal_certificates=[certificate, *previous],
            seal_roots=seal_roots(certificate, chain, previous),
            seal_chain=chain,
            timestamp_roots=tsa_roots,
        )
        evidence_raw = None
        for name, spec in _embedded(reader):
            if name == "evidence.json":
                evidence_raw = spec
    except Exception as exc:  # noqa: BLE001 - any failure to read or validate is a failed check
        report.check(False, f"the PDF's seal can be validated ({exc.__class__.__name__}: {exc})")
        return
    report.check(
        seal.ok,
        "the PDF's seal is intact, covers the whole file and was made with the seal certificate"
        + (f": {seal.problem}" if seal.problem else ""),
    )
    if seal.ok and seal.timestamped_at is not None:
        embedded = "with the validation data embedded in the PDF" if seal.validation_data else "(no validation data)"
        report.lines.append(
            (
                True,
                f"the seal's timestamp ({seal.timestamped_at}) is trusted; its certificate was valid then, {embedded}",
            )
        )
    if report.check(evidence_raw is not None, "the PDF carries its evidence (evidence.json)"):
        report.check(
            _evidence_hash(json.loads(evidence_raw or b"{}")) == bundle["evidence_hash"],
            "the evidence inside the PDF matches the signed evidence hash",
        )


def _certs(pem: str) -> list:
    from pyhanko.keys import load_certs_from_pemder_data

    return list(load_certs_from_pemder_data(pem.encode()))


def _embedded(reader) -> list[tuple[str, bytes]]:
    """The PDF's embedded files (name, bytes), read with pyHanko from the catalogue's name tree."""

    def resolve(value):
        return value.get_object() if hasattr(value, "get_object") else value

    files = []
    pending = [resolve(resolve(resolve(reader.root).get("/Names", {})).get("/EmbeddedFiles", {}))]
    while pending:
        node = pending.pop()
        pending += [resolve(kid) for kid in resolve(node.get("/Kids", []))]
        names = resolve(node.get("/Names", []))
        for index in range(0, len(names), 2):
            spec = resolve(names[index + 1])
            files.append((str(resolve(names[index])), resolve(resolve(spec["/EF"])["/F"]).data))
    return files


def timestamp_roots(bundle: dict[str, Any], root_files: list[Path]) -> list:
    """The roots timestamps must chain to: the files given, or else those the bundle names."""
    from pyhanko.keys import load_certs_from_pemder, load_certs_from_pemder_data

    if root_files:
        return list(load_certs_from_pemder([str(path) for path in root_files]))
    return [cert for pem in bundle.get("timestamp_roots") or [] for cert in load_certs_from_pemder_data(pem.encode())]


def verify_bundle(bundle: dict[str, Any], pdf: bytes | None = None, tsa_root_files: list[Path] | None = None) -> Report:
    report = Report()
    keys = bundle.get("public_keys") or {}
    tsa_roots = timestamp_roots(bundle, list(tsa_root_files or []))
    report.lines.append(
        (
            True,
            f"timestamps must chain to {len(tsa_roots)} root(s) "
            + (
                "given on the command line"
                if tsa_root_files
                else "named in the bundle (give --tsa-root to check on your own)"
            ),
        )
    )
    payload = _chain(bundle, keys, report, "record")
    if payload is not None:
        entry = bundle["entry"]
        report.check(
            payload.get("type") == bundle["record"]["type"] and payload.get("id") == bundle["record"]["id"],
            f"the signed entry is of {bundle['record']['type']} {bundle['record']['id']}",
        )
        report.check(payload.get("evidence_hash") == bundle["evidence_hash"], "the evidence hash is the one signed")
        if bundle.get("evidence") is not None:
            report.check(
                _evidence_hash(bundle["evidence"]) == bundle["evidence_hash"],
                "the evidence hashes to the signed evidence hash",
            )
        _commitments(bundle, payload, report)
        _anchor(bundle, entry, tsa_roots, report)
    if pdf is not None:
        _pdf(bundle, pdf, keys, tsa_roots, report)
    return report


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m core.verify_offline", description=__doc__.strip().splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the record's evidence bundle (evidence-<code>.json)")
    parser.add_argument("pdf", type=Path, nargs="?", help="the PDF issued for the record")
    parser.add_argument(
        "--tsa-root", type=Path, action="append", default=[], help="a trusted root for timestamps (PEM or DER)"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    bundle = json.loads(args.bundle.read_text())
    pdf = args.pdf.read_bytes() if args.pdf else None
    report = verify_bundle(bundle, pdf, args.tsa_root)
    for ok, what in report.lines:
        print(("ok      " if ok else "FAILED  ") + what)
    print("VERIFIED" if report.ok else "NOT VERIFIED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
