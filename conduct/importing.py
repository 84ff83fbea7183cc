"""From an imported document to a draft: the review a drafter corrects, and the services that save it.

``conduct.importer`` reads a Word document or pasted text into an ``ImportProposal``; nothing is
saved then. Until the drafter confirms, the proposal lives in an ``ImportReview``, which also keeps
the document's text as read beside each clause (so the preview can show what each clause was made
from) and counts the corrections made (so a correction sent from a page that is out of date, say
another tab, is refused rather than applied to whichever clause now has that place).

Corrections (merge a clause into the one before it, split one, limit it to roles, mark it new)
change only the review. Two services save it, each permission-checked and in one transaction:
``code_create_from_import`` (a new code and its first draft) and ``draft_replace_from_import``
(the whole text of an existing draft, revision-checked like every draft edit). Both apply the
limits (``conduct.limits``, as the importer checks them) and check each clause as the editor does
(``ClauseContent.cleaned``), so imported text obeys the same rules as typed text.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from conduct import drafting, limits
from conduct.audit import audit_log_record
from conduct.drafting import ClauseContent, CodeDetails
from conduct.importer import ImportProposal, code_import_docx, code_import_text
from conduct.importer.blocks import Block, BlockKind
from conduct.importer.checks import MAX_PROBLEMS_SHOWN, count_problems, length_problems, snippet, too_long
from conduct.importer.cleaning import collapse
from conduct.importer.proposal import Notes
from conduct.importer.text import line_block
from conduct.importer.word import read_blocks
from conduct.models import (
    AuditAction,
    Clause,
    ClauseStyle,
    Code,
    CodeVersion,
    Organisation,
    Person,
    Section,
    role_label_plural,
)
from conduct.permissions import can_draft_code, owners_for_new_code

PASTED_TEXT = "Pasted text"
# How far ahead of the last matched line a clause's source is looked for. The importer never
# reorders text, it only passes over lines (the title, tables, artefacts, a term's own line).
LOOKAHEAD_LINES = 40


# ---------------------------------------------------------------------------
# The document's text as read, to show beside each clause
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadLine:
    shown: str  # the line as the reader read it, with its list marker or label
    key: str  # its words, to match with a clause: no marker, no asterisks, case folded


def match_key(text: str) -> str:
    return collapse(text.replace("*", "")).casefold()


def _shown(block: Block) -> str:
    """A Word paragraph as read: its list number or bullet, its bold lead-in and its text."""
    if block.kind is BlockKind.ITEM:
        marker = f"{block.number}." if block.numbered and block.number else "•"
    else:
        marker = block.number
    lead = f"{block.term}: " if block.term else ""
    return " ".join(part for part in (marker, lead + collapse(block.text)) if part)


def lines_from_docx(data: bytes) -> list[ReadLine]:
    """The paragraphs of a document the importer has accepted, as its Word reader reads them.

    Read a second time (0.1 s for the staff code): the importer hands back only its proposal."""
    return [ReadLine(_shown(block), match_key(block.text)) for block in read_blocks(data, Notes())]


def lines_from_text(text: str) -> list[ReadLine]:
    """Pasted lines as typed, matched on the words the text reader finds in them."""
    lines = []
    for line in text.splitlines():
        if (block := line_block(line, Notes())) is not None:
            lines.append(ReadLine(collapse(line), match_key(block.text)))
    return lines


class _Matcher:
    """Finds, in document order, the line each heading and clause was read from."""

    def __init__(self, lines: list[ReadLine]) -> None:
        self.lines = lines
        self.next = 0

    def find(self, text: str, *, term: str = "") -> str:
        key = match_key(text)
        ahead = range(self.next, min(len(self.lines), self.next + LOOKAHEAD_LINES))
        # Most clauses are a line's words exactly; a role lead-in ("Trustees:") or a heading's
        # typed number makes one hold the other.
        found = next((i for i in ahead if self.lines[i].key == key), None)
        if found is None and key:
            found = next((i for i in ahead if key in self.lines[i].key or self.lines[i].key in key), None)
        if found is None:
            return ""
        shown = [self.lines[found].shown]
        if term and found > self.next and self.lines[found - 1].key == match_key(term):
            shown.insert(0, self.lines[found - 1].shown)  # a term on its own line, then its definition
        self.next = found + 1
        return "\n".join(shown)


# ---------------------------------------------------------------------------
# The review
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewedClause:
    section: int  # places counted from 1, as the pages name them
    position: int
    clause: dict[str, Any]
    read: str

    @property
    def style_label(self) -> str:
        style = self.clause["style"]
        return ClauseStyle(style).label if style in ClauseStyle.values else style

    @property
    def role_names(self) -> list[str]:
        return [role_label_plural(kind) for kind in self.clause["roles"]]


@dataclass(frozen=True)
class ReviewedSection:
    position: int
    number: str
    title: str
    read: str
    clauses: list[ReviewedClause]


@dataclass
class ImportReview:
    """A proposal being checked: where each heading and clause was read from, and the corrections so far.

    ``headings_read[s]`` and ``clauses_read[s][c]`` are the document's lines behind section ``s`` and
    its clause ``c`` ("" where no line matched), kept in step with the proposal by every correction.
    """

    proposal: ImportProposal
    source: str  # the file's name, or "Pasted text"
    headings_read: list[str]
    clauses_read: list[list[str]]
    changes: int = 0

    def rows(self) -> list[ReviewedSection]:
        return [
            ReviewedSection(
                position=s,
                number=section["number"],
                title=section["title"],
                read=self.headings_read[s - 1],
                clauses=[
                    ReviewedClause(section=s, position=c, clause=clause, read=self.clauses_read[s - 1][c - 1])
                    for c, clause in enumerate(section["clauses"], start=1)
                ],
            )
            for s, section in enumerate(self.proposal.sections, start=1)
        ]

    def clause_at(self, section: int, position: int) -> ReviewedClause | None:
        """The clause at a place counted from 1, or None if there is none."""
        if not 1 <= section <= len(self.proposal.sections):
            return None
        clauses = self.proposal.sections[section - 1]["clauses"]
        if not 1 <= position <= len(clauses):
            return None
        return ReviewedClause(section, position, clauses[position - 1], self.clauses_read[section - 1][position - 1])

    def as_data(self) -> dict[str, Any]:
        """JSON-ready, for the session."""
        proposal = self.proposal
        return {
            "title": proposal.title,
            "sections": proposal.sections,
            "unplaced": proposal.unplaced,
            "warnings": proposal.warnings,
            "source": self.source,
            "headings_read": self.headings_read,
            "clauses_read": self.clauses_read,
            "changes": self.changes,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ImportReview:
        """The review ``as_data`` stored; a KeyError or TypeError if the data is not one."""
        proposal = ImportProposal(
            title=data["title"], sections=data["sections"], unplaced=data["unplaced"], warnings=data["warnings"]
        )
        review = cls(proposal, data["source"], data["headings_read"], data["clauses_read"], int(data["changes"]))
        if len(review.headings_read) != len(proposal.sections) or [len(s["clauses"]) for s in proposal.sections] != [
            len(read) for read in review.clauses_read
        ]:
            raise TypeError("The stored review's lines are not in step with its sections.")
        return review


def review_from_proposal(proposal: ImportProposal, *, lines: list[ReadLine], source: str) -> ImportReview:
    matcher = _Matcher(lines)
    headings_read: list[str] = []
    clauses_read: list[list[str]] = []
    for section in proposal.sections:
        headings_read.append(matcher.find(section["title"]) if section["title"] else "")
        clauses_read.append([matcher.find(clause["text"], term=clause["term"]) for clause in section["clauses"]])
    return ImportReview(proposal, source, headings_read, clauses_read)


def review_from_docx(data: bytes, *, name: str) -> ImportReview:
    """Read a .docx upload for review; the importer's ValidationError if it cannot be imported."""
    return review_from_proposal(code_import_docx(data), lines=lines_from_docx(data), source=name)


