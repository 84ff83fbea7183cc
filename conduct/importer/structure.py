"""From blocks to sections and clauses: the rules a person applies when transcribing a code.

Both readers end here, so a rule (what makes a subheading, how deep a list sits, what "*" means)
is written once. The rules, in the order they apply:

- the leading Title blocks are the code's title; the top heading level starts sections, and a
  deeper heading is a subheading clause;
- "3. Duty of care" followed by a clause labelled "3.1" is section 3's heading; so is a line
  starting "Appendix 2" (or Annex, Schedule); a clause labelled "21.1" in section 20 starts an
  untitled section 21 (the staff code's section 21 has no heading line);
- a list hangs one level below the clause that leads into it (a list opening a section is at
  depth 0); under "Always:" or "Never:" its items take that style;
- a paragraph ending ":" right before a heading, or of at most two words, is a subheading; a
  paragraph of one or two words followed by a sentence is a term and its definition;
- a leading "*" marks a statement new or updated (and is removed); an "*" inside the text marks
  it too (and is kept, as the author placed it); the footnote explaining the marker ("*New
  statements added or updated…") is end matter and starts an untitled closing section;
- "Trustees:" or "Those governing at local level:" limits a statement to that role (the prefix
  stays in the text, as readers see it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from conduct.drafting import MAX_DEPTH
from conduct.importer.blocks import Block, BlockKind
from conduct.importer.checks import check_limits
from conduct.importer.cleaning import collapse
from conduct.importer.proposal import ImportProposal, Notes
from conduct.models import ClauseStyle, RoleKind

ROLE_PREFIXES = {
    "trustee": RoleKind.TRUSTEE,
    "trustees": RoleKind.TRUSTEE,
    "those governing at local level": RoleKind.LOCAL_GOVERNOR,
    "local governor": RoleKind.LOCAL_GOVERNOR,
    "local governors": RoleKind.LOCAL_GOVERNOR,
}
ROLE_RE = re.compile(r"^(" + "|".join(ROLE_PREFIXES) + r")\s*:", re.IGNORECASE)
ALWAYS_NEVER_RE = re.compile(r"^(always|never)\s*:?$", re.IGNORECASE)
# The footnote that explains the marker: "*New statements added or updated in August 2023."
LEGEND_RE = re.compile(r"^\*\s*(?:new|updated|amended|revised)\b.*\b(?:added|updated|amended|revised|changed)\b", re.I)
# An asterisk starting a word inside the text: "…ongoing basis. *We will participate…".
INLINE_NEW_RE = re.compile(r"\S\s+\*\w")
APPENDIX_RE = re.compile(r"^(?:appendix|annex|schedule)\s+\w+", re.IGNORECASE)
# A heading's typed number: "1. Introduction", "3.\tSafeguarding" (a tab or a dot is needed, so
# "2024 - 2025 plans" keeps its year).
HEADING_LABEL_RE = re.compile(r"^(\d{1,3})(?:\.\s*|\t\s*)(?=\S)")
ELLIPSES = ("…", "...")
NO_HEADINGS = "No headings were found, so the whole text is one section."
SENTENCE_ENDS = (".", "!", "?")
CLAUSE_ENDS = (*SENTENCE_ENDS, ";", ",")
# A term on a line of its own is a name: "Selflessness", "Courageous Leadership".
MAX_TERM_LINE_WORDS = 2


@dataclass
class _Marks:
    """What the text itself says about a statement: new or updated, and for whom."""

    text: str
    new: bool = False
    roles: list[str] = field(default_factory=list)


def read_marks(text: str) -> _Marks:
    new = text.startswith("*") or bool(INLINE_NEW_RE.search(text))
    if text.startswith("*"):
        text = text[1:].lstrip()
    role = ROLE_RE.match(text)
    roles = [str(ROLE_PREFIXES[role.group(1).lower()])] if role else []
    return _Marks(text=text, new=new, roles=roles)


def is_legend(text: str) -> bool:
    return bool(LEGEND_RE.match(text))


@dataclass
class _List:
    """A run of list items: how deep it hangs, its style, and its typed numbering."""

    base: int
    mode: ClauseStyle | None  # ALWAYS or NEVER under an "Always:"/"Never:" subheading
    counters: dict[int, int] = field(default_factory=dict)
    printed: list[str] = field(default_factory=list)
    renumbered: bool = False
    first_text: str = ""
    ellipses: bool | None = None  # whether an Always/Never list's items continue the stem with "…"
    parent_open: bool = False  # the last such item ended with ":", so plain items below it are its points

    def level_for(self, block: Block, text: str) -> int:
        """The item's level; in an "Always …" list whose items start "…", an item without the
        ellipsis after one ending ":" is a point under that item (plain text cannot indent it)."""
        if self.mode is None or block.level != 0:
            return block.level
        continues_stem = text.startswith(ELLIPSES)
        if self.ellipses is None:
            self.ellipses = continues_stem
        if continues_stem or not self.ellipses:
            self.parent_open = text.endswith(":")
            return 0
        return 1 if self.parent_open else 0

    def number_for(self, block: Block, level: int) -> str:
        """Word's own number, or the next in sequence for a typed one (typed numbers reset by a
        conversion to text, "1. 1. 1." or "0.", are renumbered, and the review is told)."""
        if not block.typed_number or not block.number.isdigit():
            return block.number
        printed = int(block.number)
        number = self.counters[level] + 1 if level in self.counters else max(printed, 1)
        self.counters = {lvl: n for lvl, n in self.counters.items() if lvl < level} | {level: number}
        self.printed.append(f"{block.number}.")
        self.renumbered |= number != printed
        return str(number)


class _Builder:
    """Sections and clauses, built block by block."""

    def __init__(self, top_level: int, notes: Notes) -> None:
        self.top_level = top_level
        self.notes = notes
        self.sections: list[dict[str, Any]] = [{"number": "", "title": "", "clauses": []}]
        self.list: _List | None = None
        self.mode: ClauseStyle | None = None

    @property
    def clauses(self) -> list[dict[str, Any]]:
        return self.sections[-1]["clauses"]

    def add_all(self, blocks: list[Block]) -> None:
        index = 0
        while index < len(blocks):
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            index += self.add(blocks[index], following)
        self.end_list()

    def add(self, block: Block, following: Block | None) -> int:
        """Place one block; returns how many blocks it used (a term takes its definition too)."""
        text = collapse(block.text)
        is_heading = block.kind in (BlockKind.HEADING, BlockKind.TITLE)
        if not text and not (is_heading and block.number):
            return 1  # only a marker ("1.", "*"): nothing to place
        if is_heading and block.level <= self.top_level:
            self.start_section(*split_heading(block, text))
        elif is_heading:
            self.add_clause(read_marks(text), ClauseStyle.SUBHEADING)
        elif block.kind is BlockKind.ITEM:
            self.add_item(block, read_marks(text))
        elif block.number:
            self.add_labelled(block, read_marks(text))
        elif is_legend(text):
            self.start_section("", "", keep_empty=False)
            self.add_clause(_Marks(text), ClauseStyle.PARAGRAPH)
        elif is_term_line(block, text, following):
            assert following is not None  # is_term_line checked it
            self.add_clause(read_marks(collapse(following.text)), ClauseStyle.PARAGRAPH, term=text)
            return 2
        else:
            style = ClauseStyle.SUBHEADING if self.is_subheading(text, following) else ClauseStyle.PARAGRAPH
            self.add_clause(read_marks(text), style, term=block.term)
        return 1

    def start_section(self, number: str, title: str, *, keep_empty: bool = True) -> None:
        """A new section; the opening untitled one is replaced if nothing was placed in it."""
        self.end_list()
        current = self.sections[-1]
        if not current["clauses"] and not current["title"] and not current["number"]:
            self.sections.pop()
        elif not keep_empty and not current["clauses"]:
            return
        self.sections.append({"number": number, "title": title, "clauses": []})

    def add_clause(
        self, marks: _Marks, style: ClauseStyle, *, number: str = "", depth: int = 0, term: str = ""
    ) -> None:
        self.end_list()
        self.append(marks, style, number=number, depth=depth, term=term)
        always_never = ALWAYS_NEVER_RE.match(marks.text)
        self.mode = ClauseStyle(always_never.group(1).lower()) if always_never else None

    def add_labelled(self, block: Block, marks: _Marks) -> None:
        """A clause with a typed label: "21.1" outside section 21 starts (untitled) section 21."""
        major = block.number.split(".")[0]
        current = self.sections[-1]["number"]
        if current and current != major:
            self.start_section(major, "")
        self.add_clause(marks, ClauseStyle.NUMBERED, number=block.number, depth=block.number.count(".") - 1)

    def add_item(self, block: Block, marks: _Marks) -> None:
        if self.list is None:
            base = self.clauses[-1]["depth"] + 1 if self.clauses else 0
            self.list = _List(base=base, mode=self.mode, first_text=marks.text)
        level = self.list.level_for(block, marks.text)
        if self.list.mode is not None and level == 0:
            style = self.list.mode
        else:
            style = ClauseStyle.NUMBERED if block.numbered else ClauseStyle.BULLET
        number = self.list.number_for(block, level) if style is ClauseStyle.NUMBERED else ""
        self.append(marks, style, number=number, depth=self.list.base + level, term=block.term)

    def append(self, marks: _Marks, style: ClauseStyle, *, number: str, depth: int, term: str) -> None:
        """Add the clause; depth never jumps more than one level below the clause before it."""
        previous = self.clauses[-1]["depth"] if self.clauses else -1
        term, text = term_and_text(term, marks.text)
        if not text:
            return  # only markers ("1.1 *"): no words to place
        self.clauses.append(
            {
                "number": number,
                "style": str(style),
                "depth": max(0, min(depth, previous + 1, MAX_DEPTH)),
                "term": term,
                "text": text,
                "roles": marks.roles or read_marks(text).roles,
                "new": marks.new,
            }
        )

    def end_list(self) -> None:
        if self.list is not None and self.list.renumbered:
            self.notes.warn(
                f"The numbered list starting “{self.list.first_text[:60]}” was printed as "
                f"{' '.join(self.list.printed[:6])}{' …' if len(self.list.printed) > 6 else ''}: it is numbered "
                "1, 2, 3… here (text copied out of Word often loses its list numbers)."
            )
        self.list = None

    def is_subheading(self, text: str, following: Block | None) -> bool:
        """A lead-in with nothing of its own to lead into ("As individuals, we agree to:" right
        before a heading), or a short label ("Education", "We are:", "Always:")."""
        if text.endswith(":") and following is not None and following.kind is BlockKind.HEADING:
            return following.level <= self.top_level
        return len(text.split()) <= 2 and not text.endswith(CLAUSE_ENDS)


def term_and_text(term: str, text: str) -> tuple[str, str]:
    """A bold "Trustees:" is the role prefix, not a term: it goes back into the text."""
    term = term.strip().rstrip(":").strip()
    if term and ROLE_RE.match(f"{term}:"):
        return "", f"{term}: {text}"
    return term, text


def is_term_line(block: Block, text: str, following: Block | None) -> bool:
    """A term on its own line, then its definition: "Selflessness", "We will act solely in terms of…"."""
    if block.term or following is None or following.kind is not BlockKind.PARAGRAPH:
        return False
    if following.number or following.term or is_legend(collapse(following.text)):
        return False
    words = text.split()
    if not 1 <= len(words) <= MAX_TERM_LINE_WORDS or text.endswith((*CLAUSE_ENDS, ":")) or ALWAYS_NEVER_RE.match(text):
        return False
    definition = collapse(following.text)
    return text[0].isupper() and definition.endswith(SENTENCE_ENDS) and len(definition.split()) > 3


def split_heading(block: Block, text: str) -> tuple[str, str]:
    """A heading's number and title: Word's numbering, or a number typed before the title."""
    if block.number:
        return block.number, text
    if match := HEADING_LABEL_RE.match(text):
        return match.group(1), text[match.end() :]
    return "", text


def promote_headings(blocks: list[Block], top_level: int) -> list[Block]:
    """Headings that the formatting did not mark: "3. Duty of care" before "3.1 …", and "Appendix 1 …"."""
    promoted = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        text = collapse(block.text)
        numbered_heading = (
            block.kind is BlockKind.ITEM
            and block.number.isdigit()
            and following is not None
            and following.kind is BlockKind.PARAGRAPH
            and following.number.startswith(f"{block.number}.")
        )
        appendix = (
            block.kind is BlockKind.PARAGRAPH
            and not block.number
            and bool(APPENDIX_RE.match(text))
            and len(text.split()) <= 15
            and not text.endswith(SENTENCE_ENDS)
        )
        if numbered_heading or appendix:
            block = Block(BlockKind.HEADING, block.text, level=top_level, number=block.number)
        promoted.append(block)
    return promoted


def split_title(blocks: list[Block]) -> tuple[str, list[Block]]:
    """The leading Title blocks name the code; a Title block further on is read as a heading."""
    count = 0
    while count < len(blocks) and blocks[count].kind is BlockKind.TITLE:
        count += 1
    title = collapse(" ".join(block.text for block in blocks[:count]))
    return title, blocks[count:]


def top_heading_level(blocks: list[Block]) -> int:
    return min((block.level for block in blocks if block.kind is BlockKind.HEADING), default=1)


def build_proposal(blocks: list[Block], notes: Notes, *, heading_hint: str) -> ImportProposal:
    """Sections and clauses from a document's blocks, checked against the limits; ``heading_hint``
    tells the person how headings are marked in this kind of source, should none be found."""
    title, body = split_title(blocks)
    top_level = top_heading_level(body)
    body = promote_headings(body, top_level)
    if not any(block.kind is BlockKind.HEADING for block in body):
        notes.warn(f"{NO_HEADINGS} {heading_hint}")
    builder = _Builder(top_level, notes)
    builder.add_all(body)
    sections = [section for section in builder.sections if section["clauses"] or section["title"] or section["number"]]
    if not any(section["clauses"] for section in sections):
        raise ValidationError("No text to import was found in the document.", code="empty")
    proposal = ImportProposal(title=title, sections=sections, unplaced=notes.unplaced, warnings=notes.all_warnings())
    check_limits(proposal, notes)
    proposal.warnings = notes.all_warnings()
    return proposal
