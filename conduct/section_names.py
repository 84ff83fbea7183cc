"""One name for every section of a code, wherever it is listed: the draft editor, the import preview, the diff.

A section with a title is named by it ("3. Safeguarding", or "Core values" when unnumbered); a numbered one
without a title is "Section 21". A section with neither is named by where it sits, since a code can have
several (the Leading Learners code opens and closes with one): the opening one is "Introduction", the last one
"Closing text", one in between "Text after section 4" (or after the title of the section before it). A run of
such sections in one place is told apart by part: "Introduction (part 2)". So no two sections share a name,
and the editor's section landmarks have distinct names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Headed(Protocol):
    @property
    def number(self) -> str: ...

    @property
    def title(self) -> str: ...


def heading_name(number: str, title: str) -> str:
    """The name of a section that has a number or a title ("" when it has neither)."""
    if title:
        return f"{number}. {title}" if number else title
    return f"Section {number}" if number else ""


def _after(section: Headed) -> str:
    return f"Text after section {section.number}" if section.number else f"Text after “{section.title}”"


def section_names(sections: Sequence[Headed]) -> list[str]:
    """The name of each section, in order."""
    names: list[str] = []
    previous: Headed | None = None  # the nearest section before with a number or a title
    run = 0  # how many sections with neither have come in a row
    for index, section in enumerate(sections):
        if name := heading_name(section.number, section.title):
            names.append(name)
            previous, run = section, 0
            continue
        run += 1
        if previous is None:
            place = "Introduction"
        elif run == 1 and index == len(sections) - 1:
            place = "Closing text"
        else:
            place = _after(previous)
        names.append(place if run == 1 else f"{place} (part {run})")
    return names
