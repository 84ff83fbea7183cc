"""Word documents (.docx), read with python-docx: paragraphs, their styles and list numbering.

What Word's formatting says is taken as the author meant it: the Title style names the code,
Heading styles make sections, list numbering makes list items (bulleted or numbered, at a level),
a bold lead-in ending ":" is a term. A number is the one Word shows: each list (numId) counts
its levels from its start value, as Word does for a list restarted at 1.

Only the body is read. Headers and footers are page furniture (a logo, "Page 2 of 7"); pictures
are not text. Text that is in the body but cannot become a clause (a table, a text box) is kept
as unplaced text, and footnotes and comments are mentioned in a warning, so nothing goes missing
unseen. A document with tracked changes is refused: which wording is the code is for the author
to settle in Word.

python-docx has no public API for list numbering, text boxes or content controls, so those are
read from its parsed elements (``paragraph._p``, ``element.xpath``): its documented oxml layer,
not a parser of our own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import docx
from django.core.exceptions import ValidationError
from docx.document import Document
from docx.oxml.ns import qn
from docx.styles.style import ParagraphStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from conduct.importer.blocks import Block, BlockKind
from conduct.importer.cleaning import collapse, is_artefact, strip_invisible
from conduct.importer.markers import typed_block
from conduct.importer.package import DAMAGED, check_package
from conduct.importer.proposal import ImportProposal, Notes
from conduct.importer.structure import build_proposal

log = logging.getLogger(__name__)

HEADING_STYLE_RE = re.compile(r"^heading (\d)$", re.IGNORECASE)
# "List Bullet 2", "List Number 3": Word's built-in list styles carry their level in the name
# (each has a one-level list definition of its own).
LIST_STYLE_RE = re.compile(r"^list(?: bullet| number| continue)? (\d)$", re.IGNORECASE)
MAX_TERM_WORDS = 6
HEADING_HINT = "In Word, a heading is a paragraph in a Heading style (Heading 1 for sections)."
NUM_ID_PATH = "./w:pPr/w:numPr/w:numId/@w:val"
LEVEL_PATH = "./w:pPr/w:numPr/w:ilvl/@w:val"
OUTLINE_PATH = "./w:pPr/w:outlineLvl/@w:val"
TRACKED_CHANGES = ".//w:ins | .//w:del | .//w:moveFrom | .//w:moveTo"
NOTES_AND_COMMENTS = ".//w:footnoteReference | .//w:endnoteReference | .//w:commentReference"
UNPLACED_TABLE = "Tables are not imported as clauses: each row of a table is listed as unplaced text, to place by hand."
UNPLACED_TEXT_BOX = "Text boxes are not imported as clauses: their text is listed as unplaced text, to place by hand."
UNPLACED_HIDDEN = (
    "Some paragraphs hold text in a form the importer cannot read in place (a content control, field or "
    "smart tag): each such paragraph's full text is listed as unplaced text; check the clause made from it."
)


def code_import_docx(data: bytes) -> ImportProposal:
    """Propose a code's sections and clauses from a .docx upload (see ``conduct.importer``)."""
    notes = Notes()
    check_package(data, notes)
    return build_proposal(read_blocks(data, notes), notes, heading_hint=HEADING_HINT)


def read_blocks(data: bytes, notes: Notes) -> list[Block]:
    """The document's blocks, or a ValidationError for a file python-docx cannot read.

    python-docx states no exceptions for malformed input: a damaged part surfaces as whatever its
    parser trips over (KeyError, AttributeError, NotImplementedError, lxml's errors…), as fuzzing
    the seed documents shows. So any exception while reading means a damaged file; it is logged
    with its traceback, in case it was a fault of ours rather than of the file.
    """
    try:
        document = docx.Document(BytesIO(data))
        check_is_document(document)
        check_tracked_changes(document)
        return WordReader(document, notes).blocks()
    except ValidationError:
        raise
    except Exception as error:
        log.warning("A Word document could not be read", exc_info=True)
        raise ValidationError(DAMAGED, code="damaged") from error


def check_is_document(document: Document) -> None:
    if getattr(document.element, "body", None) is None:  # well-formed XML, but not a document
        raise ValidationError(DAMAGED, code="damaged")


def check_tracked_changes(document: Document) -> None:
    if document.element.body.xpath(TRACKED_CHANGES):
        raise ValidationError(
            "The document has tracked changes. Accept or reject them in Word (Review › Accept/Reject), "
            "so the wording to import is settled, and upload it again.",
            code="tracked_changes",
        )


def body_elements(container: Any) -> Iterator[Any]:
    """The body's paragraphs and tables in order, including those inside content controls."""
    for child in container.iterchildren():
        if child.tag in (qn("w:p"), qn("w:tbl")):
            yield child
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from body_elements(content)


def first_value(element: Any, path: str) -> str | None:
    values = element.xpath(path)
    return str(values[0]) if values else None


def style_chain(style: ParagraphStyle | None) -> list[ParagraphStyle]:
    """A paragraph's style and the styles it is based on, nearest first (headings and lists inherit)."""
    chain: list[ParagraphStyle] = []
    while style is not None and style not in chain:
        chain.append(style)
        style = style.base_style
    return chain


