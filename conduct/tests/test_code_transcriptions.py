"""Fidelity tests for the code-of-conduct fixtures.

The three codes in ``fixtures/codes/*.json`` are transcriptions of the plain-text
documents in ``fixtures/sources/``. These tests prove that the transcriptions are
complete and faithful:

1. schema checks on every JSON file;
2. text coverage both ways (every source fragment is transcribed, every
   transcribed text comes from the source), plus the same fragments in the same
   order;
3. section and clause counts derived independently from the source text by a
   small counting function per document, compared with the JSON and with totals
   verified by hand;
4. specific facts about each code.

Pure Python: no Django import and no database access.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SOURCES = FIXTURES / "sources"
CODES = FIXTURES / "codes"

CP = "challenge-partners-code-of-conduct"
STAFF = "trust-staff-code-of-conduct"
GOV = "leading-learners-governance-code"
SLUGS = [CP, STAFF, GOV]

TITLES = {
    CP: "Challenge Partners: Code of Conduct",
    STAFF: "Staff Code of Conduct",
    GOV: "Leading Learners Trust Code of Conduct 2024 - 2025",
}
# How many leading source lines make up the document's own title (not repeated as clauses).
TITLE_LINES = {CP: 1, STAFF: 0, GOV: 2}
# How a "term" is laid out in the source: "inline" = "**Term:** text" on one line;
# "line" = the term on its own line, its definition on the next line.
TERM_LAYOUT = {CP: "inline", STAFF: "inline", GOV: "line"}

CODE_KEYS = {"slug", "title", "source", "sections"}
SECTION_KEYS = {"number", "title", "clauses"}
CLAUSE_KEYS = {"number", "style", "depth", "term", "text", "roles", "new"}
STYLES = {"paragraph", "numbered", "bullet", "subheading", "always", "never"}
ROLES = {"trustee", "local_governor"}

# --------------------------------------------------------------------------
# Reading and normalising the sources
# --------------------------------------------------------------------------

# Conversion artefacts (see fixtures/sources/README.md).
BOOKMARK_RE = re.compile(r"\[bookmark: _[^\]]*\]")
TOP_OF_PAGE = "top of page"
IMAGE_RE = re.compile(r"\.(?:png|jpe?g|gif|bmp|emf|wmf|svg)$", re.IGNORECASE)
# List markers at the start of a line: "-", "·", "•", and the "X" of the staff
# code's "Never" items (only when followed by whitespace).
LIST_MARKER_RE = re.compile(r"^(?:[-·•]|X(?=\s))\s*")
# Printed numbering labels: "1.", "1.1", "17.1", "0." (artefact), followed by whitespace.
LABEL_RE = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+")
# Markdown bold around a term: "**Excellence:**" -> "Excellence:".
BOLD_RE = re.compile(r"\*\*(.+?)\*\*")
# The governance code's footnote explains the asterisk marker and keeps its asterisk.
FOOTNOTE_RE = re.compile(r"^\*New statements added or updated")


def collapse(text: str) -> str:
    """Collapse runs of whitespace (tabs, no-break spaces…) to one space and strip."""
    return " ".join(text.split())


def source_lines(slug: str) -> list[str]:
    """Non-blank source lines with artefacts removed and whitespace collapsed."""
    raw = (SOURCES / f"{slug}.txt").read_text(encoding="utf-8")
    lines = []
    for line in raw.splitlines():
        line = collapse(BOOKMARK_RE.sub("", line))
        if not line or line.lower() == TOP_OF_PAGE or IMAGE_RE.search(line):
            continue
        lines.append(line)
    return lines


def fragment_of(line: str) -> str:
    """A source line reduced to its text: no list marker, numbering label,
    bold markers or "new" asterisk."""
    line = LIST_MARKER_RE.sub("", line)
    line = LABEL_RE.sub("", line)
    line = BOLD_RE.sub(r"\1", line)
    if line.startswith("*") and not FOOTNOTE_RE.match(line):
        line = line[1:]
    return collapse(line)


def source_fragments(slug: str) -> list[str]:
    """The source as an ordered list of text fragments, title lines excluded."""
    lines = source_lines(slug)[TITLE_LINES[slug] :]
    return [fragment_of(line) for line in lines]


# --------------------------------------------------------------------------
# Reading the transcriptions
# --------------------------------------------------------------------------


def load(slug: str) -> dict:
    return json.loads((CODES / f"{slug}.json").read_text(encoding="utf-8"))


def clauses(code: dict) -> list[dict]:
    return [c for s in code["sections"] for c in s["clauses"]]


def clause_fragments(slug: str, clause: dict) -> list[str]:
    """How a clause appears in the normalised source."""
    if not clause["term"]:
        return [clause["text"]]
    if TERM_LAYOUT[slug] == "inline":
        return [f"{clause['term']}: {clause['text']}"]
    return [clause["term"], clause["text"]]


def transcription_fragments(slug: str) -> list[str]:
    """The transcription read in order: section headings then their clauses."""
    out = []
    for section in load(slug)["sections"]:
        if section["title"]:
            out.append(section["title"])
        for clause in section["clauses"]:
            out.extend(clause_fragments(slug, clause))
    return out


# --------------------------------------------------------------------------
# 1. Schema
# --------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_schema(slug):
    path = CODES / f"{slug}.json"
    raw = path.read_text(encoding="utf-8")
    code = json.loads(raw)
    assert raw == json.dumps(code, indent=2, ensure_ascii=False) + "\n", "2-space indent, ensure_ascii=False"
    assert set(code) == CODE_KEYS
    assert code["slug"] == slug
    assert code["title"] == TITLES[slug]
    assert code["source"] == f"{slug}.txt"
    assert (SOURCES / code["source"]).is_file()
    assert isinstance(code["sections"], list) and code["sections"]
    problems = []
    for s_index, section in enumerate(code["sections"]):
        where = f"section {s_index} ({section.get('title')!r})"
        assert set(section) == SECTION_KEYS, where
        assert isinstance(section["number"], str) and isinstance(section["title"], str), where
        assert section["title"] == collapse(section["title"]), where
        assert section["clauses"], f"{where} has no clauses"
        previous_depth = -1
        for c_index, clause in enumerate(section["clauses"]):
            at = f"{where} clause {c_index} ({clause.get('text', '')[:40]!r})"
            assert set(clause) == CLAUSE_KEYS, at
            assert clause["style"] in STYLES, at
            assert isinstance(clause["depth"], int) and 0 <= clause["depth"] <= 2, at
            if clause["depth"] > previous_depth + 1:
                problems.append(f"{at}: depth jumps from {previous_depth} to {clause['depth']}")
            previous_depth = clause["depth"]
            assert isinstance(clause["number"], str) and isinstance(clause["term"], str), at
            if clause["style"] == "numbered":
                assert re.fullmatch(r"\d+(?:\.\d+)?", clause["number"]), at
            else:
                assert clause["number"] == "", at
            assert isinstance(clause["roles"], list) and set(clause["roles"]) <= ROLES, at
            assert len(clause["roles"]) == len(set(clause["roles"])), at
            assert isinstance(clause["new"], bool), at
            text = clause["text"]
            assert isinstance(text, str) and text.strip(), f"{at}: empty text"
            assert text == collapse(text), f"{at}: uncollapsed whitespace"
            assert "[bookmark" not in text and TOP_OF_PAGE not in text.lower(), at
            assert clause["term"] == collapse(clause["term"]), at
    assert not problems, "\n".join(problems)
    if slug != GOV:
        assert not any(c["roles"] or c["new"] for c in clauses(code)), "only the governance code has roles/new"


# --------------------------------------------------------------------------
# 2. Text coverage, both ways
# --------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_title_comes_from_source(slug):
    title_lines = source_lines(slug)[: TITLE_LINES[slug]]
    if title_lines:
        assert load(slug)["title"] == " ".join(title_lines)
    else:  # the staff code has no title line; its title is given
        assert load(slug)["title"] == TITLES[slug]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_source_fragment_is_transcribed(slug):
    transcribed = set(transcription_fragments(slug))
    missing = [f for f in source_fragments(slug) if f not in transcribed]
    assert not missing, "source text missing from the transcription:\n" + "\n".join(missing)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_transcribed_text_is_in_source(slug):
    source = set(source_fragments(slug))
    code = load(slug)
    invented = [s["title"] for s in code["sections"] if s["title"] and s["title"] not in source]
    for clause in clauses(code):
        invented += [f for f in clause_fragments(slug, clause) if f not in source]
    assert not invented, "transcribed text not found in the source:\n" + "\n".join(invented)


@pytest.mark.parametrize("slug", SLUGS)
def test_same_fragments_in_same_order(slug):
    """Multiplicity and order: the transcription read top to bottom is the source."""
    expected = source_fragments(slug)
    actual = transcription_fragments(slug)
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(expected, actual, "source", "transcription", lineterm="", n=1))
        pytest.fail("transcription differs from the source:\n" + diff)


@pytest.mark.parametrize("slug", SLUGS)
def test_printed_numbers_match(slug):
    """Section and clause numbers are the labels printed in the source
    (the governance code's "1."/"0." artefacts are renumbered per list)."""
    code = load(slug)
    if slug == GOV:
        # Each run of consecutive numbered clauses (same section, same depth) is 1..n.
        for section in code["sections"]:
            run: list[dict] = []
            runs: list[list[dict]] = []
            for clause in section["clauses"]:
                if clause["style"] == "numbered":
                    if run and run[-1]["depth"] != clause["depth"]:
                        runs.append(run)
                        run = []
                    run.append(clause)
                elif run and clause["depth"] <= run[-1]["depth"]:
                    runs.append(run)
                    run = []
            if run:
                runs.append(run)
            for run in runs:
                assert [c["number"] for c in run] == [str(i) for i in range(1, len(run) + 1)], section["title"]
        printed = [
            m.group(1) for line in source_lines(slug) if (m := LABEL_RE.match(line)) and m.group(1) not in ("0", "1")
        ]
        assert printed == ["2", "3", "4", "5", "6", "7"]  # the only real labels: the "highest standards" list
        return
    printed = [m.group(1) for line in source_lines(slug) if (m := LABEL_RE.match(line))]
    transcribed = []
    for section in code["sections"]:
        if section["number"] and section["title"]:  # a printed heading with its number
            transcribed.append(section["number"])
        transcribed += [c["number"] for c in section["clauses"] if c["number"]]
    assert transcribed == printed


# --------------------------------------------------------------------------
# 3. Counts derived independently from the source
# --------------------------------------------------------------------------


def json_counts(code: dict) -> dict:
    every = clauses(code)
    counts = Counter(c["style"] for c in every)
    return {
        "sections": len(code["sections"]),
        "clauses": len(every),
        "paragraph": counts["paragraph"],
        "numbered": counts["numbered"],
        "bullet": counts["bullet"],
        "subheading": counts["subheading"],
        "always": counts["always"],
        "never": counts["never"],
        "depth2": sum(c["depth"] == 2 for c in every),
        "terms": sum(bool(c["term"]) for c in every),
        "new": sum(c["new"] for c in every),
        "trustee": sum("trustee" in c["roles"] for c in every),
        "local_governor": sum("local_governor" in c["roles"] for c in every),
    }


def empty_counts() -> dict:
    return dict.fromkeys(
        [
            "sections",
            "clauses",
            "paragraph",
            "numbered",
            "bullet",
            "subheading",
            "always",
            "never",
            "depth2",
            "terms",
            "new",
            "trustee",
            "local_governor",
        ],
        0,
    )


def count_challenge_partners() -> dict:
    """Rules (Challenge Partners code):
    - the first non-blank line is the document title; there is no other heading,
      so the code is one untitled section;
    - a line starting "- " at column 0 is a depth-1 bullet; an indented " - " line
      is a depth-2 bullet; a bullet containing "**Term:**" carries a term;
    - every other non-blank line is a paragraph.
    """
    raw = (SOURCES / f"{CP}.txt").read_text(encoding="utf-8").splitlines()
    lines = [line for line in raw if line.strip()]
    counts = empty_counts()
    counts["sections"] = 1
    for line in lines[1:]:
        if line.startswith(" - "):
            counts["bullet"] += 1
            counts["depth2"] += 1
            counts["terms"] += bool(re.search(r"\*\*[^*]+:\*\*", line))
        elif line.startswith("- "):
            counts["bullet"] += 1
        else:
            counts["paragraph"] += 1
    counts["clauses"] = counts["paragraph"] + counts["bullet"]
    return counts


STAFF_NAMED_HEADINGS = [
    "Our Vision",
    "Our values",
    "Statement of Intent",
    "Key Principles",
    "The importance of professional behaviour",
    "Ensuring safeguarding",
]


def count_staff() -> dict:
    """Rules (staff code):
    - sections: a line equal to one of the six named headings, or a line starting
      "Appendix <n> ", is an unnumbered section; numbered sections are the distinct
      N among clause labels "N.M" (section 21 has clauses but no heading line);
    - a line "N. Title" whose next non-blank line starts "N.1" is a section heading;
    - a line starting "N.M" is a numbered clause;
    - any other line starting "N." is a numbered list item;
    - a line starting "·" or "•" is a bullet, except in Appendix 1 where a bullet
      whose text begins with "…" is an "always" item; the other Appendix 1 bullets
      are depth-2 sub-bullets;
    - a line starting "X" + whitespace is a "never" item;
    - any other line of at most two words not ending in "." is a subheading
      ("Education", "We are:", "Always:", "Never:" …);
    - every other line is a paragraph.
    """
    lines = source_lines(STAFF)
    counts = empty_counts()
    major_numbers = set()
    in_appendix1 = False
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        heading = re.fullmatch(r"(\d+)\.\s+(.+)", line)
        if line in STAFF_NAMED_HEADINGS or re.match(r"Appendix \d+ ", line):
            counts["sections"] += 1
            in_appendix1 = line.startswith("Appendix 1 ")
        elif heading and following.startswith(f"{heading.group(1)}.1 "):
            pass  # counted through the clause labels
        elif m := re.match(r"(\d+)\.\d+\s", line):
            major_numbers.add(m.group(1))
            counts["numbered"] += 1
        elif re.match(r"\d+\.\s", line):
            counts["numbered"] += 1
        elif line[0] in "·•":
            if in_appendix1 and LIST_MARKER_RE.sub("", line).startswith("…"):
                counts["always"] += 1
            else:
                counts["bullet"] += 1
                counts["depth2"] += in_appendix1
        elif re.match(r"X\s", line):
            counts["never"] += 1
        elif len(line.split()) <= 2 and not line.endswith("."):
            counts["subheading"] += 1
        else:
            counts["paragraph"] += 1
    counts["sections"] += len(major_numbers)
    counts["clauses"] = sum(counts[k] for k in ("paragraph", "numbered", "bullet", "subheading", "always", "never"))
    return counts


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


def count_governance() -> dict:
    """Rules (governance code):
    - the first two non-blank lines are the title;
    - sections: one per line equal to a named heading, plus an untitled section for
      the text before the first heading and an untitled closing section that starts
      at the "*New statements…" footnote;
    - a line starting "N." ("1."/"0." artefacts included) is a numbered item;
    - a line starting "-" is a bullet;
    - in the Principles of Public Life block a one-word line is a term: it and the
      next line make ONE paragraph clause with a term;
    - a line ending in ":" whose next line is a named heading is a subheading;
    - every other line is a paragraph;
    - new: after the label, the line starts with "*" (the footnote excepted), or it
      contains " *" mid-line;
    - trustee: the text (after label and asterisk) starts "Trustees:", or it is the
      "In addition to the above, as Trustees…" line or a numbered item right after it;
    - local_governor: the text starts "Those governing at local level:".
    """
    lines = source_lines(GOV)[2:]
    counts = empty_counts()
    counts["sections"] = 1  # text before the first heading
    in_principles = False
    trustee_block = False
    skip_next = False
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if skip_next:
            skip_next = False
            continue
        if line in GOV_HEADINGS:
            counts["sections"] += 1
            in_principles = line.startswith("We will abide by the Principles")
            trustee_block = False
            continue
        if FOOTNOTE_RE.match(line):
            counts["sections"] += 1
            counts["paragraph"] += 1
            continue
        if in_principles and len(line.split()) == 1:
            counts["paragraph"] += 1
            counts["terms"] += 1
            skip_next = True
            continue
        label = re.match(r"(\d+)\.\s+", line)
        text = line[label.end() :] if label else line
        if not label:
            trustee_block = line.startswith("In addition to the above, as Trustees")
        if label:
            counts["numbered"] += 1
        elif line.startswith("-"):
            counts["bullet"] += 1
        elif line.endswith(":") and following in GOV_HEADINGS:
            counts["subheading"] += 1
        else:
            counts["paragraph"] += 1
        if text.startswith("*") or " *" in text:
            counts["new"] += 1
        plain = text.lstrip("*")
        if plain.startswith("Trustees:") or trustee_block:
            counts["trustee"] += 1
        if plain.startswith("Those governing at local level:"):
            counts["local_governor"] += 1
    counts["clauses"] = sum(counts[k] for k in ("paragraph", "numbered", "bullet", "subheading"))
    return counts


COUNTERS = {CP: count_challenge_partners, STAFF: count_staff, GOV: count_governance}

# Totals verified by hand against the source documents.
EXPECTED_COUNTS = {
    CP: {
        "sections": 1,
        "clauses": 28,
        "paragraph": 4,
        "numbered": 0,
        "bullet": 24,
        "subheading": 0,
        "always": 0,
        "never": 0,
        "depth2": 6,
        "terms": 6,
        "new": 0,
        "trustee": 0,
        "local_governor": 0,
    },
    STAFF: {
        "sections": 29,
        "clauses": 169,
        "paragraph": 15,
        "numbered": 79,
        "bullet": 40,
        "subheading": 8,
        "always": 12,
        "never": 15,
        "depth2": 15,
        "terms": 0,
        "new": 0,
        "trustee": 0,
        "local_governor": 0,
    },
    GOV: {
        "sections": 10,
        "clauses": 84,
        "paragraph": 20,
        "numbered": 58,
        "bullet": 5,
        "subheading": 1,
        "always": 0,
        "never": 0,
        "depth2": 0,
        "terms": 7,
        "new": 13,
        "trustee": 6,
        "local_governor": 4,
    },
}


@pytest.mark.parametrize("slug", SLUGS)
def test_counts_from_source_match_json(slug):
    assert json_counts(load(slug)) == COUNTERS[slug]()


@pytest.mark.parametrize("slug", SLUGS)
def test_counts_match_hand_verified_totals(slug):
    assert COUNTERS[slug]() == EXPECTED_COUNTS[slug]
    assert json_counts(load(slug)) == EXPECTED_COUNTS[slug]


def test_asterisks_in_governance_source():
    """Independent count of the "new" markers straight from the raw text."""
    raw = (SOURCES / f"{GOV}.txt").read_text(encoding="utf-8")
    unlabelled = [re.sub(r"^\d+\.\s+", "", line) for line in raw.splitlines()]
    leading = [line for line in unlabelled if line.startswith("*") and not line.startswith("*New statements")]
    inline = [line for line in unlabelled if re.search(r"\S \*\w", line)]
    assert (len(leading), len(inline)) == (12, 1)
    assert sum(c["new"] for c in clauses(load(GOV))) == len(leading) + len(inline)


# --------------------------------------------------------------------------
# 4. Specific facts
# --------------------------------------------------------------------------


def test_staff_sections():
    code = load(STAFF)
    sections = code["sections"]
    assert [s["title"] for s in sections[:6]] == STAFF_NAMED_HEADINGS
    assert all(s["number"] == "" for s in sections[:6])
    assert [s["number"] for s in sections[6:27]] == [str(n) for n in range(1, 22)]
    assert sections[6]["title"] == "Legal Framework and definitions"
    assert sections[26]["title"] == ""  # section 21 has no heading line
    assert [c["number"] for c in sections[26]["clauses"]] == ["21.1", "21.2", "21.3"]
    assert sections[27]["title"].startswith("Appendix 1 – ")
    assert sections[28]["title"] == "Appendix 2 – “The Academy Way”"
    assert [c["text"] for c in sections[28]["clauses"]] == ["Attached as separate file."]
    for section in sections[6:27]:
        numbers = [c["number"] for c in section["clauses"] if c["number"]]
        assert numbers == [f"{section['number']}.{i}" for i in range(1, len(numbers) + 1)]


def test_staff_appendix_1():
    appendix = load(STAFF)["sections"][27]["clauses"]
    assert [c["text"] for c in appendix if c["style"] == "subheading"] == ["Always:", "Never:"]
    assert sum(c["style"] == "always" for c in appendix) == 12
    assert sum(c["style"] == "never" for c in appendix) == 15
    never_at = [c["style"] for c in appendix].index("never")
    assert all(c["style"] != "always" for c in appendix[never_at:])
    assert all(c["style"] != "never" for c in appendix[:never_at])

    def children(startswith):
        index = next(i for i, c in enumerate(appendix) if c["text"].startswith(startswith))
        kids = []
        for c in appendix[index + 1 :]:
            if c["depth"] != 2:
                break
            kids.append(c["text"])
        return kids

    assert len(children("…avoid touching learners")) == 7
    assert children("…take a child/learner in your car") == [
        "ensure that a manager has agreed in advance",
        "prepare a risk assessment",
        "ensure the vehicle is roadworthy and insurance covers business use",
        "obtain parental permission, preferably in writing",
        "take more than one person",
        "sit child in the back",
        "travel directly to the destination",
        "keep conversation professional",
    ]


def test_staff_keeps_source_wording():
    texts = [c["text"] for c in clauses(load(STAFF))]
    assert any("make our line manger aware" in t for t in texts)  # source typo kept
    assert (
        "“Being a role model is the most powerful form of educating. "
        "Youngsters need good models more than they need critics” (John Wooden)" in texts
    )
    assert "“Example is not the main thing in influencing others. It is the only thing” (Albert Schweitzer)" in texts


def test_governance_facts():
    code = load(GOV)
    every = clauses(code)
    assert [s["title"] for s in code["sections"]] == [""] + GOV_HEADINGS + [""]
    assert [(c["term"], c["text"]) for c in every if c["term"]][:1] == [
        ("Selflessness", "We will act solely in terms of the public interest.")
    ]
    assert [c["term"] for c in every if c["term"]] == [
        "Selflessness",
        "Integrity",
        "Objectivity",
        "Accountability",
        "Openness",
        "Honesty",
        "Leadership",
    ]
    # role prefixes are kept in the text
    for c in every:
        if c["text"].startswith("Trustees:"):
            assert c["roles"] == ["trustee"]
        if c["text"].startswith("Those governing at local level:"):
            assert c["roles"] == ["local_governor"]
    trustee_block = [c for c in every if c["roles"] == ["trustee"] and not c["text"].startswith("Trustees:")]
    assert trustee_block[0]["text"] == "In addition to the above, as Trustees we will focus on the functions of"
    assert len(trustee_block) == 3
    assert sum(c["roles"] == ["local_governor"] for c in every) == 4
    # asterisks: leading ones removed, the inline one kept, the footnote kept
    assert not any(c["text"].startswith("*") for c in every if c["new"])
    inline = [c for c in every if "*" in c["text"] and not c["text"].startswith("*")]
    assert len(inline) == 1 and inline[0]["new"]
    assert "ongoing basis. *We will participate in induction training, prioritise" in inline[0]["text"]
    highest = next(c for c in every if c["text"] == "We will apply the highest standards and will:")
    assert highest["new"]
    closing = code["sections"][-1]["clauses"]
    assert closing[0] == {
        "number": "",
        "style": "paragraph",
        "depth": 0,
        "term": "",
        "text": "*New statements added or updated in August 2023.",
        "roles": [],
        "new": False,
    }
    assert [c["text"] for c in closing[2:4]] == [
        "Adopted: September 2025",
        "Signed: Rachel Hudson [Chair of the board]",
    ]
    assert any("our all our members’ best efforts" in c["text"] for c in every)  # source wording kept


def test_challenge_partners_facts():
    code = load(CP)
    every = clauses(code)
    scope_lead = next(i for i, c in enumerate(every) if c["text"].endswith("including but not limited to:"))
    scope = []
    for c in every[scope_lead + 1 :]:
        if c["depth"] != 1:
            break
        scope.append(c)
    assert len(scope) == 11 and all(c["style"] == "bullet" for c in scope)
    values = [c for c in every if c["term"]]
    assert [c["term"] for c in values] == [
        "Excellence",
        "Equity",
        "Courageous Leadership",
        "Challenge",
        "Collaboration",
        "Innovation",
    ]
    assert all(c["depth"] == 2 and c["style"] == "bullet" for c in values)
    assert values[0]["text"].startswith("We are always looking for ways to improve")
    assert "nikita.vyas@challengepartners.org" in every[-1]["text"]
