"""Bad uploads and over-long text: refused with a ValidationError that says what is wrong, and
nothing else raised, whatever the bytes."""

from __future__ import annotations

import contextlib
import random
import zipfile
from io import BytesIO

import docx
import pytest
from django.core.exceptions import ValidationError
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from PIL import Image

from conduct import limits
from conduct.importer import ImportProposal, code_import_docx, code_import_text
from conduct.tests.importer_corpus import (
    CP,
    SLUGS,
    compound_file,
    rezip,
    saved,
    seed_docx,
    seed_text,
    simple_docx,
    zip_members,
)

WORD_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def refusal(data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        code_import_docx(data)
    return caught.value


def text_refusal(text: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        code_import_text(text)
    return caught.value


def assert_refused(data: bytes, code: str, *words: str) -> None:
    error = refusal(data)
    assert error.code == code
    for word in words:
        assert word in error.message


def png() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (8, 8), "navy").save(buffer, "PNG")
    return buffer.getvalue()


def content_types(data: bytes) -> bytes:
    return {member.filename: content for member, content in zip_members(data)}["[Content_Types].xml"]


# --------------------------------------------------------------------------
# Not a Word document
# --------------------------------------------------------------------------


def test_empty_file():
    assert_refused(b"", "empty", "empty")


def test_over_the_size_limit():
    assert_refused(b"PK\x03\x04" + bytes(limits.MAX_UPLOAD_BYTES), "too_large", "MB; the limit is 5 MB")


@pytest.mark.parametrize(
    ("start", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG picture"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG picture"),
        (b"{\\rtf1\\ansi\\deff0 {\\fonttbl}", "an RTF document"),
    ],
)
def test_other_files_renamed_docx(start, what):
    assert_refused(start + bytes(200), "not_docx", f"This file is {what}, not a Word document", ".docx")


def test_real_png_picture():
    assert_refused(png(), "not_docx", "PNG")


def test_plain_text_uploaded_as_docx():
    assert_refused(b"Code of Conduct\n1. Be kind.\n", "not_docx", "not a Word document (.docx)")


def test_old_binary_doc():
    assert_refused(compound_file("WordDocument"), "old_doc", "Word 97-2003", "Save it in Word as")


def test_password_protected_docx():
    """Word encrypts a .docx into an OLE compound file holding an "EncryptedPackage" stream."""
    assert_refused(compound_file("EncryptedPackage"), "password", "password")


def test_other_old_office_file():
    assert_refused(compound_file("Workbook"), "not_docx", "older Office file")


def test_zip_member_marked_encrypted():
    """ZIP encryption (not what Word uses, but a zip tool can): the members' "encrypted" flag is set."""
    data = bytearray(simple_docx("Be kind."))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        at = data.find(signature)
        while at != -1:
            data[at + flag_offset] |= 0x1
            at = data.find(signature, at + 1)
    assert_refused(bytes(data), "password", "password")


@pytest.mark.parametrize(
    ("part", "what"),
    [("mimetype", "OpenDocument"), ("xl/workbook.xml", "Excel"), ("ppt/presentation.xml", "PowerPoint")],
)
def test_other_zip_formats(part, what):
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(part, "x")
    assert_refused(buffer.getvalue(), "not_docx", what)


def test_word_template():
    data = simple_docx("Be kind.")
    template = content_types(data).replace(WORD_MAIN, WORD_MAIN.replace(b"document.main", b"template.main"))
    assert_refused(rezip(data, replace={"[Content_Types].xml": template}), "not_docx", "template (.dotx)")


# --------------------------------------------------------------------------
# Damaged
# --------------------------------------------------------------------------


