"""The one shape both readers produce: a document as a flat list of blocks.

A block records what the source's formatting says (a Word heading style, list numbering, a bold
lead-in; or a typed marker in plain text) and nothing the rules in ``structure`` decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BlockKind(StrEnum):
    TITLE = "title"  # the document's own name (Word's Title/Subtitle, or the first lines of text)
    HEADING = "heading"
    ITEM = "item"  # a bulleted or numbered list item
    PARAGRAPH = "paragraph"


@dataclass
class Block:
    kind: BlockKind
    text: str
    # Heading level (1 is the top) or list level (0 is the outermost list).
    level: int = 0
    # A list item's number as printed, or a paragraph's typed clause label ("1.1").
    number: str = ""
    # A list item is numbered rather than bulleted.
    numbered: bool = False
    # The number was typed in the text, not computed from Word's numbering: conversions to text
    # often reset it ("1.", "1.", "1." or "0."), so a run of them is renumbered.
    typed_number: bool = False
    # A bold lead-in ("Excellence:") that the formatting marks as a term.
    term: str = ""
    # Leading whitespace of a pasted line: how lists nest in plain text.
    indent: int = 0
