"""What an import hands back, and the notes gathered on the way."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ImportProposal:
    """A code's content as read from a document, for a person to review before it becomes a draft.

    ``sections`` is exactly the fixture format (``{"number", "title", "clauses": [{"number",
    "style", "depth", "term", "text", "roles", "new"}]}``) so it can go straight into
    ``version_create_from_content``. ``unplaced`` holds text the importer read but could not
    place as a clause (a table, a text box): it is shown, never silently dropped.
    """

    title: str
    sections: list[dict[str, Any]]
    unplaced: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def clauses(self) -> list[dict[str, Any]]:
        return [clause for section in self.sections for clause in section["clauses"]]


# How each kind of conversion artefact is described to the person reviewing the import.
ARTEFACT_LABELS = {
    "bookmark": "bookmark tags such as “[bookmark: _Hlk…]”",
    "page_link": "page links such as “top of page”",
    "image_name": "picture file names",
    "separator": "separator lines made only of symbols",
}


@dataclass
class Notes:
    """Warnings, unplaced text and dropped artefacts collected while reading one document."""

    warnings: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    artefacts: Counter[str] = field(default_factory=Counter)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def unplace(self, text: str, why: str) -> None:
        """Keep text that has no place as a clause, and say once why such text is listed."""
        self.unplaced.append(text)
        self.warn(why)

    def all_warnings(self) -> list[str]:
        """The warnings, with one summary of the artefacts left out (so nothing goes unmentioned)."""
        if not self.artefacts:
            return list(self.warnings)
        kinds = ", ".join(f"{count} {ARTEFACT_LABELS[kind]}" for kind, count in sorted(self.artefacts.items()))
        return [*self.warnings, f"Left out conversion artefacts that are not part of the code: {kinds}."]
