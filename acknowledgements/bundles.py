"""A record's evidence bundle: everything needed to check it with no network and no access to the app.

The bundle (JSON) holds the record's full evidence (as embedded in its PDF), its signed chain entry with
the entries before and after it, the public key that signed them (and the seal certificate of the PDF),
the salt and values of its personal fields (so the commitments can be recomputed), the stored PDF's
signed fingerprint with the seal's certificate chain, the roots the timestamp authority is trusted under,
and the latest timestamped anchor covering the entry. ``python -m
core.verify_offline bundle.json [file.pdf]`` checks it (README, "Checking evidence offline").
Whoever may view the record may download it (the views ask the permission first).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Model

from acknowledgements.evidence import acknowledgement_evidence
from acknowledgements.evidence_records import ACKNOWLEDGEMENT, SEALED_PDF
from acknowledgements.models import Acknowledgement, SealedPdf
from conduct.evidence_records import ADOPTION
from conduct.models import Adoption
from conduct.services import adoption_evidence
from core.canonical import canonical_json
from core.evidence_chain import EvidenceType
from core.evidence_keys import public_key_pem, verification_keys
from core.models import ChainAnchor, EvidenceLink, EvidenceSalt, tombstone_of
from core.pdf import seal_certificates, seal_credentials
from core.timestamps import tsa_trust_roots

BUNDLE_FORMAT = "conduct-evidence-bundle/1"


def _pem(certificate) -> str:
    from asn1crypto import pem  # type: ignore[import-untyped]

    return pem.armor("CERTIFICATE", certificate.dump()).decode("ascii")


def _entry(link: EvidenceLink | None) -> dict[str, Any] | None:
    if link is None:
        return None
    return {
        "chain": link.scope,
        "seq": link.seq,
        "prev": link.prev_hash,
        "key": link.key_id,
        "record_type": link.record_type,
        "record_id": link.record_id,
        "payload": link.payload,
        "signature": link.signature,
        "link_hash": link.link_hash,
    }


def _chain_part(spec: EvidenceType, record: Model) -> dict[str, Any]:
    link = EvidenceLink.objects.filter(record_type=spec.label, record_id=record.pk).first()
    if link is None:
        return {"entry": None, "previous": None, "next": None}
    neighbours = {
        entry.seq: entry
        for entry in EvidenceLink.objects.filter(scope=link.scope, seq__in=[link.seq - 1, link.seq + 1])
    }
    return {
        "entry": _entry(link),
        "previous": _entry(neighbours.get(link.seq - 1)),
        "next": _entry(neighbours.get(link.seq + 1)),
    }


def _personal(spec: EvidenceType, record: Model) -> dict[str, Any]:
    salt = (
        EvidenceSalt.objects.filter(record_type=spec.label, record_id=record.pk).values_list("salt", flat=True).first()
    )
    return {"salt": salt, "fields": json.loads(canonical_json(spec.personal(record))) if salt else None}


def _anchor_covering(scope: int, seq: int) -> dict[str, Any] | None:
    """The latest anchor whose heads include this chain at or after the entry."""
    for anchor in ChainAnchor.objects.exclude(token=b"").order_by("-created_at", "-pk")[:62]:
        heads = json.loads(anchor.heads)
        if any(head_scope == scope and head_seq >= seq for head_scope, head_seq, _ in heads):
            return {
                "heads": anchor.heads,
                "digest": anchor.digest,
                "authority": anchor.tsa_url,
                "timestamped_at": anchor.timestamped_at.isoformat() if anchor.timestamped_at else None,
                "token": base64.b64encode(bytes(anchor.token)).decode("ascii"),
            }
    return None


def _bundle(spec: EvidenceType, record: Model, evidence: dict[str, Any], evidence_hash: str, pdf: SealedPdf | None):
    chain = _chain_part(spec, record)
    entry = chain["entry"]
    keys = verification_keys()
    return {
        "format": BUNDLE_FORMAT,
        "record": {"type": spec.label, "id": record.pk, "verification_code": getattr(record, "verification_code", "")},
        "evidence": json.loads(canonical_json(evidence)) if evidence else None,
        "evidence_hash": evidence_hash,
        **chain,
        "personal": _personal(spec, record),
        "public_keys": {key_id: public_key_pem(key) for key_id, key in keys.items()},
        "pdf": None
        if pdf is None
        else {
            "sha256": pdf.sha256,
            "size": pdf.size,
            **_chain_part(SEALED_PDF, pdf),
            "seal_certificate": seal_credentials().cert_path.read_text(),
            "seal_chain": Path(settings.SEAL_CHAIN_FILE).read_text() if settings.SEAL_CHAIN_FILE else "",
            "previous_seal_certificates": [_pem(cert) for cert in seal_certificates()[1:]],
        },
        "timestamp_roots": [_pem(root) for root in tsa_trust_roots()],
        "anchor": _anchor_covering(entry["chain"], entry["seq"]) if entry else None,
    }


def _erased(spec: EvidenceType, record: Model) -> bool:
    """Its personal data was erased (privacy.erasure): the full evidence can no longer be rebuilt from the row,
    so the bundle carries none; the signed entry still fixes the evidence hash (and the signer's PDF carries it)."""
    return tombstone_of(spec.label, record.pk) is not None


def acknowledgement_bundle(ack: Acknowledgement) -> dict[str, Any]:
    evidence = {} if _erased(ACKNOWLEDGEMENT, ack) else acknowledgement_evidence(ack)
    return _bundle(
        ACKNOWLEDGEMENT, ack, evidence, ack.evidence_hash, SealedPdf.objects.filter(acknowledgement=ack).first()
    )


def adoption_bundle(adoption: Adoption) -> dict[str, Any]:
    return _bundle(
        ADOPTION,
        adoption,
        {} if _erased(ADOPTION, adoption) else adoption_evidence(adoption),
        adoption.evidence_hash,
        SealedPdf.objects.filter(adoption=adoption).first(),
    )
