"""The importer's rules one at a time, on small documents and texts written for each."""

from __future__ import annotations

import json
from typing import Any

import docx
import pytest
from docx.document import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.text.paragraph import Paragraph

from conduct import limits
from conduct.importer import ImportProposal, code_import_docx, code_import_text
from conduct.tests.importer_corpus import CODES, SLUGS, add_multilevel_list, saved, seed_docx, seed_text, set_numbering

VML = 'xmlns:v="urn:schemas-microsoft-com:vml"'


def clause_rows(proposal: ImportProposal, *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(clause[field] for field in fields) for clause in proposal.clauses]


def section_rows(proposal: ImportProposal) -> list[tuple[str, str]]:
    return [(section["number"], section["title"]) for section in proposal.sections]


def text_import(*lines: str) -> ImportProposal:
    return code_import_text("\n".join(lines))


def append_xml(paragraph: Paragraph, xml: str) -> None:
    paragraph._p.append(parse_xml(xml))


# --------------------------------------------------------------------------
# Pasted text
# --------------------------------------------------------------------------


def test_artefacts_of_a_saved_web_page_are_left_out_and_counted():
    proposal = code_import_text(seed_text("challenge-partners-values"))
    texts = [clause["text"] for clause in proposal.clauses]
    assert not [text for text in texts if text.lower().endswith(("of page", ".png", ".webp"))]
    assert proposal.warnings[-1] == (
        "Left out conversion artefacts that are not part of the code: 2 picture file names, "
        "2 page links such as “top of page”."
    )


def test_invisible_characters_and_bookmarks_are_removed():
    proposal = text_import("[bookmark: _Hlk1]We will\u200b be\u00a0 kind.\x07")
    assert clause_rows(proposal, "text") == [("We will be kind.",)]


def test_markdown_headings_bullets_and_terms():
    proposal = text_import(
        "# Our values",
        "We hold these values:",
        "- **Equity:** We treat each other fairly.",
        "  - We seek the best for every child.",
        "## Always:",
        "* speak up",
    )
    assert section_rows(proposal) == [("", "Our values")]
    assert clause_rows(proposal, "style", "depth", "term", "text") == [
        ("paragraph", 0, "", "We hold these values:"),
        ("bullet", 1, "Equity", "We treat each other fairly."),
        ("bullet", 2, "", "We seek the best for every child."),
        ("subheading", 0, "", "Always:"),
        ("always", 1, "", "speak up"),
    ]


def test_numbered_sections_clauses_and_lettered_points():
    proposal = text_import(
        "1. Scope",
        "1.1 This code applies to:",
        "(a) staff;",
        "(b) governors.",
        "1.2 It is reviewed every year.",
        "2.\tReview",
        "2.1 The board reviews it.",
        "3.1 A clause whose section has no heading.",
    )
    assert section_rows(proposal) == [("1", "Scope"), ("2", "Review"), ("3", "")]
    assert clause_rows(proposal, "number", "style", "depth") == [
        ("1.1", "numbered", 0),
        ("(a)", "numbered", 1),
        ("(b)", "numbered", 1),
        ("1.2", "numbered", 0),
        ("2.1", "numbered", 0),
        ("3.1", "numbered", 0),
    ]


def test_typed_numbers_reset_by_a_conversion_are_renumbered():
    proposal = text_import("We will:", "1. act within our powers", "1. avoid conflicts", "0. declare interests")
    assert clause_rows(proposal, "number", "depth") == [("", 0), ("1", 1), ("2", 1), ("3", 1)]
    assert proposal.warnings[1:] == [
        "The numbered list starting “act within our powers” was printed as 1. 1. 0.: it is numbered 1, 2, 3… here "
        "(text copied out of Word often loses its list numbers)."
    ]


def test_a_list_may_start_at_its_printed_number():
    proposal = text_import("Continued:", "3. third", "4. fourth")
    assert clause_rows(proposal, "number") == [("",), ("3",), ("4",)]
    assert not [warning for warning in proposal.warnings if "printed as" in warning]


def test_new_markers_roles_and_the_legend():
    proposal = text_import(
        "*Trustees: We will be good employers.",
        "Local governors: We will visit our school.",
        "We will train. *We will also train in safeguarding.",
        "*New statements added or updated in 2025.",
        "Adopted: September 2025",
    )
    assert len(proposal.sections) == 2, "the legend starts the closing section"
    assert clause_rows(proposal, "text", "roles", "new") == [
        ("Trustees: We will be good employers.", ["trustee"], True),
        ("Local governors: We will visit our school.", ["local_governor"], False),
        ("We will train. *We will also train in safeguarding.", [], True),
        ("*New statements added or updated in 2025.", [], False),
        ("Adopted: September 2025", [], False),
    ]


