"""Word documents for the importer's tests, written with python-docx the way an author writes them.

Each seed document (fixtures/sources/*.txt) becomes a .docx: headings in Heading styles, lists in
Word's list styles ("List Bullet", "List Bullet 2", "List Number", each numbered list restarted
at 1 as Word does when an author starts a new list), terms as a bold lead-in, everything else a
plain paragraph, with typed labels ("1.1", "3. Duty of care") where the source shows them typed.
Which line is which is decided here, per document, from what a reader sees in the source, in the
manner of the counting rules in test_code_transcriptions.py; the importer knows none of it.

Also small builders for bad uploads: encrypted, old .doc, macros, pictures, damaged packages.
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import docx
from docx.document import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.text.paragraph import Paragraph

SOURCES = Path(__file__).resolve().parents[2] / "fixtures" / "sources"
CODES = Path(__file__).resolve().parents[2] / "fixtures" / "codes"
CP = "challenge-partners-code-of-conduct"
STAFF = "trust-staff-code-of-conduct"
GOV = "leading-learners-governance-code"
SLUGS = [CP, STAFF, GOV]

# A Word document has bookmarks as markup, not as text: the seed's "[bookmark: …]" tags are
# traces of its conversion to text and do not belong in the document we write.
BOOKMARK_RE = re.compile(r"\[bookmark: [^\]]*\]")
BULLET_RE = re.compile(r"^[·•]\s*")
NEVER_RE = re.compile(r"^X\s+")
NUMBER_RE = re.compile(r"^\d+\.\s+")
CLAUSE_LABEL_RE = re.compile(r"^\d+\.\d+")
HEADING_NUMBER_RE = re.compile(r"^(\d+)\.\s+(.+)$")
MARKDOWN_TERM_RE = re.compile(r"^\*\*(.+?):\*\*\s*(.+)$")


@dataclass
class Para:
    style: str
    text: str
    term: str = ""  # a bold lead-in, written as "Term:" in bold before the text
    bold: bool = False
    restart: bool = False  # the first item of a numbered list that starts again at 1


def seed_text(slug: str) -> str:
    return (SOURCES / f"{slug}.txt").read_text(encoding="utf-8")


def seed_lines(slug: str) -> list[str]:
    """The seed's lines without conversion tags, stripped; blank lines kept (authors leave them)."""
    return [BOOKMARK_RE.sub("", line).strip() for line in seed_text(slug).splitlines()]


def next_text(lines: list[str], index: int) -> str:
    return next((line for line in lines[index + 1 :] if line), "")


def previous_text(lines: list[str], index: int) -> str:
    return next((line for line in reversed(lines[:index]) if line), "")


# --------------------------------------------------------------------------
# The three documents
# --------------------------------------------------------------------------


def challenge_partners() -> list[Para]:
    """A title, then paragraphs and one bulleted list whose values are a second-level list with
    a bold term each ("Excellence:")."""
    lines = [line.rstrip() for line in seed_text(CP).splitlines()]
    first = next(i for i, line in enumerate(lines) if line)
    paras = [Para("Title", lines[first])]
    for line in lines[first + 1 :]:
        if line.startswith(" - "):
            term = MARKDOWN_TERM_RE.match(line[3:])
            paras.append(
                Para("List Bullet 2", term.group(2), term=term.group(1)) if term else Para("List Bullet 2", line[3:])
            )
        elif line.startswith("- "):
            paras.append(Para("List Bullet", line[2:]))
        else:
            paras.append(Para("Normal", line.strip()))
    return paras


STAFF_HEADINGS = [
    "Our Vision",
    "Our values",
    "Statement of Intent",
    "Key Principles",
    "The importance of professional behaviour",
    "Ensuring safeguarding",
]
STAFF_SUBHEADINGS = ["Education", "Operations", "Financial"]


def trust_staff() -> list[Para]:
    """No title; named and numbered headings (the numbers typed, "3. Duty of care"); clauses
    with typed labels ("3.1 …"); numbered and bulleted lists; in Appendix 1 "Always:" and
    "Never:" lists whose sub-points are second-level bullets."""
    lines = seed_lines(STAFF)
    paras = []
    in_appendix_1 = False
    for index, line in enumerate(lines):
        heading = HEADING_NUMBER_RE.match(line)
        if line in STAFF_HEADINGS or line.startswith("Appendix"):
            in_appendix_1 = line.startswith("Appendix 1")
            paras.append(Para("Heading 1", line))
        elif line in STAFF_SUBHEADINGS:
            paras.append(Para("Heading 2", line))
        elif heading and next_text(lines, index).startswith(f"{heading.group(1)}.1"):
            paras.append(Para("Heading 1", f"{heading.group(1)}. {heading.group(2)}"))
        elif NUMBER_RE.match(line) and not CLAUSE_LABEL_RE.match(line):
            restart = not NUMBER_RE.match(previous_text(lines, index))
            paras.append(Para("List Number", NUMBER_RE.sub("", line), restart=restart))
        elif BULLET_RE.match(line) or NEVER_RE.match(line):
            text = NEVER_RE.sub("", BULLET_RE.sub("", line))
            sub_point = in_appendix_1 and not text.startswith(("…", "..."))
            paras.append(Para("List Bullet 2" if sub_point else "List Bullet", text))
        else:
            paras.append(Para("Normal", line))
    return paras


