"""Markers typed at the start of a line: bullets, list numbers and clause labels.

Pasted text has only these to show its lists; a Word paragraph may have them typed too (an
author numbering "1.1" by hand). Both readers use this one parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from conduct.importer.blocks import Block, BlockKind


class MarkerKind(StrEnum):
    BULLET = "bullet"
    NUMBER = "number"  # a list item's number: "1.", "2)", "(a)", "iv)"
    LABEL = "label"  # a clause's label: "1.1", "17.1", "2.3.1"


@dataclass(frozen=True)
class Marker:
    kind: MarkerKind
    label: str = ""


# Bullet characters as they come out of Word and web pages. "*" counts only before a space:
# "*Trustees:" is the governance code's new-or-updated marker, not a bullet. The staff code's
# "Never" list uses a cross that converts to "X"; "o" is Word's second-level bullet. Those two
# letters count only before a tab, which is how a converted bullet is spaced.
BULLET_RE = re.compile(r"^(?:[-–•·▪■◦●○➢➤►✓✔✗✘×]|\*(?=\s)|[Xxo](?=\t))\s+")
LABEL_RE = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){1,4})\.?\s+")
NUMBER_RE = re.compile(r"^(\d{1,3})[.)]\s+")
LETTER_RE = re.compile(r"^(\([a-zA-Z]\)|\([ivxIVX]{1,5}\)|[a-z]\)|[ivx]{1,5}\))\s+")


def split_marker(text: str) -> tuple[Marker | None, str]:
    """The typed marker at the start of ``text`` (if any) and the text after it."""
    if match := BULLET_RE.match(text):
        return Marker(MarkerKind.BULLET), text[match.end() :]
    if match := LABEL_RE.match(text):
        return Marker(MarkerKind.LABEL, match.group(1)), text[match.end() :]
    for pattern in (NUMBER_RE, LETTER_RE):
        if match := pattern.match(text):
            return Marker(MarkerKind.NUMBER, match.group(1)), text[match.end() :]
    return None, text


def typed_block(text: str, *, term: str = "", indent: int = 0) -> Block:
    """A paragraph whose list marker, if any, was typed: a bullet or number makes it a list item
    (its number typed, so renumbered in sequence), a label makes it a numbered clause."""
    marker, rest = split_marker(text)
    if marker is None:
        return Block(BlockKind.PARAGRAPH, rest, term=term, indent=indent)
    if marker.kind is MarkerKind.LABEL:
        return Block(BlockKind.PARAGRAPH, rest, number=marker.label, term=term, indent=indent)
    numbered = marker.kind is MarkerKind.NUMBER
    return Block(
        BlockKind.ITEM, rest, number=marker.label, numbered=numbered, typed_number=numbered, term=term, indent=indent
    )