def test_a_word_above_a_sentence_is_a_term():
    proposal = text_import("Honesty", "We will be truthful in all we say.", "Education", "We are:")
    assert clause_rows(proposal, "style", "term", "text") == [
        ("paragraph", "Honesty", "We will be truthful in all we say."),
        ("subheading", "", "Education"),
        ("subheading", "", "We are:"),
    ]


def test_never_list_with_points_under_an_item():
    """The staff code's layout: items continue the stem with "…"; plain bullets after an item
    ending ":" are its points, though plain text cannot indent them."""
    proposal = text_import(
        "Never:",
        "X\t…lock doors",
        "X\t…take a child in your car, but where this is unavoidable:",
        "·\task a manager first",
        "·\ttravel directly",
        "X\t…share a bedroom with a learner",
    )
    assert clause_rows(proposal, "style", "depth") == [
        ("subheading", 0),
        ("never", 1),
        ("never", 1),
        ("bullet", 2),
        ("bullet", 2),
        ("never", 1),
    ]


def test_title_only_when_the_first_lines_name_a_code():
    assert text_import("Staff Conduct Policy", "We will be kind to everyone we meet.").title == "Staff Conduct Policy"
    untitled = text_import("Our Vision", "We will be kind to everyone we meet.")
    assert untitled.title == ""
    assert section_rows(untitled) == [("", "Our Vision")]


# --------------------------------------------------------------------------
# Word documents
# --------------------------------------------------------------------------


def numbered_items(document: Document, num_id: int, items: list[tuple[int, str]]) -> None:
    for level, text in items:
        set_numbering(document.add_paragraph(text), num_id, level)


def test_multilevel_numbering_as_word_shows_it():
    document = docx.Document()
    num_id = add_multilevel_list(document, [("decimal", "%1."), ("decimal", "%1.%2"), ("lowerLetter", "(%3)")])
    document.add_paragraph("The trust's rules:")
    numbered_items(document, num_id, [(0, "One"), (1, "One one"), (1, "One two"), (2, "A"), (2, "B"), (0, "Two")])
    numbered_items(document, num_id, [(1, "Two one")])

    proposal = code_import_docx(saved(document))

    assert clause_rows(proposal, "number", "style", "depth", "text")[1:] == [
        ("1", "numbered", 1, "One"),
        ("1.1", "numbered", 2, "One one"),
        ("1.2", "numbered", 2, "One two"),
        ("(a)", "numbered", 3, "A"),
        ("(b)", "numbered", 3, "B"),
        ("2", "numbered", 1, "Two"),
        ("2.1", "numbered", 2, "Two one"),
    ]


def test_a_list_continued_after_a_paragraph_keeps_counting_and_a_new_one_restarts():
    document = docx.Document()
    document.add_paragraph("We will:")
    first = add_multilevel_list(document, [("decimal", "%1.")])
    numbered_items(document, first, [(0, "listen"), (0, "learn")])
    document.add_paragraph("and, as Word continues the same list:")
    numbered_items(document, first, [(0, "lead")])
    restarted = document.part.numbering_part.element.add_num(90)
    restarted.add_lvlOverride(ilvl=0).add_startOverride(5)
    numbered_items(document, restarted.numId, [(0, "fifth")])

    proposal = code_import_docx(saved(document))

    assert [clause["number"] for clause in proposal.clauses] == ["", "1", "2", "", "3", "5"]


def test_built_in_list_styles_give_the_level_and_depth_never_jumps():
    document = docx.Document()
    document.add_heading("Values", level=1)
    document.add_paragraph("deep at the start", style="List Bullet 3")
    document.add_paragraph("one down", style="List Bullet 2")
    document.add_paragraph("numbered", style="List Number 2")

    proposal = code_import_docx(saved(document))

    assert clause_rows(proposal, "style", "depth", "number") == [
        ("bullet", 0, ""),
        ("bullet", 1, ""),
        ("numbered", 1, "1"),
    ]


