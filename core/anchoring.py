"""Anchoring the chains in time: every chain's head, timestamped by an RFC 3161 authority (daily).

Once a day's heads are timestamped by a third party, nobody (the operator included) can rewrite an
entry made before that day, or drop the newest entries and rewind a head, without the anchor showing
it. The anchor is kept even when the authority fails (with the error), so a gap is visible.
"""

from __future__ import annotations

import json
import logging

from django.db import transaction
from django.utils import timezone

from core.canonical import canonical_json, sha256_hex
from core.models import ChainAnchor, ChainHead, EvidenceLink
from core.timestamps import NoTimestampAuthority, timestamp_digest, token_problems, tsa_name

logger = logging.getLogger(__name__)


def chain_anchor_make() -> ChainAnchor:
    """Timestamp every chain's head now. Never raises for an authority that is down: the row says why."""
    heads = [
        [scope, seq, head_hash]
        for scope, seq, head_hash in ChainHead.objects.order_by("scope").values_list("scope", "seq", "head_hash")
    ]
    heads_json = canonical_json(heads)
    digest = sha256_hex(heads_json)
    anchor = ChainAnchor(created_at=timezone.now(), heads=heads_json.decode("utf-8"), digest=digest, tsa_url=tsa_name())
    try:
        stamp = timestamp_digest(bytes.fromhex(digest))
    except NoTimestampAuthority as exc:
        anchor.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - an authority down or answering nonsense must not stop the anchor being kept
        logger.warning("The timestamp authority failed: %s", exc)
        anchor.error = f"The timestamp authority failed: {exc.__class__.__name__}: {exc}"[:500]
    else:
        anchor.token, anchor.timestamped_at = stamp.token, stamp.at
    with transaction.atomic():
        anchor.save()
    return anchor


def latest_anchor() -> ChainAnchor | None:
    return ChainAnchor.objects.exclude(token=b"").order_by("-created_at", "-pk").first()


def anchor_problems(anchor: ChainAnchor) -> list[str]:
    """An anchor's token against its heads, and its heads against the chains as they are now."""
    problems = []
    if sha256_hex(anchor.heads.encode("utf-8")) != anchor.digest:
        problems.append("its list of heads no longer matches its digest")
    if anchor.token:
        problems += token_problems(bytes(anchor.token), bytes.fromhex(anchor.digest))
    try:
        heads = json.loads(anchor.heads)
    except ValueError:
        return [*problems, "its list of heads cannot be read"]
    for scope, seq, head_hash in heads:
        if seq == 0:
            continue
        link_hash = EvidenceLink.objects.filter(scope=scope, seq=seq).values_list("link_hash", flat=True).first()
        if link_hash != head_hash:
            problems.append(f"chain {scope} no longer has the entry {seq} it had when anchored: history was rewritten")
    return problems