def paragraph_value(paragraph: Paragraph, styles: list[ParagraphStyle], path: str) -> str | None:
    """A paragraph property set on the paragraph itself, or else inherited from its styles."""
    for element in [paragraph._p, *(style.element for style in styles)]:
        if (value := first_value(element, path)) is not None:
            return value
    return None


def letters(number: int) -> str:
    """1 → A, 26 → Z, 27 → AA, as Word letters its lists."""
    return chr(ord("A") + (number - 1) % 26) * ((number - 1) // 26 + 1)


def roman(number: int) -> str:
    numerals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC")]
    numerals += [(50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, numeral in numerals:
        count, number = divmod(number, value)
        out += numeral * count
    return out


# How Word writes a counter in each number format it offers for lists (others fall back to digits).
NUMBER_FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "lowerLetter": lambda n: letters(n).lower(),
    "upperLetter": letters,
    "lowerRoman": lambda n: roman(n).lower(),
    "upperRoman": roman,
}


@dataclass
class ListInfo:
    numbered: bool
    level: int
    number: str


class Numbering:
    """Word's list numbering: which list a paragraph is in, at which level, and its number."""

    def __init__(self, document: Document) -> None:
        self.root = document.part.numbering_part.element
        self.counters: dict[str, dict[int, int]] = {}

    def list_info(self, paragraph: Paragraph, styles: list[ParagraphStyle]) -> ListInfo | None:
        num_id = paragraph_value(paragraph, styles, NUM_ID_PATH)
        ilvl = paragraph_value(paragraph, styles, LEVEL_PATH)
        if not num_id or not num_id.isdigit() or num_id == "0":  # numId 0 is Word's "no numbering"
            return None
        level = int(ilvl) if ilvl and ilvl.isdigit() else 0
        fmt = self.level_value(num_id, level, "w:numFmt") or style_list_format(styles)
        if fmt == "none":
            return None
        offset = next((int(m.group(1)) - 1 for style in styles if (m := LIST_STYLE_RE.match(style.name or ""))), 0)
        if fmt == "bullet":
            return ListInfo(numbered=False, level=level + offset, number="")
        return ListInfo(numbered=True, level=level + offset, number=self.next_number(num_id, level))

    def level_value(self, num_id: str, level: int, child: str) -> str | None:
        """A level's setting (numFmt, lvlText, start) from the list's abstract definition."""
        abstract_id = first_value(self.root, f'./w:num[@w:numId="{num_id}"]/w:abstractNumId/@w:val')
        if abstract_id is None or not abstract_id.isdigit():
            return None
        path = f'./w:abstractNum[@w:abstractNumId="{abstract_id}"]/w:lvl[@w:ilvl="{level}"]/{child}/@w:val'
        return first_value(self.root, path)

    def start(self, num_id: str, level: int) -> int:
        path = f'./w:num[@w:numId="{num_id}"]/w:lvlOverride[@w:ilvl="{level}"]/w:startOverride/@w:val'
        override = first_value(self.root, path)
        start = override or self.level_value(num_id, level, "w:start")
        return int(start) if start and start.isdigit() else 1

    def next_number(self, num_id: str, level: int) -> str:
        counters = self.counters.setdefault(num_id, {})
        value = counters[level] + 1 if level in counters else self.start(num_id, level)
        self.counters[num_id] = {lvl: n for lvl, n in counters.items() if lvl < level} | {level: value}
        return self.label(num_id, level)

    def label(self, num_id: str, level: int) -> str:
        """The level's text ("%1.%2.", "(%1)") with each counter in its level's format, less a final dot."""
        template = self.level_value(num_id, level, "w:lvlText") or f"%{level + 1}."
        counters = self.counters[num_id]

        def counter(match: re.Match[str]) -> str:
            at = int(match.group(1)) - 1
            fmt = self.level_value(num_id, at, "w:numFmt") or "decimal"
            return NUMBER_FORMATS.get(fmt, str)(counters.get(at, 1))

        return re.sub(r"%(\d)", counter, template).strip().rstrip(".")


def style_list_format(styles: list[ParagraphStyle]) -> str:
    """A list style whose definition is missing still says what it is by its name."""
    names = " ".join((style.name or "").lower() for style in styles)
    return "bullet" if "bullet" in names else "decimal"


def is_bold(run: Run) -> bool:
    """Bold directly, or through a character style such as Strong (looked up only when the run has
    one: python-docx finds the default style by scanning them all)."""
    if run.bold is not None or run._r.style is None:
        return bool(run.bold)
    return bool(run.style.font.bold)


def bold_term(paragraph: Paragraph, text: str) -> tuple[str, str]:
    """A bold lead-in ending ":" ("**Excellence:** We are…") as the term, and the text after it."""
    lead = ""
    for content in paragraph.iter_inner_content():
        if not isinstance(content, Run) or not (is_bold(content) or not content.text.strip()):
            break
        lead += content.text
    rest = text[len(lead) :] if text.startswith(lead) else ""
    term = lead.strip()
    if rest.lstrip().startswith(":"):
        term, rest = f"{term}:", rest.lstrip()[1:]
    if not term.endswith(":") or not 1 <= len(term.split()) <= MAX_TERM_WORDS or not rest.strip():
        return "", text
    return term.rstrip(":").strip(), rest.strip()


class WordReader:
    """A document's body as blocks, with what cannot be placed noted."""

    def __init__(self, document: Document, notes: Notes) -> None:
        self.document = document
        self.notes = notes
        self.numbering = Numbering(document)
        self.style_chains: dict[str | None, list[ParagraphStyle]] = {}

    def blocks(self) -> list[Block]:
        blocks: list[Block] = []
        for element in body_elements(self.document.element.body):
            if element.tag == qn("w:tbl"):
                self.unplace_table(Table(element, self.document))
                continue
            self.unplace_text_boxes(element)
            paragraph = Paragraph(element, self.document)
            if block := self.paragraph_block(paragraph, after=blocks[-1] if blocks else None):
                blocks.append(block)
        self.note_footnotes()
        if not any(block.kind is BlockKind.TITLE for block in blocks) and self.document.core_properties.title:
            blocks.insert(0, Block(BlockKind.TITLE, self.document.core_properties.title))
        return blocks

    def paragraph_block(self, paragraph: Paragraph, after: Block | None) -> Block | None:
        text = strip_invisible(paragraph.text, self.notes)
        self.unplace_unread_text(paragraph, text)
        if is_artefact(collapse(text), self.notes):
            return None
        styles = self.styles_of(paragraph)
        kind, level = self.heading_kind(paragraph, styles, after)
        listed = self.numbering.list_info(paragraph, styles)
        if not collapse(text) and not (kind is BlockKind.HEADING and listed):
            return None  # an empty paragraph is spacing; an empty numbered heading still numbers a section
        if kind is not BlockKind.PARAGRAPH:
            return Block(kind, text, level=level, number=listed.number if listed else "")
        if listed is not None:
            term, text = bold_term(paragraph, text)
            return Block(BlockKind.ITEM, text, listed.level, listed.number, numbered=listed.numbered, term=term)
        block = typed_block(text.strip())
        if block.kind is BlockKind.PARAGRAPH and not block.number:
            block.term, block.text = bold_term(paragraph, text)
        return block

    def styles_of(self, paragraph: Paragraph) -> list[ParagraphStyle]:
        """The paragraph's style chain, once per style: looking a style up is slow in python-docx."""
        style_id = paragraph._p.style
        if style_id not in self.style_chains:
            self.style_chains[style_id] = style_chain(paragraph.style)
        return self.style_chains[style_id]

    def heading_kind(
        self, paragraph: Paragraph, styles: list[ParagraphStyle], after: Block | None
    ) -> tuple[BlockKind, int]:
        """Title (a Subtitle right after the Title is part of it), a heading and its level, or neither."""
        for style in styles:
            name = (style.name or "").lower()
            if name == "title" or (name == "subtitle" and after is not None and after.kind is BlockKind.TITLE):
                return BlockKind.TITLE, 0
            if match := HEADING_STYLE_RE.match(name):
                return BlockKind.HEADING, int(match.group(1))
        outline = paragraph_value(paragraph, styles, OUTLINE_PATH)
        if outline and outline.isdigit() and int(outline) < 9:  # 9 is Word's "body text"
            return BlockKind.HEADING, int(outline) + 1
        return BlockKind.PARAGRAPH, 0

    def unplace_table(self, table: Table) -> None:
        for row in table.rows:
            cells: list[str] = []
            for cell in row.cells:
                text = collapse(cell.text)
                if text and (not cells or cells[-1] != text):  # a merged cell repeats in each column
                    cells.append(text)
            if cells:
                self.notes.unplace(" | ".join(cells), UNPLACED_TABLE)

    def unplace_text_boxes(self, element: Any) -> None:
        seen: set[str] = set()
        for box_paragraph in element.xpath(".//w:txbxContent//w:p"):
            text = collapse("".join(box_paragraph.xpath(".//w:t/text()")))
            if text and text not in seen:  # Word stores each text box twice (drawing and fallback)
                seen.add(text)
                self.notes.unplace(text, UNPLACED_TEXT_BOX)

    def unplace_unread_text(self, paragraph: Paragraph, text: str) -> None:
        """python-docx reads a paragraph's runs and hyperlinks; text in a content control, field or
        smart tag inside it is not among them, so the paragraph's whole text is kept aside."""
        every = "".join(paragraph._p.xpath(".//w:t[not(ancestor::w:txbxContent)]/text()"))
        if len(collapse(every).replace(" ", "")) > len(collapse(text).replace(" ", "")):
            self.notes.unplace(collapse(every), UNPLACED_HIDDEN)

    def note_footnotes(self) -> None:
        references = self.document.element.body.xpath(NOTES_AND_COMMENTS)
        if references:
            self.notes.warn(
                f"The document has {len(references)} footnote, endnote or comment reference(s): "
                "footnotes, endnotes and comments are not imported. Copy any that belong in the code by hand."
            )
