"""Signed evidence in a hash chain per organisation (docs/evidence.md).

Each evidence record gets one ``EvidenceLink``: its signed payload (non-personal fields in clear,
personal fields as salted commitments), its place in its organisation's chain (``seq`` and the
hash of the entry before) and an Ed25519 signature over all of that. The apps say what a record's
payload is (an ``EvidenceType`` each); this module knows no app.

``chain_append`` is the last step of a service's transaction: one upsert of the chain head (its row
lock, held from then until the commit, is the only lock on the chain) with the insert of the salts,
and one insert of the entries; a trigger moves the head's hash on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.utils import timezone

from core.canonical import canonical_json, sha256_hex
from core.evidence_keys import signature_valid, signing_key, verification_keys
from core.models import GENESIS_HASH, ChainHead, EvidenceLink, EvidenceSalt

STATEMENT_VERSION = 1
ERASED = "erased"


@dataclass(frozen=True)
class EvidenceType:
    """How one kind of record is signed: its label, its fields in clear and its personal fields."""

    label: str  # the model's label_lower, e.g. "conduct.adoption"
    public: Callable[[Any], dict[str, Any]]
    personal: Callable[[Any], dict[str, Any]]


def commitment(salt: bytes, record_type: str, name: str, value: Any) -> str:
    """HMAC-SHA256 keyed by the record's salt over the field's canonical JSON: reveals nothing without the salt."""
    return hmac.new(salt, canonical_json([record_type, name, value]), hashlib.sha256).hexdigest()


def payload_for(spec: EvidenceType, record: models.Model, salt: bytes) -> dict[str, Any]:
    personal = spec.personal(record)
    return {
        **spec.public(record),
        "type": spec.label,
        "id": record.pk,
        "commitments": {name: commitment(salt, spec.label, name, value) for name, value in personal.items()},
    }


def statement(*, scope: int, seq: int, prev_hash: str, key_id: str, payload: str) -> bytes:
    """The bytes an entry's signature and hash are made over: the payload in its place in the chain."""
    return canonical_json(
        {
            "v": STATEMENT_VERSION,
            "chain": scope,
            "seq": seq,
            "prev": prev_hash,
            "key": key_id,
            "record": json.loads(payload),
        }
    )


def link_statement(link: EvidenceLink) -> bytes:
    return statement(scope=link.scope, seq=link.seq, prev_hash=link.prev_hash, key_id=link.key_id, payload=link.payload)


_RESERVE_SQL = (
    "INSERT INTO core_chainhead (scope, seq, head_hash, updated_at) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (scope) DO UPDATE SET seq = core_chainhead.seq + excluded.seq, updated_at = excluded.updated_at "
    "RETURNING seq, head_hash"
)


def _insert_salts_and_reserve(scope: int, salts: list[EvidenceSalt], now) -> tuple[int, str]:
    """Insert the salts and reserve ``len(salts)`` places; returns (the last place reserved, the hash before).

    On PostgreSQL one statement (the salts' insert as a data-modifying CTE of the head's upsert): a query less
    in every signature's transaction. SQLite has no such CTE: two statements there.
    """
    params: list[Any] = [scope, len(salts), GENESIS_HASH, now]
    sql = _RESERVE_SQL
    if connection.vendor == "postgresql":
        rows = ", ".join(["(%s, %s, %s)"] * len(salts))
        sql = (
            f"WITH salts AS (INSERT INTO {EvidenceSalt._meta.db_table} (record_type, record_id, salt) VALUES {rows}) "
            + _RESERVE_SQL
        )
        params = [value for salt in salts for value in (salt.record_type, salt.record_id, salt.salt)] + params
    else:
        EvidenceSalt.objects.bulk_create(salts)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        last_seq, prev_hash = cursor.fetchone()
    return last_seq, prev_hash


def chain_append(scope: int, items: Sequence[tuple[EvidenceType, models.Model]]) -> list[EvidenceLink]:
    """Sign and chain saved records, in order, at the end of the current transaction's work.

    Two queries whatever the number of records (three on SQLite): insert their salts and reserve
    ``len(items)`` places (taking the head's row lock until the commit), insert their entries. Everything that
    does not need the place (payloads, salts) is computed before the lock, so it is held for one insert and
    the commit.
    """
    if not items:
        return []
    key = signing_key()
    now = timezone.now()
    salts = [secrets.token_bytes(32) for _ in items]
    payloads = [
        canonical_json(payload_for(spec, record, salt)).decode("utf-8")
        for (spec, record), salt in zip(items, salts, strict=True)
    ]
    salt_rows = [
        EvidenceSalt(record_type=spec.label, record_id=record.pk, salt=salt.hex())
        for (spec, record), salt in zip(items, salts, strict=True)
    ]
    last_seq, prev_hash = _insert_salts_and_reserve(scope, salt_rows, now)
    seq = last_seq - len(items)
    links = []
    for (spec, record), payload in zip(items, payloads, strict=True):
        seq += 1
        message = statement(scope=scope, seq=seq, prev_hash=prev_hash, key_id=key.key_id, payload=payload)
        link = EvidenceLink(
            scope=scope,
            seq=seq,
            prev_hash=prev_hash,
            record_type=spec.label,
            record_id=record.pk,
            payload=payload,
            key_id=key.key_id,
            signature=key.sign(message),
            link_hash=sha256_hex(message),
            created_at=now,
        )
        links.append(link)
        prev_hash = link.link_hash
    EvidenceLink.objects.bulk_create(links)  # the trigger sets the head's hash to the last one's
    return links


