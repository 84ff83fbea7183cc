"""The content of a code version, as hashed: the one definition of "the same words".

Serialised with ``core.canonical`` so a version's content hash is reproducible anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.canonical import canonical_json, sha256_hex

CONTENT_FORMAT = 1


def content_hash(content: dict) -> str:
    return sha256_hex(canonical_json(content))


def clause_content(clause: Any) -> dict:
    return {
        "number": clause.number,
        "style": clause.style,
        "depth": clause.depth,
        "term": clause.term,
        "text": clause.text,
        "roles": sorted(clause.roles or []),
        "new": bool(clause.is_new),
    }


def attachment_content(attachment: Any) -> dict:
    return {
        "title": attachment.title,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }


def version_content(version: Any, sections: Iterable[Any], attachments: Iterable[Any] = ()) -> dict:
    """The text of a version, as hashed: sections and clauses in order, then its attached files, nothing else.

    Internal identifiers (keys, primary keys) are left out so two versions with the
    same words hash the same, and the code's mutable title is left out so renaming
    a code never makes old evidence look tampered with. Attached files are in by their
    SHA-256 (and name, title, type and size), and only when there are some: a version
    without attachments hashes exactly as it did before attachments existed.
    """
    files = [attachment_content(attachment) for attachment in attachments]
    return {
        **({"attachments": files} if files else {}),
        "format": CONTENT_FORMAT,
        "sections": [
            {
                "number": section.number,
                "title": section.title,
                "clauses": [clause_content(clause) for clause in section.clauses.all()],
            }
            for section in sections
        ],
    }
