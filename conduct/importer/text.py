"""Pasted text: a code copied out of a document or a web page, one paragraph a line.

Plain text has no styles, so what Word would say with a Heading style or list numbering has to
be read from the lines themselves: typed bullets and numbers, indentation for nesting, Markdown
("# Heading", "**Term:**") where the text has it, and, without Markdown headings, the shape of
a heading line (a short phrase with no sentence punctuation).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from conduct import limits
from conduct.importer.blocks import Block, BlockKind
from conduct.importer.cleaning import collapse, is_artefact, strip_invisible
from conduct.importer.markers import typed_block
from conduct.importer.proposal import ImportProposal, Notes
from conduct.importer.structure import build_proposal

MARKDOWN_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*)$")
# "**Excellence:** We are…" or "**Excellence**: We are…"
MARKDOWN_TERM_RE = re.compile(r"^\*\*([^*]{1,120}?):?\*\*:?\s+(.+)$")
MARKDOWN_BOLD_RE = re.compile(r"\*\*(.+?)\*\*")
# The first lines name the code when one of them says what it is.
TITLE_WORDS_RE = re.compile(r"\b(?:code|conduct|policy)\b", re.IGNORECASE)
MAX_TITLE_LINES = 3
MAX_TITLE_WORDS = 12
# A heading line: a short phrase, no sentence or clause punctuation, no colon ("Adopted: …" is
# a statement), starting with a capital or a digit. Single words are labels (subheadings or
# terms), decided later with the lines around them.
MIN_HEADING_WORDS, MAX_HEADING_WORDS = 2, 8
HEADING_HINT = "In pasted text, a heading is a short line of its own with no full stop, or a line starting “#”."
NOT_HEADING_ENDS = (".", ",", ";", "!", "?", ")", "]", "”", '"', "'")


def code_import_text(text: str) -> ImportProposal:
    """Propose a code's sections and clauses from pasted text (see ``conduct.importer``)."""
    if len(text) > limits.MAX_PASTED_TEXT_CHARS:
        raise ValidationError(
            f"The text is {len(text):,} characters long; the limit is {limits.MAX_PASTED_TEXT_CHARS:,}.",
            code="too_large",
        )
    notes = Notes()
    return build_proposal(text_blocks(text, notes), notes, heading_hint=HEADING_HINT)


def text_blocks(text: str, notes: Notes) -> list[Block]:
    blocks = [block for line in text.splitlines() if (block := line_block(line, notes))]
    nest_list_items(blocks)
    mark_title(blocks)
    if not any(block.kind is BlockKind.HEADING for block in blocks):
        mark_headings(blocks)
    return blocks


def line_block(line: str, notes: Notes) -> Block | None:
    """One line as a block, or None for a blank line or an artefact."""
    line = strip_invisible(line, notes)
    stripped = line.strip()
    if not stripped or is_artefact(collapse(stripped), notes):
        return None
    expanded = line.expandtabs(4)
    indent = len(expanded) - len(expanded.lstrip())
    if heading := MARKDOWN_HEADING_RE.match(stripped):
        return Block(BlockKind.HEADING, heading.group(2), level=len(heading.group(1)))
    block = typed_block(stripped, indent=indent)
    block.term, block.text = markdown_term(block.text)
    return block


def markdown_term(text: str) -> tuple[str, str]:
    """A Markdown bold lead-in as the term; other bold markers are formatting, not text."""
    term = ""
    if match := MARKDOWN_TERM_RE.match(text):
        term, text = match.group(1), match.group(2)
    return term, MARKDOWN_BOLD_RE.sub(r"\1", text)


def nest_list_items(blocks: list[Block]) -> None:
    """List levels from indentation: each deeper indent within a run of items is one level down."""
    indents: list[int] = []
    for block in blocks:
        if block.kind is not BlockKind.ITEM:
            indents = []
            continue
        while indents and block.indent < indents[-1]:
            indents.pop()
        if not indents or block.indent > indents[-1]:
            indents.append(block.indent)
        block.level = len(indents) - 1


def is_title_like(block: Block) -> bool:
    text = collapse(block.text)
    return (
        block.kind is BlockKind.PARAGRAPH
        and not block.number
        and len(text.split()) <= MAX_TITLE_WORDS
        and not text.endswith((".", ",", ";", ":", "!", "?"))
    )


def mark_title(blocks: list[Block]) -> None:
    """The first short lines are the code's title when one of them names a code or policy
    ("Leading Learners Trust" / "Code of Conduct 2024 - 2025"); "Our Vision" is a heading."""
    lines = 0
    while lines < min(len(blocks), MAX_TITLE_LINES) and is_title_like(blocks[lines]):
        lines += 1
    if any(TITLE_WORDS_RE.search(block.text) for block in blocks[:lines]):
        for block in blocks[:lines]:
            block.kind = BlockKind.TITLE


def looks_like_heading(block: Block) -> bool:
    text = collapse(block.text)
    words = text.split()
    return (
        block.kind is BlockKind.PARAGRAPH
        and not block.number
        and not block.term
        and MIN_HEADING_WORDS <= len(words) <= MAX_HEADING_WORDS
        and ":" not in text
        and not text.endswith(NOT_HEADING_ENDS)
        and (text[0].isupper() or text[0].isdigit())
    )


def mark_headings(blocks: list[Block]) -> None:
    """Without Markdown headings, heading-shaped lines are the section headings."""
    for block in blocks:
        if looks_like_heading(block):
            block.kind = BlockKind.HEADING
            block.level = 1