def test_auto_numbered_headings_and_an_empty_numbered_heading():
    document = docx.Document()
    num_id = add_multilevel_list(document, [("decimal", "%1.")])
    for title, text in [("Scope", "It applies to staff."), ("Review", "It is reviewed."), ("", "A heading lost.")]:
        set_numbering(document.add_heading(title, level=1), num_id, 0)
        document.add_paragraph(text)

    proposal = code_import_docx(saved(document))

    assert section_rows(proposal) == [("1", "Scope"), ("2", "Review"), ("3", "")]


def test_deeper_headings_are_subheadings_and_outline_levels_count():
    document = docx.Document()
    document.add_heading("Our Vision", level=1)
    document.add_heading("Education", level=2)
    document.add_paragraph("We teach well.")
    outlined = document.add_paragraph("Key Principles")
    append_xml(outlined, f'<w:pPr {nsdecls("w")}><w:outlineLvl w:val="0"/></w:pPr>')
    outlined._p.insert(0, outlined._p[-1])  # pPr comes first in a paragraph
    document.add_paragraph("We are fair.")

    proposal = code_import_docx(saved(document))

    assert section_rows(proposal) == [("", "Our Vision"), ("", "Key Principles")]
    assert clause_rows(proposal, "style", "text") == [
        ("subheading", "Education"),
        ("paragraph", "We teach well."),
        ("paragraph", "We are fair."),
    ]


def test_only_second_level_headings_make_sections():
    document = docx.Document()
    for title in ("Scope", "Review"):
        document.add_heading(title, level=2)
        document.add_paragraph("We will be kind.")
    assert section_rows(code_import_docx(saved(document))) == [("", "Scope"), ("", "Review")]


def test_title_subtitle_and_the_document_properties():
    titled = docx.Document()
    titled.add_paragraph("Leading Learners Trust", style="Title")
    titled.add_paragraph("Code of Conduct 2025", style="Subtitle")
    titled.add_paragraph("We will be kind.")
    assert code_import_docx(saved(titled)).title == "Leading Learners Trust Code of Conduct 2025"

    from_properties = docx.Document()
    from_properties.core_properties.title = "Staff Code of Conduct"
    from_properties.add_paragraph("A subtitle with no title above it", style="Subtitle")
    from_properties.add_paragraph("We will be kind.")
    proposal = code_import_docx(saved(from_properties))
    assert proposal.title == "Staff Code of Conduct"
    assert [clause["text"] for clause in proposal.clauses] == ["A subtitle with no title above it", "We will be kind."]


def test_bold_lead_ins_are_terms_but_a_bold_role_prefix_is_not():
    document = docx.Document()
    value = document.add_paragraph(style="List Bullet")
    value.add_run("Equity:").bold = True
    value.add_run(" We treat each other fairly.")
    strong = document.add_paragraph()
    strong.add_run("Challenge", style="Strong")
    strong.add_run(": We expect the best of ourselves.")
    role = document.add_paragraph()
    role.add_run("Trustees:").bold = True
    role.add_run(" We will be good employers.")
    emphasis = document.add_paragraph()
    emphasis.add_run("Always").bold = True
    emphasis.add_run(" be kind.")

    proposal = code_import_docx(saved(document))

    assert clause_rows(proposal, "term", "text", "roles") == [
        ("Equity", "We treat each other fairly.", []),
        ("Challenge", "We expect the best of ourselves.", []),
        ("", "Trustees: We will be good employers.", ["trustee"]),
        ("", "Always be kind.", []),
    ]


def test_tables_are_listed_as_unplaced_text():
    document = docx.Document()
    document.add_paragraph("We will be kind.")
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).text, table.cell(0, 1).text = "Do", "Don't"
    table.cell(0, 1).merge(table.cell(0, 2))
    table.cell(1, 0).text, table.cell(1, 1).text = "Listen", "Shout"
    document.add_paragraph("We will be fair.")

    proposal = code_import_docx(saved(document))

    assert [clause["text"] for clause in proposal.clauses] == ["We will be kind.", "We will be fair."]
    assert proposal.unplaced == ["Do | Don't", "Listen | Shout"]
    assert any(warning.startswith("Tables are not imported as clauses") for warning in proposal.warnings)


def test_text_boxes_are_listed_as_unplaced_text():
    document = docx.Document()
    paragraph = document.add_paragraph("Report concerns at once.")
    box = "<w:txbxContent><w:p><w:r><w:t>Call the DSL on 0123 456789.</w:t></w:r></w:p></w:txbxContent>"
    shape = f"<w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict>"
    append_xml(paragraph, f"<w:r {nsdecls('w')} {VML}>{shape}</w:r>")

    proposal = code_import_docx(saved(document))

    assert [clause["text"] for clause in proposal.clauses] == ["Report concerns at once."]
    assert proposal.unplaced == ["Call the DSL on 0123 456789."]