def review_from_text(text: str) -> ImportReview:
    """Read pasted text for review; the importer's ValidationError if it cannot be imported."""
    return review_from_proposal(code_import_text(text), lines=lines_from_text(text), source=PASTED_TEXT)


# ---------------------------------------------------------------------------
# Corrections, before anything is saved
# ---------------------------------------------------------------------------


class ReviewChanged(ValidationError):
    """The review was corrected (in another tab or window) after the page sending this correction was shown."""


def _check_changes(review: ImportReview, changes: int) -> None:
    if changes != review.changes:
        raise ReviewChanged(
            "The preview was corrected in another tab or window after this page was shown, so this correction "
            "was not made. Check the clause as it is now and make the correction again."
        )


def _clauses(review: ImportReview, section: int) -> tuple[list[dict[str, Any]], list[str]]:
    return review.proposal.sections[section - 1]["clauses"], review.clauses_read[section - 1]


def review_clause_merge(*, review: ImportReview, section: int, position: int, changes: int) -> None:
    """Join a clause to the one before it (text the importer read as two): the joined clause keeps the
    earlier one's number, style, indent, lead-in and roles, and is new if either part was."""
    _check_changes(review, changes)
    clauses, read = _clauses(review, section)
    if position == 1:
        raise ValidationError("This is the first clause of its section: there is no clause before it to merge into.")
    earlier, later = clauses[position - 2], clauses[position - 1]
    lead = f"{later['term']}: " if later["term"] else ""
    text = f"{earlier['text']} {lead}{later['text']}"
    if problem := too_long("Merged, the clause", text, limits.MAX_CLAUSE_TEXT_CHARS):
        raise ValidationError(problem)
    earlier["text"], earlier["new"] = text, bool(earlier["new"] or later["new"])
    read[position - 2] = "\n".join(line for line in dict.fromkeys([read[position - 2], read[position - 1]]) if line)
    del clauses[position - 1], read[position - 1]
    review.changes += 1