# ---------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------


@dataclass
class Finding:
    """One broken item: what kind of thing, which one, and what is wrong, in plain words."""

    kind: str
    item: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "item": self.item, "problem": self.problem}


def link_problems(link: EvidenceLink, keys: dict | None = None) -> list[str]:
    """What is wrong with an entry on its own: its hash and its signature."""
    keys = verification_keys() if keys is None else keys
    problems = []
    try:
        message = link_statement(link)
    except ValueError:
        return ["its payload is not valid JSON"]
    if sha256_hex(message) != link.link_hash:
        problems.append("its hash does not match its contents")
    public_key = keys.get(link.key_id)
    if public_key is None:
        problems.append(f"it was signed with a key this installation does not know ({link.key_id})")
    elif not signature_valid(public_key, link.signature, message):
        problems.append("its signature is not valid: the entry was changed after it was signed")
    return problems


def record_problems(
    spec: EvidenceType, record: models.Model, link: EvidenceLink, salt: str | None
) -> tuple[list[str], bool]:
    """Whether the record still says what its signed payload says. Returns (problems, erased).

    Fields in clear are compared as they are; personal fields through their commitments. A record
    whose salt is gone and whose personal fields are all empty was erased: that is reported, not a failure.
    """
    try:
        signed = json.loads(link.payload)
    except ValueError:
        return ["its signed entry cannot be read"], False
    problems = []
    now_public = json.loads(canonical_json({**spec.public(record), "type": spec.label, "id": record.pk}))
    signed_public = {name: value for name, value in signed.items() if name != "commitments"}
    changed = sorted(
        name for name in set(now_public) | set(signed_public) if now_public.get(name) != signed_public.get(name)
    )
    if changed:
        problems.append("it no longer matches what was signed (" + ", ".join(changed) + ")")
    personal = spec.personal(record)
    signed_commitments = signed.get("commitments") or {}
    if salt is None:
        # "erased" stands in where the table requires a value (an on-behalf or correction reason).
        if any(value not in (None, "", [], {}, ERASED) for value in personal.values()):
            problems.append("the salt of its personal fields is missing while the fields are still there")
            return problems, False
        return problems, True
    salt_bytes = bytes.fromhex(salt)
    altered = sorted(
        name
        for name in set(personal) | set(signed_commitments)
        if commitment(salt_bytes, spec.label, name, personal.get(name)) != signed_commitments.get(name)
    )
    if altered:
        problems.append("its personal fields no longer match what was signed (" + ", ".join(altered) + ")")
    return problems, False


@dataclass
class ChainReport:
    scope: int
    entries: int = 0
    findings: list[Finding] = field(default_factory=list)


def chain_findings(scope: int, links: Iterable[EvidenceLink], head: ChainHead | None, keys: dict) -> ChainReport:
    """Walk one chain in order: no gap, each entry points at the one before, each hash and signature holds."""
    report = ChainReport(scope)
    expected_seq, prev_hash = 1, GENESIS_HASH
    name = f"chain {scope}"
    for link in links:
        report.entries += 1
        where = f"{name} entry {link.seq} ({link.record_type} {link.record_id})"
        if link.seq != expected_seq:
            report.findings.append(
                Finding(
                    "chain",
                    where,
                    f"entries {expected_seq}–{link.seq - 1} are missing"
                    if link.seq > expected_seq
                    else "it is out of order",
                )
            )
        if link.prev_hash != prev_hash:
            report.findings.append(
                Finding("chain", where, "it does not follow the entry before it (deleted, inserted or reordered)")
            )
        for problem in link_problems(link, keys):
            report.findings.append(Finding("signature", where, problem))
        expected_seq, prev_hash = link.seq + 1, link.link_hash
    last_seq = expected_seq - 1
    if head is None:
        if report.entries:
            report.findings.append(Finding("chain", name, "its head is missing"))
    elif head.seq != last_seq or head.head_hash != prev_hash:
        report.findings.append(
            Finding(
                "chain",
                name,
                f"its head says entry {head.seq} but the chain ends at entry {last_seq}: entries were removed or added",
            )
        )
    return report
