"""The importer against the human transcriptions: each seed code, as a Word document and as pasted
text, must come out as fixtures/codes/<slug>.json, clause by clause (number, style, depth, term,
text, roles, new) and section by section, except where the transcriber knew something that the
document does not show. Those few places are listed below with the reason, and every other
clause must match exactly.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conduct.importer import ImportProposal, code_import_docx, code_import_text
from conduct.models import Clause
from conduct.services import CLAUSE_FIELDS, version_create_from_content
from conduct.tests.factories import CodeFactory
from conduct.tests.importer_corpus import CODES, CP, GOV, SLUGS, STAFF, seed_docx, seed_text

Row = dict[str, Any]
Difference = tuple[Row, str]  # the fields the importer proposes instead, and why

TRUSTEE_BLOCK_REASON = (
    "The transcriber limited this lead-in (and the two functions listed under it) to trustees because "
    "it says “as Trustees”; the code's own way of limiting a statement is the “Trustees:” prefix, which "
    "these lines lack, and reading a role out of a sentence would misfire elsewhere."
)
# In both the Word document and the pasted text. Keyed by a clause's text or a section's title.
DIFFERENCES: dict[str, dict[str, Difference]] = {
    CP: {},
    STAFF: {},
    GOV: {
        "In addition to the above, as Trustees we will focus on the functions of": (
            {"roles": []},
            TRUSTEE_BLOCK_REASON,
        ),
        "Holding executive leaders to account for the educational performance of the organisation and its pupils, "
        "and the performance management of staff.": ({"roles": []}, TRUSTEE_BLOCK_REASON),
        "Overseeing the financial performance of the organisation and making sure its money is well spent.": (
            {"roles": []},
            TRUSTEE_BLOCK_REASON,
        ),
    },
}
# Only in the pasted text, which has no heading styles.
TEXT_DIFFERENCES: dict[str, dict[str, Difference]] = {
    CP: {},
    STAFF: {},
    GOV: {
        "We will abide by the Principles of Public Life:": (
            {"kind": "clause", "style": "paragraph"},
            "A heading in the document, but in plain text it ends with a colon like the lead-ins around it "
            "(“As individuals, we agree to:”), so it is read as the paragraph that introduces the principles.",
        ),
    },
}
# The staff code has no title line: its title was given to the transcription, not read from it.
TITLE_DIFFERENCES = {STAFF: ""}

# clauses matched exactly / clauses in the transcription; the same for sections.
MATCH_FIGURES = {
    ("docx", CP): ((28, 28), (1, 1)),
    ("docx", STAFF): ((169, 169), (29, 29)),
    ("docx", GOV): ((81, 84), (10, 10)),
    ("text", CP): ((28, 28), (1, 1)),
    ("text", STAFF): ((169, 169), (29, 29)),
    ("text", GOV): ((81, 84), (9, 10)),
}


def load(slug: str) -> dict[str, Any]:
    return json.loads((CODES / f"{slug}.json").read_text(encoding="utf-8"))


def rows(sections: list[dict[str, Any]]) -> list[Row]:
    """Sections and clauses as one sequence of comparable rows (a section's title as its text)."""
    out: list[Row] = []
    for section in sections:
        heading = {"number": section["number"], "style": "", "depth": 0, "term": "", "roles": [], "new": False}
        out.append({"kind": "section", **heading, "text": section["title"]})
        out.extend({"kind": "clause", **clause} for clause in section["clauses"])
    return out


def imported(source: str, slug: str) -> ImportProposal:
    return code_import_docx(seed_docx(slug)) if source == "docx" else code_import_text(seed_text(slug))


def differences_for(source: str, slug: str) -> dict[str, Difference]:
    return DIFFERENCES[slug] | (TEXT_DIFFERENCES[slug] if source == "text" else {})


def compare(source: str, slug: str) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """Mismatches not listed as expected differences, and how many rows of each kind matched exactly."""
    expected, actual = rows(load(slug)["sections"]), rows(imported(source, slug).sections)
    assert [row["text"] for row in actual] == [row["text"] for row in expected], "same texts in the same order"
    differences = differences_for(source, slug)
    mismatches, figures = [], {"clause": [0, 0], "section": [0, 0]}
    for want, got in zip(expected, actual, strict=True):
        change = differences.get(want["text"], ({}, ""))[0]
        if got != want | change:
            mismatches.append(f"expected {want | change}\n     got {got}")
        figures[want["kind"]][0] += got == want
        figures[want["kind"]][1] += 1
    return mismatches, {kind: (matched, total) for kind, (matched, total) in figures.items()}


@pytest.mark.parametrize("source", ["docx", "text"])
@pytest.mark.parametrize("slug", SLUGS)
def test_import_matches_the_transcription(source, slug):
    mismatches, figures = compare(source, slug)
    assert not mismatches, "\n".join(mismatches)
    assert (figures["clause"], figures["section"]) == MATCH_FIGURES[(source, slug)]


@pytest.mark.parametrize("source", ["docx", "text"])
@pytest.mark.parametrize("slug", SLUGS)
def test_every_listed_difference_is_real(source, slug):
    """A difference that the importer no longer makes must come off the list."""
    expected = {row["text"]: row for row in rows(load(slug)["sections"])}
    actual = {row["text"]: row for row in rows(imported(source, slug).sections)}
    for text, (change, reason) in differences_for(source, slug).items():
        assert reason
        assert actual[text] == expected[text] | change != expected[text], text


@pytest.mark.parametrize("source", ["docx", "text"])
@pytest.mark.parametrize("slug", SLUGS)
def test_title(source, slug):
    assert imported(source, slug).title == TITLE_DIFFERENCES.get(slug, load(slug)["title"])


@pytest.mark.parametrize("source", ["docx", "text"])
@pytest.mark.parametrize("slug", SLUGS)
def test_nothing_unplaced(source, slug):
    assert imported(source, slug).unplaced == []


def test_pasted_text_says_what_it_left_out_and_renumbered():
    staff = code_import_text(seed_text(STAFF))
    assert staff.warnings == [
        "Left out conversion artefacts that are not part of the code: 4 bookmark tags such as “[bookmark: _Hlk…]”."
    ]
    governance = code_import_text(seed_text(GOV))
    renumbered = [warning for warning in governance.warnings if warning.startswith("The numbered list")]
    assert len(renumbered) == 7  # six "1. 1. 1." lists and the "0. 0." one
    assert "printed as 0. 0.: it is numbered 1, 2, 3… here" in renumbered[1]


def test_word_document_without_headings_is_one_section_with_a_warning():
    proposal = code_import_docx(seed_docx(CP))
    assert len(proposal.sections) == 1
    assert proposal.warnings == [
        "No headings were found, so the whole text is one section. "
        "In Word, a heading is a paragraph in a Heading style (Heading 1 for sections)."
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_proposal_goes_straight_into_a_version(slug):
    proposal = code_import_docx(seed_docx(slug))
    version = version_create_from_content(code=CodeFactory.create(), label="2025-2026", sections=proposal.sections)

    sections = list(version.ordered_sections())
    assert [(s.number, s.title) for s in sections] == [(s["number"], s["title"]) for s in proposal.sections]
    saved = [
        {field: getattr(clause, field) for field in CLAUSE_FIELDS} | {"new": clause.is_new}
        for clause in Clause.objects.filter(section__version=version).order_by("section__position", "position")
    ]
    assert saved == proposal.clauses