def review_clause_split(*, review: ImportReview, section: int, position: int, before: str, changes: int) -> None:
    """Split a clause where ``before`` starts (two statements the importer read as one). The second
    part is a new clause with the same style, indent, roles and marking, and no number or lead-in
    of its own (so a numbered clause's second part is a paragraph)."""
    _check_changes(review, changes)
    clauses, read = _clauses(review, section)
    clause = clauses[position - 1]
    words, text = collapse(before), clause["text"]
    if not words:
        raise ValidationError({"before": "Type the words the second clause starts with."})
    starts = _occurrences(text, words)
    if not starts:
        raise ValidationError(
            {"before": f"{snippet(words)} is not in this clause. Copy the words exactly as the clause has them."}
        )
    if len(starts) > 1:
        raise ValidationError(
            {"before": f"{snippet(words)} is in this clause {len(starts)} times: type more words, to say which."}
        )
    if starts[0] == 0:
        raise ValidationError({"before": "The clause already starts with these words: choose words further in."})
    first, second = text[: starts[0]].strip(), text[starts[0] :].strip()
    style = ClauseStyle.PARAGRAPH.value if clause["style"] == ClauseStyle.NUMBERED else clause["style"]
    clause["text"] = first
    clauses.insert(
        position, {**clause, "number": "", "term": "", "style": style, "text": second, "roles": [*clause["roles"]]}
    )
    read.insert(position, read[position - 1])
    review.changes += 1


def _occurrences(text: str, words: str) -> list[int]:
    """Where ``words`` (not empty) start in ``text``."""
    found: list[int] = []
    at = text.find(words)
    while at != -1:
        found.append(at)
        at = text.find(words, at + 1)
    return found


def review_clause_mark(
    *,
    review: ImportReview,
    section: int,
    position: int,
    roles: list[str],
    new: bool,
    audience: Collection[str],
    changes: int,
) -> None:
    """Limit a clause to some of the roles that sign the code (none: it applies to everyone who signs),
    and mark it new or updated in this version, or not."""
    _check_changes(review, changes)
    outside = [kind for kind in roles if kind not in audience]
    if outside:
        names = ", ".join(role_label_plural(kind) for kind in outside)
        raise ValidationError(
            {"roles": f"{names} do not sign this code: a clause can only be limited to roles that do."}
        )
    clause = _clauses(review, section)[0][position - 1]
    clause["roles"], clause["new"] = sorted(dict.fromkeys(roles)), bool(new)
    review.changes += 1


# ---------------------------------------------------------------------------
# Saving: a new code's first draft, or a draft's whole text
# ---------------------------------------------------------------------------


