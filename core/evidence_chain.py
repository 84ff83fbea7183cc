"""Signed evidence in a hash chain per organisation (docs/evidence.md).

Each evidence record gets one ``EvidenceLink``: its signed payload (non-personal fields in clear,
personal fields as salted commitments), its place in its organisation's chain (``seq`` and the
hash of the entry before) and an Ed25519 signature over all of that. The apps say what a record's
payload is (an ``EvidenceType`` each); this module knows no app.

``chain_append`` is the last step of a service's transaction. On PostgreSQL a signer takes the chain's head
only if it is free (``SKIP LOCKED``, in the statement that inserts the salts) and appends at once (one more
insert; a trigger moves the head's hash on; the lock is held to the commit). If another transaction holds
the head, the signer waits for it at most ``APPEND_WAIT_MS`` (in a savepoint); if it is still taken, the
records are signed at once and left in ``ChainQueue``, and after the commit the sequencer (``chain_drain``)
appends everything queued for that chain in short transactions of its own, so that under a crowd of signers
one hold of the head appends many signatures instead of every signer queueing for it. The reconciliation
sweep drains whatever a lost sequencer step left (``chain_drain_all``); verification counts a queued entry
younger than ``PENDING_FOR`` as pending, an older one as broken. SQLite serialises writers anyway: there
the head is taken with a plain upsert and entries are always appended at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, models, transaction
from django.utils import timezone

from core.canonical import canonical_json, sha256_hex
from core.evidence_keys import SigningKey, signature_valid, signing_key, verification_keys
from core.models import GENESIS_HASH, ChainHead, ChainQueue, EvidenceLink, EvidenceSalt

logger = logging.getLogger(__name__)

STATEMENT_VERSION = 1
# A queued entry this old was left behind: verification reports it. The sequencer normally runs within
# milliseconds of the signer's commit, and the reconciliation sweep (every RECONCILE_EVERY_MINUTES) chains
# whatever it left, so twice the sweep's period (at least 10 minutes) is long past any honest delay.
PENDING_FOR = max(timedelta(minutes=10), 2 * timedelta(minutes=settings.RECONCILE_EVERY_MINUTES))
# A signer who finds the head taken waits this long for it (holders keep it a few ms on a quiet machine) before
# queueing its entries instead: waiting briefly is cheaper than a sequencer step, waiting long is what queueing avoids.
APPEND_WAIT_MS = 50
# How long a sequencer step, after the signer's commit (its signature is safe, only the response waits), waits
# for the head before leaving the entries to the next step or the sweep.
DRAIN_LOCK_TIMEOUT_MS = 250
DRAIN_BATCH = 500
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
# Reserve places only if nobody holds the head, or make the head if the chain has none yet (PostgreSQL), in one
# statement: no row back means another transaction holds the head (or is making it, and the insert waited for it).
# The head is made only where this statement's snapshot sees none, so a held head is never inserted over.
_RESERVE_OR_START_SQL = (
    "free AS (SELECT scope FROM core_chainhead WHERE scope = %(scope)s FOR UPDATE SKIP LOCKED), "
    "reserved AS (UPDATE core_chainhead SET seq = seq + %(count)s, updated_at = %(now)s "
    "WHERE scope = (SELECT scope FROM free) RETURNING seq, head_hash), "
    "started AS (INSERT INTO core_chainhead (scope, seq, head_hash, updated_at) "
    "SELECT %(scope)s, %(count)s, %(genesis)s, %(now)s "
    "WHERE NOT EXISTS (SELECT 1 FROM core_chainhead WHERE scope = %(scope)s) "
    "ON CONFLICT (scope) DO NOTHING RETURNING seq, head_hash) "
    "SELECT seq, head_hash FROM reserved UNION ALL SELECT seq, head_hash FROM started"
)


def _salts_cte(salts: list[EvidenceSalt]) -> tuple[str, dict[str, Any]]:
    """The salts' insert as a data-modifying CTE, to ride in the head's statement: a query less per signature."""
    rows = ", ".join(f"(%(type{i})s, %(id{i})s, %(salt{i})s)" for i in range(len(salts)))
    sql = f"WITH salts AS (INSERT INTO {EvidenceSalt._meta.db_table} (record_type, record_id, salt) VALUES {rows}), "
    params: dict[str, Any] = {}
    for i, salt in enumerate(salts):
        params |= {f"type{i}": salt.record_type, f"id{i}": salt.record_id, f"salt{i}": salt.salt}
    return sql, params


def _fetch(sql: str, params: list[Any] | dict[str, Any]) -> tuple[int, str] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _insert_salts_and_reserve(scope: int, salts: list[EvidenceSalt], now: datetime) -> tuple[int, str] | None:
    """Insert the salts and reserve ``len(salts)`` places: (the last place reserved, the hash before it), or
    None when another transaction holds the head (PostgreSQL; the salts are inserted all the same).

    SQLite has no data-modifying CTE and serialises writers: two statements there, and the upsert waits.
    """
    if connection.vendor != "postgresql":
        EvidenceSalt.objects.bulk_create(salts)
        return _fetch(_RESERVE_SQL, [scope, len(salts), GENESIS_HASH, now])
    cte, params = _salts_cte(salts)
    params |= {"scope": scope, "count": len(salts), "now": now, "genesis": GENESIS_HASH}
    place = _fetch(cte + _RESERVE_OR_START_SQL, params)
    if place is None:  # taken: wait a moment for it
        place = _reserve_within(scope, len(salts), now, APPEND_WAIT_MS)
    return place


def _reserve_within(scope: int, count: int, now: datetime, wait_ms: int) -> tuple[int, str] | None:
    """Reserve ``count`` places, waiting at most ``wait_ms`` for the head; None if it stayed taken.

    In a savepoint, so that a lock timeout undoes only this and the signature goes on (queued). Only signers
    who met a taken head pay its four statements.
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(wait_ms)}ms'")
            cursor.execute(
                "UPDATE core_chainhead SET seq = seq + %s, updated_at = %s WHERE scope = %s RETURNING seq, head_hash",
                [count, now, scope],
            )
            row = cursor.fetchone()
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    except OperationalError:  # lock_timeout: the savepoint is rolled back, the setting with it
        return None
    return (row[0], row[1]) if row else None