GOV_HEADINGS = [
    "Leading Learners - Core Values",
    "We will abide by the Principles of Public Life:",
    "We will focus on our core governance functions",
    "Fulfil our role & responsibilities",
    "Demonstrate our commitment to the role",
    "Build and maintain relationships",
    "Respect confidentiality",
    "Declare conflicts of interest and be transparent",
]
NOLAN_PRINCIPLES = ["Selflessness", "Integrity", "Objectivity", "Accountability", "Openness", "Honesty", "Leadership"]


def governance() -> list[Para]:
    """A title and subtitle, headings, a bulleted list of values, the Nolan principles as a bold
    word above its definition, and numbered lists (with the "*" and "Trustees:" as typed)."""
    lines = seed_lines(GOV)
    first = next(i for i, line in enumerate(lines) if line)
    paras = [Para("Title", lines[first]), Para("Subtitle", lines[first + 1])]
    in_principles = False
    for index, line in enumerate(lines[first + 2 :], start=first + 2):
        if line in GOV_HEADINGS:
            in_principles = line.startswith("We will abide")
            paras.append(Para("Heading 1", line))
        elif line.startswith("-"):
            paras.append(Para("List Bullet", line.lstrip("-").strip()))
        elif NUMBER_RE.match(line):
            restart = not NUMBER_RE.match(previous_text(lines, index))
            paras.append(Para("List Number", NUMBER_RE.sub("", line), restart=restart))
        else:
            paras.append(Para("Normal", line, bold=in_principles and line in NOLAN_PRINCIPLES))
    return paras


DOCUMENTS: dict[str, Callable[[], list[Para]]] = {CP: challenge_partners, STAFF: trust_staff, GOV: governance}


@functools.cache  # bytes, so sharing one copy between tests is safe; writing one takes 0.1-0.6 s
def seed_docx(slug: str) -> bytes:
    return docx_bytes(DOCUMENTS[slug]())


# --------------------------------------------------------------------------
# Writing .docx files
# --------------------------------------------------------------------------


def docx_bytes(paras: list[Para], document: Document | None = None) -> bytes:
    document = document or docx.Document()
    writer = _ListWriter(document)
    for para in paras:
        paragraph = document.add_paragraph(style=para.style)
        if para.term:
            paragraph.add_run(f"{para.term}:").bold = True
            paragraph.add_run(f" {para.text}")
        else:
            paragraph.add_run(para.text).bold = para.bold or None
        if para.style == "List Number":
            writer.number(paragraph, restart=para.restart)
    return saved(document)


def saved(document: Document) -> bytes:
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


class _ListWriter:
    """Numbered lists restarted at 1, as Word writes them: a new list instance (w:num) of the
    List Number style's definition, with a start override, for each new list."""

    def __init__(self, document: Document) -> None:
        self.numbering = document.part.numbering_part.element
        style_num = document.styles["List Number"].element.xpath("./w:pPr/w:numPr/w:numId/@w:val")[0]
        self.abstract_id = self.numbering.num_having_numId(int(style_num)).abstractNumId.val
        self.num_id: int | None = None

    def number(self, paragraph: Paragraph, *, restart: bool) -> None:
        if restart or self.num_id is None:
            num = self.numbering.add_num(self.abstract_id)
            num.add_lvlOverride(ilvl=0).add_startOverride(1)
            self.num_id = num.numId
        set_numbering(paragraph, self.num_id, 0)


def set_numbering(paragraph: Paragraph, num_id: int, level: int) -> None:
    """Put a paragraph in list ``num_id`` at ``level`` (python-docx has no public call for this)."""
    paragraph._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>')
    )


def add_multilevel_list(document: Document, formats: list[tuple[str, str]]) -> int:
    """A multi-level list definition, e.g. [("decimal", "%1."), ("decimal", "%1.%2")]; returns its numId."""
    numbering = document.part.numbering_part.element
    abstract_id = 90 + len(numbering.xpath("./w:abstractNum"))
    levels = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{text}"/></w:lvl>'
        for i, (fmt, text) in enumerate(formats)
    )
    abstract = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">{levels}</w:abstractNum>')
    numbering.insert(0, abstract)  # abstract definitions come before the list instances
    return numbering.add_num(abstract_id).numId


# --------------------------------------------------------------------------
# Bad uploads
# --------------------------------------------------------------------------


def simple_docx(*texts: str) -> bytes:
    return docx_bytes([Para("Normal", text) for text in texts])


def zip_members(data: bytes) -> Iterator[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(BytesIO(data)) as package:
        for member in package.infolist():
            yield member, package.read(member)


def rezip(
    data: bytes, *, drop: str = "", add: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None
) -> bytes:
    """A copy of a .docx package with a part dropped, added or replaced."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for member, content in zip_members(data):
            if member.filename != drop:
                package.writestr(member.filename, (replace or {}).get(member.filename, content))
        for name, content in (add or {}).items():
            package.writestr(name, content)
    return buffer.getvalue()


def compound_file(stream_name: str) -> bytes:
    """The start of an OLE compound file naming one stream, as an encrypted .docx ("EncryptedPackage")
    or an old .doc ("WordDocument") does: enough for the importer to tell them apart."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504)
    directory = stream_name.encode("utf-16-le").ljust(64, b"\0") + bytes(64)
    return header + directory + bytes(1024)