def _refuse(problems: list[str]) -> None:
    if len(problems) > MAX_PROBLEMS_SHOWN:
        problems = [*problems[:MAX_PROBLEMS_SHOWN], f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more."]
    if problems:
        raise ValidationError([ValidationError(problem, code="invalid") for problem in problems])


def _rows(proposal: ImportProposal, code: Code) -> list[tuple[Section, list[Clause]]]:
    """Unsaved sections and clauses for ``code``, or every problem at once: over the limits (as the
    importer counts them), or a clause the editor would refuse (roles outside the code's audience…)."""
    problems = count_problems(proposal) + length_problems(proposal)
    if not proposal.clauses:
        problems.append("There is no clause to save.")
    rows = []
    for s, data in enumerate(proposal.sections, start=1):
        number, title = collapse(data["number"]), collapse(data["title"])
        if len(number) > limits.MAX_NUMBER_CHARS:
            problems.append(
                f"Section {s}'s number {snippet(number)} is longer than {limits.MAX_NUMBER_CHARS} characters."
            )
        clauses = []
        for c, clause in enumerate(data["clauses"], start=1):
            content = ClauseContent(
                text=clause["text"],
                number=clause["number"],
                term=clause["term"],
                style=clause["style"],
                depth=clause["depth"],
                roles=tuple(clause["roles"]),
                is_new=bool(clause["new"]),
            )
            try:
                clauses.append(Clause(position=c, **content.cleaned(code)))
            except ValidationError as error:
                where = f"Section {s}, clause {c} ({snippet(clause['text'])})"
                problems.extend(f"{where}: {message}" for message in error.messages)
        rows.append((Section(position=s, number=number, title=title), clauses))
    _refuse(problems)
    return rows


def _save_rows(version: CodeVersion, rows: list[tuple[Section, list[Clause]]]) -> None:
    for section, _clauses_of in rows:
        section.version = version
    Section.objects.bulk_create([section for section, _clauses_of in rows])
    for section, clauses in rows:
        for clause in clauses:
            clause.section = section
    Clause.objects.bulk_create([clause for _section, clauses in rows for clause in clauses])


@transaction.atomic
def code_create_from_import(
    *, owner: Organisation, details: CodeDetails, proposal: ImportProposal, created_by: Person, label: str
) -> CodeVersion:
    """A new code owned by ``owner`` whose first draft holds the proposal's text. Returns the draft.

    The code is created as on the new-code page; if the text is then refused (a clause limited to a
    role outside the audience chosen), the transaction takes the code back with it."""
    if not owners_for_new_code(created_by).filter(pk=owner.pk).exists():
        raise PermissionDenied(f"You cannot create codes for {owner.name}.")
    draft = drafting.code_create(owner=owner, details=details, created_by=created_by, label=label)
    rows = _rows(proposal, draft.code)
    _save_rows(draft, rows)
    _audit_import(draft, by=created_by, rows=rows, replaced=False)
    return draft


def _audit_import(draft: CodeVersion, *, by: Person, rows: list, replaced: bool) -> None:
    sections, clauses = len(rows), sum(len(clauses) for _section, clauses in rows)
    audit_log_record(
        actor=by,
        action=AuditAction.DRAFT_IMPORTED,
        organisation=draft.code.owner,
        target=draft,
        summary=f"{'Replaced the text of' if replaced else 'Imported the text of'} the draft {draft.label} of "
        f"{draft.code.title} from a document ({sections} sections, {clauses} clauses).",
        details={"before": None, "after": {"version_id": draft.pk, "sections": sections, "clauses": clauses}},
    )


@transaction.atomic
def draft_replace_from_import(
    *, version: CodeVersion, revision: int, proposal: ImportProposal, by: Person
) -> CodeVersion:
    """Replace every section and clause of a draft with the proposal's text. Returns the draft.

    Revision-checked like every draft edit: if anyone saved a change to the draft after the import
    started from ``revision``, nothing is replaced (``DraftConflict``)."""
    if not can_draft_code(by, version.code):
        raise PermissionDenied(f"You cannot draft {version.code.title}.")
    rows = _rows(proposal, version.code)
    # drafting's public revision-checked edit, with the label unchanged: it only claims the next
    # revision, refusing a stale one (DraftConflict) or a version that is no longer a draft.
    version = drafting.draft_update(version=version, revision=revision, label=version.label, by=by)
    Clause.objects.filter(section__version=version).delete()
    Section.objects.filter(version=version).delete()
    _save_rows(version, rows)
    _audit_import(version, by=by, rows=rows, replaced=True)
    return version
