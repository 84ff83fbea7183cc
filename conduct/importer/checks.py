"""The limits (conduct.limits) applied to a proposal: text over them is refused, with reasons."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from conduct import limits
from conduct.importer.proposal import ImportProposal, Notes

# Enough problems to show what is wrong without burying the first one.
MAX_PROBLEMS_SHOWN = 10


def snippet(text: str) -> str:
    return f"“{text[:50]}…”" if len(text) > 50 else f"“{text}”"


def too_long(what: str, text: str, limit: int) -> str | None:
    if len(text) <= limit:
        return None
    return f"{what} {snippet(text)} is {len(text):,} characters long; the limit is {limit:,}."


def count_problems(proposal: ImportProposal) -> list[str]:
    clauses = proposal.clauses
    total = sum(len(clause["text"]) for clause in clauses)
    problems = [
        (len(proposal.sections), limits.MAX_SECTIONS_PER_VERSION, "sections"),
        (len(clauses), limits.MAX_CLAUSES_PER_VERSION, "clauses"),
        (total, limits.MAX_VERSION_TEXT_CHARS, "characters of clause text"),
    ]
    return [
        f"The document has {count:,} {what}; the limit is {limit:,}."
        for count, limit, what in problems
        if count > limit
    ]


def length_problems(proposal: ImportProposal) -> list[str]:
    found = [too_long("The heading", section["title"], limits.MAX_SECTION_TITLE_CHARS) for section in proposal.sections]
    for clause in proposal.clauses:
        found.append(too_long("The clause", clause["text"], limits.MAX_CLAUSE_TEXT_CHARS))
        found.append(too_long("The term", clause["term"], limits.MAX_TERM_CHARS))
        found.append(too_long("The clause number", clause["number"], limits.MAX_NUMBER_CHARS))
    return [problem for problem in found if problem]


def check_limits(proposal: ImportProposal, notes: Notes) -> None:
    """Refuse text over the limits (a clause cut short would change what people sign); a title
    that is too long is only a suggestion, so it is left for the person to shorten."""
    if len(proposal.title) > limits.MAX_SECTION_TITLE_CHARS:
        notes.unplace(proposal.title, "The title is too long to suggest; it is listed as unplaced text.")
        proposal.title = ""
    problems = count_problems(proposal) + length_problems(proposal)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        problems = [*problems[:MAX_PROBLEMS_SHOWN], f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more."]
    if problems:
        raise ValidationError([ValidationError(problem, code="too_long") for problem in problems])
