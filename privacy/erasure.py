"""Erasure of a person's personal data (issue 13; design in docs/retention.md, "Erasure").

The signed evidence commits to personal fields through salted HMACs (docs/evidence.md, section 4), so
erasing blanks those fields and deletes the salts, while every record's existence, dates, hashes,
signature and place in its chain still verify.
"""

from __future__ import annotations

from typing import Any

BASIS_RETENTION_ENDED = "retention_ended"
BASIS_ERASURE_REQUEST = "erasure_request"
BASES = (BASIS_RETENTION_ENDED, BASIS_ERASURE_REQUEST)


class ErasureRefused(Exception):
    """The erasure was refused (permission, legal hold, retention not passed, missing reason); nothing changed."""


def person_erase(*, actor: Any, person: Any, reason: str, basis: str) -> Any:
    """Erase ``person``'s personal data and return the ``ErasureRecord``.

    ``basis`` is "retention_ended" (refused unless the person's retention period has passed) or
    "erasure_request" (UK GDPR Article 17; ``reason`` required). Raises ``ErasureRefused`` when the actor
    may not erase this person, a legal hold is on them, or the basis does not hold. Erasing an erased
    person again returns the existing record.
    """
    raise ErasureRefused("Erasure is being built.")
