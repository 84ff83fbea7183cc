"""Canonical serialisation and hashing.

Evidence must hash the same way years later, on another machine, in another
language: JSON with sorted keys, no insignificant whitespace, UTF-8, and dates
and times as ISO 8601 strings in UTC. Nothing here depends on the database.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("Refusing to serialise a naive datetime into evidence.")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"Cannot serialise {type(value).__name__} canonically.")


def canonical_json(data: Any) -> bytes:
    """The one byte-exact serialisation used for every hash."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


VERIFICATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_verification_code() -> str:
    """Sixteen characters shown as four groups, e.g. K7QX-M2PD-9RTW-HB4N."""
    raw = "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))