def test_content_controls_are_read_and_unreadable_fields_kept_aside():
    document = docx.Document()
    first = document.add_paragraph("We will be kind.")
    first._p.addnext(
        parse_xml(
            f"<w:sdt {nsdecls('w')}><w:sdtPr/><w:sdtContent>"
            "<w:p><w:r><w:t>We will be fair.</w:t></w:r></w:p></w:sdtContent></w:sdt>"
        )
    )
    field = document.add_paragraph("Issued by ")
    run = "<w:r><w:t>Leading Learners</w:t></w:r>"
    append_xml(field, f"<w:fldSimple {nsdecls('w')} w:instr='DOCPROPERTY Company'>{run}</w:fldSimple>")

    proposal = code_import_docx(saved(document))

    assert [clause["text"] for clause in proposal.clauses] == ["We will be kind.", "We will be fair.", "Issued by"]
    assert proposal.unplaced == ["Issued by Leading Learners"]


def test_footnotes_are_mentioned():
    document = docx.Document()
    paragraph = document.add_paragraph("We follow the charity governance code.")
    append_xml(paragraph, f"<w:r {nsdecls('w')}><w:footnoteReference w:id='1'/></w:r>")
    proposal = code_import_docx(saved(document))
    assert any("1 footnote, endnote or comment reference(s)" in warning for warning in proposal.warnings)


def test_typed_labels_in_word_paragraphs():
    document = docx.Document()
    for text in [
        "3.\tDuty of care",
        "3.1\tWe must all:",
        "•\tact in learners’ best interests",
        "Appendix 1 – Safe practice",
    ]:
        document.add_paragraph(text)
    document.add_paragraph("Always:")

    proposal = code_import_docx(saved(document))

    assert section_rows(proposal) == [("3", "Duty of care"), ("", "Appendix 1 – Safe practice")]
    assert clause_rows(proposal, "number", "style", "depth") == [
        ("3.1", "numbered", 0),
        ("", "bullet", 1),
        ("", "subheading", 0),
    ]


# --------------------------------------------------------------------------
# The limits themselves
# --------------------------------------------------------------------------


def measured() -> dict[str, int]:
    codes = [json.loads((CODES / f"{slug}.json").read_text(encoding="utf-8")) for slug in SLUGS]
    every = [(code, section, clause) for code in codes for section in code["sections"] for clause in section["clauses"]]
    return {
        "clause": max(len(clause["text"]) for _, _, clause in every),
        "term": max(len(clause["term"]) for _, _, clause in every),
        "title": max(len(section["title"]) for code in codes for section in code["sections"]),
        "clauses": max(sum(len(section["clauses"]) for section in code["sections"]) for code in codes),
        "sections": max(len(code["sections"]) for code in codes),
        "text": max(sum(len(c["text"]) for s in code["sections"] for c in s["clauses"]) for code in codes),
    }


def test_limits_are_well_above_the_real_codes():
    """The figures quoted in conduct/limits.py, re-measured, and each limit several times over them."""
    real = measured()
    assert real == {"clause": 669, "term": 21, "title": 89, "clauses": 169, "sections": 29, "text": 25_792}
    chosen = {
        "clause": limits.MAX_CLAUSE_TEXT_CHARS,
        "term": limits.MAX_TERM_CHARS,
        "title": limits.MAX_SECTION_TITLE_CHARS,
        "clauses": limits.MAX_CLAUSES_PER_VERSION,
        "sections": limits.MAX_SECTIONS_PER_VERSION,
        "text": limits.MAX_VERSION_TEXT_CHARS,
    }
    headroom = {name: chosen[name] / real[name] for name in real}
    assert min(headroom.values()) >= 2, headroom
    # The clause limit is kept to three times the longest clause because comparing clauses grows
    # with the square of their length; a heading's column holds 300 characters.
    assert [name for name, times in headroom.items() if times < 5] == ["clause", "title"]


@pytest.mark.parametrize("slug", SLUGS)
def test_the_seed_documents_are_far_below_the_upload_limit(slug):
    assert len(seed_docx(slug)) < limits.MAX_UPLOAD_BYTES / 50