def _links(
    scope: int, first_seq: int, prev_hash: str, entries: Iterable[tuple[str, int, str]], key: SigningKey, now: datetime
) -> list[EvidenceLink]:
    """Sign each (record type, record id, payload) in its place, from ``first_seq`` on after ``prev_hash``."""
    links, seq = [], first_seq
    for record_type, record_id, payload in entries:
        message = statement(scope=scope, seq=seq, prev_hash=prev_hash, key_id=key.key_id, payload=payload)
        link = EvidenceLink(
            scope=scope,
            seq=seq,
            prev_hash=prev_hash,
            record_type=record_type,
            record_id=record_id,
            payload=payload,
            key_id=key.key_id,
            signature=key.sign(message),
            link_hash=sha256_hex(message),
            created_at=now,
        )
        links.append(link)
        prev_hash, seq = link.link_hash, seq + 1
    return links


def chain_append(scope: int, items: Sequence[tuple[EvidenceType, models.Model]]) -> list[EvidenceLink]:
    """Sign and chain saved records, in order, at the end of the current transaction's work.

    Two queries whatever the number of records (three on SQLite): the salts' insert with the head's
    reservation, then the entries' insert. Payloads and salts are computed before. If the head is held by
    another transaction (PostgreSQL), the signed payloads are queued instead and chained after the commit by
    ``chain_drain``; returns the entries appended now (none when queued).
    """
    if not items:
        return []
    key = signing_key()
    now = timezone.now()
    salts = [secrets.token_bytes(32) for _ in items]
    entries = [
        (spec.label, record.pk, canonical_json(payload_for(spec, record, salt)).decode("utf-8"))
        for (spec, record), salt in zip(items, salts, strict=True)
    ]
    salt_rows = [
        EvidenceSalt(record_type=label, record_id=record_id, salt=salt.hex())
        for (label, record_id, _payload), salt in zip(entries, salts, strict=True)
    ]
    place = _insert_salts_and_reserve(scope, salt_rows, now)
    if place is None:
        _queue(scope, entries, key, now)
        return []
    last_seq, prev_hash = place
    links = _links(scope, last_seq - len(items) + 1, prev_hash, entries, key, now)
    EvidenceLink.objects.bulk_create(links)  # the trigger sets the head's hash to the last one's
    return links


