"""Is this upload a Word document we should read? Checked on the bytes, before any parsing.

A .docx is a ZIP package. Anything else is refused with a message that says what the file is
and what to do: a PDF or a picture renamed .docx, an old binary .doc, an RTF file, an OpenDocument
text. A password-protected .docx is not a ZIP at all: Word wraps the encrypted package in an OLE
compound file (the format of the old .doc, starting D0 CF 11 E0), told apart by the name of the
stream inside it.

Decisions:
- macros (a .docm, or a vbaProject.bin part) are refused, not stripped: the importer never runs
  them, but a macro-enabled file is how malware usually arrives in an office, and a code of
  conduct has no use for one, so the clerk is asked for the plain .docx;
- pictures (word/media) and embedded objects are ignored with a warning rather than refused:
  most real codes carry a logo in the header, and a clause is text only, so refusing would turn
  away the ordinary document for something that would never be imported anyway.
"""

from __future__ import annotations

import zipfile
import zlib
from io import BytesIO

from django.core.exceptions import ValidationError

from conduct import limits
from conduct.importer.proposal import Notes

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
# First bytes of files people rename or mistake for a Word document.
SIGNATURES = (
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"{\\rtf", "an RTF document"),
)
DOCUMENT_PART = "word/document.xml"
CONTENT_TYPES_PART = "[Content_Types].xml"
MACRO_CONTENT_TYPE = b"macroEnabled"
TEMPLATE_CONTENT_TYPE = b"wordprocessingml.template.main+xml"
# Other ZIP-based formats, told apart by a part only they have.
OTHER_PACKAGES = (
    ("mimetype", "an OpenDocument file (LibreOffice)"),
    ("xl/workbook.xml", "an Excel workbook"),
    ("ppt/presentation.xml", "a PowerPoint presentation"),
)
SAVE_AS_DOCX = "Save it in Word as “Word Document (.docx)” and upload that."
DAMAGED = "The file is damaged or incomplete: it could not be read as a Word document. " + SAVE_AS_DOCX


def refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def check_package(data: bytes, notes: Notes) -> None:
    """Refuse anything but a readable, macro-free .docx within the size limits; note pictures."""
    check_size(data)
    check_signature(data)
    try:
        package = zipfile.ZipFile(BytesIO(data))
        check_members(package)
        check_content_types(package)
        if package.testzip() is not None:
            raise refuse(DAMAGED, "damaged")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as error:
        # zipfile reports a damaged archive in several ways, depending on where the damage is
        # (NotImplementedError: a compression method it cannot unpack).
        raise refuse(DAMAGED, "damaged") from error
    note_ignored_parts(package.namelist(), notes)


def check_size(data: bytes) -> None:
    if not data:
        raise refuse("The file is empty.", "empty")
    if len(data) > limits.MAX_UPLOAD_BYTES:
        size, limit = len(data) / 1024 / 1024, limits.MAX_UPLOAD_BYTES / 1024 / 1024
        raise refuse(f"The file is {size:.1f} MB; the limit is {limit:.0f} MB.", "too_large")


def check_signature(data: bytes) -> None:
    if data.startswith(OLE_MAGIC):
        raise compound_file_error(data)
    for signature, what in SIGNATURES:
        if data.startswith(signature):
            raise refuse(f"This file is {what}, not a Word document. {SAVE_AS_DOCX}", "not_docx")
    if not data.startswith(ZIP_MAGIC):
        raise refuse(f"This file is not a Word document (.docx). {SAVE_AS_DOCX}", "not_docx")


def compound_file_error(data: bytes) -> ValidationError:
    """An OLE compound file: an encrypted .docx, or a Word 97-2003 .doc (or another old Office file)."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        return refuse(
            "This document is protected with a password, so it cannot be read. Remove the password in Word "
            "(File › Info › Protect Document › Encrypt with Password, then clear it) and upload it again.",
            "password",
        )
    if "WordDocument".encode("utf-16-le") in data:
        return refuse(f"This is a Word 97-2003 document (.doc), an older format. {SAVE_AS_DOCX}", "old_doc")
    return refuse(f"This is an older Office file, not a Word document (.docx). {SAVE_AS_DOCX}", "not_docx")


def check_members(package: zipfile.ZipFile) -> None:
    """Encrypted members, an unpacked size that would exhaust memory, and macros."""
    members = package.infolist()
    if any(member.flag_bits & 0x1 for member in members):
        raise refuse("This file is protected with a password, so it cannot be read.", "password")
    if sum(member.file_size for member in members) > limits.MAX_UNPACKED_BYTES:
        raise refuse(f"The file unpacks to more than {limits.MAX_UNPACKED_BYTES // 1024 // 1024} MB.", "too_large")
    if any(member.filename.lower().endswith("vbaproject.bin") for member in members):
        raise macro_error()
    names = set(package.namelist())
    for part, what in OTHER_PACKAGES:
        if part in names and DOCUMENT_PART not in names:
            raise refuse(f"This file is {what}, not a Word document. {SAVE_AS_DOCX}", "not_docx")
    if DOCUMENT_PART not in names or CONTENT_TYPES_PART not in names:
        raise refuse(DAMAGED, "damaged")


def check_content_types(package: zipfile.ZipFile) -> None:
    content_types = package.read(CONTENT_TYPES_PART)
    if MACRO_CONTENT_TYPE in content_types:
        raise macro_error()
    if TEMPLATE_CONTENT_TYPE in content_types:
        raise refuse(f"This is a Word template (.dotx), not a document. {SAVE_AS_DOCX}", "not_docx")


def macro_error() -> ValidationError:
    return refuse(
        "This document contains macros (a .docm file). Codes are imported from plain documents only: "
        "save it in Word as “Word Document (.docx)”, which leaves the macros out, and upload that.",
        "macros",
    )


def note_ignored_parts(names: list[str], notes: Notes) -> None:
    pictures = [name for name in names if name.startswith("word/media/")]
    objects = [name for name in names if name.startswith("word/embeddings/")]
    if pictures:
        notes.warn(f"The document has {len(pictures)} picture(s); pictures are not imported, only text.")
    if objects:
        notes.warn(
            f"The document has {len(objects)} embedded object(s) (such as a spreadsheet); they are not imported."
        )