def test_truncated_zip():
    data = simple_docx("Be kind.")
    assert_refused(data[: len(data) // 2], "damaged", "damaged or incomplete")


def test_zip_signature_then_garbage():
    assert_refused(b"PK\x03\x04" + bytes(range(256)) * 4, "damaged")


def test_missing_document_part():
    assert_refused(rezip(simple_docx("Be kind."), drop="word/document.xml"), "damaged")


def test_missing_content_types():
    assert_refused(rezip(simple_docx("Be kind."), drop="[Content_Types].xml"), "damaged")


def test_malformed_document_xml():
    data = rezip(simple_docx("Be kind."), replace={"word/document.xml": b"<w:document><w:body><w:p>"})
    assert_refused(data, "damaged")


def test_document_xml_that_is_not_a_document():
    data = rezip(simple_docx("Be kind."), replace={"word/document.xml": b"<nothing/>"})
    assert_refused(data, "damaged")


def test_corrupted_member_fails_its_checksum():
    data = bytearray(simple_docx("Be kind.", "Be fair."))
    offset = bytes(data).index(b"word/document.xml") + len("word/document.xml") + 40
    data[offset] ^= 0xFF
    assert_refused(bytes(data), "damaged")


def test_zip_bomb():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for member, content in zip_members(simple_docx("Be kind.")):
            package.writestr(member.filename, content)
        package.writestr("word/media/huge.bin", bytes(limits.MAX_UNPACKED_BYTES + 1))
    assert len(buffer.getvalue()) < limits.MAX_UPLOAD_BYTES
    assert_refused(buffer.getvalue(), "too_large", "unpacks to more than")


def test_random_damage_raises_only_validation_errors():
    """Flip bytes anywhere in a real document: every result is a proposal or a ValidationError."""
    original = seed_docx(CP)
    chance = random.Random(20250901)
    for _ in range(100):
        data = bytearray(original)
        for _ in range(chance.randint(1, 4)):
            data[chance.randrange(len(data))] = chance.randrange(256)
        with contextlib.suppress(ValidationError):
            assert isinstance(code_import_docx(bytes(data)), ImportProposal)


@pytest.mark.parametrize(
    "part",
    [
        "word/document.xml",
        "word/styles.xml",
        "word/numbering.xml",
        "[Content_Types].xml",
        "word/_rels/document.xml.rels",
    ],
)
def test_damaged_parts_raise_only_validation_errors(part):
    """A part cut short, or with a character dropped or changed, inside an intact ZIP (so only
    python-docx and its XML parser see the damage): a proposal or a ValidationError, nothing else."""
    original = seed_docx(CP)
    xml = {member.filename: content for member, content in zip_members(original)}[part]
    chance = random.Random(part)
    for _ in range(25):
        at = chance.randrange(len(xml))
        damaged = [xml[:at], xml[:at] + xml[at + 1 :], xml[:at] + bytes([chance.randrange(32, 127)]) + xml[at + 1 :]]
        with contextlib.suppress(ValidationError):
            assert isinstance(code_import_docx(rezip(original, replace={part: chance.choice(damaged)})), ImportProposal)


def test_scrambled_text_raises_only_validation_errors():
    """Seed lines shuffled, cut and salted with markers: every paste gives a proposal or a ValidationError."""
    lines = [line for slug in SLUGS for line in seed_text(slug).splitlines()]
    pieces = ["*", "- ", "1. ", "1.1 ", "(a) ", "X\t", "#", "**", ":", "…", "Always:", "Trustees:", "\t", "\u00a0"]
    chance = random.Random(11)
    for _ in range(200):
        chosen = chance.sample(lines, chance.randint(1, 30))
        text = "\n".join(chance.choice(pieces) + line[: chance.randint(0, len(line))] for line in chosen)
        with contextlib.suppress(ValidationError):
            proposal = code_import_text(text)
            assert all(clause["text"] and 0 <= clause["depth"] <= 3 for clause in proposal.clauses)


# --------------------------------------------------------------------------
# Macros, pictures, tracked changes
# --------------------------------------------------------------------------


def test_macros_part_is_refused():
    data = rezip(simple_docx("Be kind."), add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})
    assert_refused(data, "macros", "contains macros (a .docm file)", "Word Document (.docx)")


def test_macro_enabled_content_type_is_refused():
    data = simple_docx("Be kind.")
    macro = content_types(data).replace(WORD_MAIN, b"application/vnd.ms-word.document.macroEnabled.main+xml")
    assert_refused(rezip(data, replace={"[Content_Types].xml": macro}), "macros")


def test_pictures_are_left_out_with_a_warning():
    """A logo in the header and a picture in the body: the text is imported, the pictures noted."""
    document = docx.Document()
    document.sections[0].header.paragraphs[0].add_run().add_picture(BytesIO(png()))
    document.add_paragraph("Be kind.")
    document.add_picture(BytesIO(png()))
    document.add_paragraph("Be fair.")

    proposal = code_import_docx(saved(document))

    assert [clause["text"] for clause in proposal.clauses] == ["Be kind.", "Be fair."]
    assert "The document has 1 picture(s); pictures are not imported, only text." in proposal.warnings
    assert proposal.unplaced == []


def test_embedded_objects_are_left_out_with_a_warning():
    data = rezip(simple_docx("Be kind."), add={"word/embeddings/oleObject1.bin": b"object"})
    proposal = code_import_docx(data)
    assert any("1 embedded object(s)" in warning for warning in proposal.warnings)


def test_tracked_changes_are_refused():
    document = docx.Document()
    paragraph = document.add_paragraph("We will be ")
    paragraph._p.append(
        parse_xml(
            f'<w:ins {nsdecls("w")} w:id="1" w:author="Clerk" w:date="2025-09-01T00:00:00Z">'
            "<w:r><w:t>kind.</w:t></w:r></w:ins>"
        )
    )
    assert_refused(saved(document), "tracked_changes", "Accept or reject them")


# --------------------------------------------------------------------------
# Text over the limits, and no text
# --------------------------------------------------------------------------


def test_clause_over_the_limit_in_a_word_document():
    long_clause = "We will be kind. " * (limits.MAX_CLAUSE_TEXT_CHARS // 17 + 1)
    error = refusal(simple_docx("Be fair.", long_clause))
    assert error.error_list[0].code == "too_long"
    assert error.messages == [
        f"The clause “{long_clause[:50]}…” is "
        f"{len(long_clause.strip()):,} characters long; the limit is {limits.MAX_CLAUSE_TEXT_CHARS:,}."
    ]


def test_section_title_over_the_limit():
    document = docx.Document()
    document.add_heading("Heading " * 30, level=1)
    document.add_paragraph("Be kind.")
    error = refusal(saved(document))
    assert error.messages[0].startswith("The heading “Heading Heading")
    assert f"the limit is {limits.MAX_SECTION_TITLE_CHARS}." in error.messages[0]


def test_too_many_clauses():
    error = text_refusal("\n".join(f"Statement {n} of the code." for n in range(limits.MAX_CLAUSES_PER_VERSION + 1)))
    assert error.messages == [f"The document has 1,001 clauses; the limit is {limits.MAX_CLAUSES_PER_VERSION:,}."]


def test_too_many_sections():
    sections = (f"# Part {n}\nBe kind." for n in range(limits.MAX_SECTIONS_PER_VERSION + 1))
    error = text_refusal("\n".join(sections))
    assert error.messages == [f"The document has 201 sections; the limit is {limits.MAX_SECTIONS_PER_VERSION}."]


def test_too_much_text_in_all():
    clause = "x" * (limits.MAX_CLAUSE_TEXT_CHARS - 1) + "."
    count = limits.MAX_VERSION_TEXT_CHARS // len(clause) + 1
    error = text_refusal("\n".join([clause] * count))
    assert error.messages == [
        f"The document has {count * len(clause):,} characters of clause text; the limit is 200,000."
    ]


def test_many_problems_are_listed_up_to_ten():
    long_clause = "y" * (limits.MAX_CLAUSE_TEXT_CHARS + 1)
    error = text_refusal("\n".join([long_clause] * 12))
    assert len(error.messages) == 11
    assert error.messages[-1] == "… and 2 more."


def test_pasted_text_over_the_size_limit():
    error = text_refusal("a" * (limits.MAX_PASTED_TEXT_CHARS + 1))
    assert error.code == "too_large"


@pytest.mark.parametrize("text", ["", "   \n\t\n", "top of page\n[bookmark: _Hlk1]\nlogo.png\n* * *"])
def test_no_text_to_import(text):
    assert text_refusal(text).code == "empty"


def test_word_document_with_no_text():
    assert_refused(simple_docx("", "   "), "empty", "No text to import")


def test_title_over_the_limit_is_left_unplaced_not_refused():
    title = "Code of Conduct " * 15
    document = docx.Document()
    document.add_paragraph(title, style="Title")
    document.add_paragraph("Be kind.")
    proposal = code_import_docx(saved(document))
    assert proposal.title == ""
    assert proposal.unplaced == [title.strip()]
    assert "The title is too long to suggest; it is listed as unplaced text." in proposal.warnings