def _queue(scope: int, entries: list[tuple[str, int, str]], key: SigningKey, now: datetime) -> None:
    """Leave signed payloads for the sequencer, and run it once this transaction commits."""
    ChainQueue.objects.bulk_create(
        [
            ChainQueue(
                scope=scope,
                record_type=record_type,
                record_id=record_id,
                payload=payload,
                key_id=key.key_id,
                signature=key.sign(payload.encode("utf-8")),
                created_at=now,
            )
            for record_type, record_id, payload in entries
        ]
    )
    # robust: the signature has committed whatever happens here; the sweep chains what this step leaves.
    transaction.on_commit(partial(chain_drain, scope), robust=True)


def _drain_batch(scope: int) -> int:
    """One sequencer transaction: take the head (waiting at most ``DRAIN_LOCK_TIMEOUT_MS``), take up to
    ``DRAIN_BATCH`` queued entries of its chain, and append them. Returns how many."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL lock_timeout = '{int(DRAIN_LOCK_TIMEOUT_MS)}ms'")
        cursor.execute("SELECT seq, head_hash FROM core_chainhead WHERE scope = %s FOR UPDATE", [scope])
        head = cursor.fetchone()
        if head is None:  # entries are queued only behind an existing head
            return 0
        cursor.execute(
            "DELETE FROM core_chainqueue WHERE id IN "
            "(SELECT id FROM core_chainqueue WHERE scope = %s ORDER BY id LIMIT %s) "
            "RETURNING id, record_type, record_id, payload",
            [scope, DRAIN_BATCH],
        )
        queued = sorted(cursor.fetchall())
        if not queued:
            return 0
        now = timezone.now()
        cursor.execute(
            "UPDATE core_chainhead SET seq = seq + %s, updated_at = %s WHERE scope = %s", [len(queued), now, scope]
        )
    last_seq, prev_hash = head
    entries = [(record_type, record_id, payload) for _id, record_type, record_id, payload in queued]
    EvidenceLink.objects.bulk_create(_links(scope, last_seq + 1, prev_hash, entries, signing_key(), now))
    return len(queued)


def chain_drain(scope: int) -> int:
    """The sequencer: append the chain's queued entries, batch after batch, each in its own short transaction.

    Returns how many it appended. Stops when nothing is left, or when the head stays taken past the lock
    timeout: its holder is a signer or a sequencer that will drain after its own commit, and the sweep is the
    backstop.
    """
    appended = 0
    while True:
        try:
            with transaction.atomic():
                batch = _drain_batch(scope)
        except OperationalError as error:  # lock_timeout (or a lost connection): the holder or the sweep drains
            logger.info("chain %s: left queued entries to the head's holder (%s)", scope, error)
            return appended
        if not batch:
            return appended
        appended += batch


def chain_drain_all() -> int:
    """Drain every chain that has queued entries (the reconciliation sweep); returns how many were appended."""
    scopes = sorted(set(ChainQueue.objects.values_list("scope", flat=True)))
    return sum(chain_drain(scope) for scope in scopes)


def queued_problems(row: ChainQueue, now: datetime, keys: dict | None = None) -> list[str]:
    """What is wrong with an entry still waiting for its chain: its signature, and whether it waited too long."""
    keys = verification_keys() if keys is None else keys
    problems = []
    public_key = keys.get(row.key_id)
    if public_key is None:
        problems.append(f"it was signed with a key this installation does not know ({row.key_id})")
    elif not signature_valid(public_key, row.signature, row.payload.encode("utf-8")):
        problems.append("its signature is not valid: the entry was changed after it was signed")
    if row.created_at < now - PENDING_FOR:
        minutes = int(PENDING_FOR.total_seconds() // 60)
        problems.append(f"it has waited for its place in chain {row.scope} for more than {minutes} minutes")
    return problems


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
    spec: EvidenceType, record: models.Model, link: EvidenceLink | ChainQueue, salt: str | None
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
