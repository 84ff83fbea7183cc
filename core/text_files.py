"""Reading uploaded text files (CSV) whose encoding nobody tells us.

The rule is: decode only what can be told apart for certain, refuse the rest
with a message saying how to save the file, and never guess.

- A byte-order mark says what the file is: UTF-8 (Excel's "CSV UTF-8"),
  UTF-16 (Excel's "Unicode Text") or UTF-32, little- or big-endian.
- Without one, UTF-8 is tried strictly. Text that is not UTF-8 almost never
  decodes as UTF-8 by chance, so a file that does is UTF-8.
- Otherwise the one legacy encoding a UK school's older Excel writes,
  Windows-1252, is accepted only when every character outside ASCII is an
  accented Latin letter inside a word ("Renée", "Conceição") or common
  typographic punctuation (’ “ ” – — … £ €) standing beside plain text. Text
  in any other encoding (Shift-JIS, GB 2312, KOI8-R…) read as Windows-1252
  yields runs of symbols and stray capitals that fail that test, so it is
  refused instead of being imported as mojibake.
- A NUL character in the text means a binary file (or UTF-16 without its
  mark): refused.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from django.core.exceptions import ValidationError

SAVE_AS = "Save the spreadsheet as “CSV UTF-8 (comma delimited)” and upload that."

NOT_TEXT = f"The file is not text in an encoding we can read for certain. {SAVE_AS}"
NOT_CSV = f"The file is not a CSV file. {SAVE_AS}"

# Longest first: UTF-32-LE's mark begins with UTF-16-LE's.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Windows-1252 punctuation a spreadsheet of names and roles may hold.
_LEGACY_PUNCTUATION = frozenset("\u00a0‘’“”–—…•£€°·´¨©®™½¼¾§ªº")


def _is_latin_letter(char: str) -> bool:
    """An accented letter of the Latin-1 or Latin Extended-A blocks (é, ç, ø, ß, Œ, š …)."""
    return "\u00c0" <= char <= "\u017f" and char not in "×÷" and unicodedata.category(char).startswith("L")


_WORD = re.compile(r"[^\W\d_]+")  # a run of letters


def _plausible_windows_1252(text: str) -> bool:
    """Every character outside ASCII is an accented letter in a Latin word, or punctuation beside plain text."""
    for match in _WORD.finditer(text):
        word = match.group()
        if word.isascii():
            continue
        if not all(char.isascii() or _is_latin_letter(char) for char in word):
            return False
        # A Latin word has plain letters too, and at most two accented ones in a row ("Conceição").
        if not any(char.isascii() for char in word) or re.search(r"[^\x00-\x7f]{3}", word):
            return False
    for index, char in enumerate(text):
        if char.isascii() or char.isalpha():
            continue
        if char not in _LEGACY_PUNCTUATION:
            return False
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        if not before.isascii() or not after.isascii():
            return False
    return True


def decode_upload(data: bytes) -> str:
    """The text of an uploaded file, or ValidationError with a message for the person who uploaded it."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    f"The file says it is {encoding.upper()[:6]} text but is damaged. {SAVE_AS}", code="encoding"
                ) from exc
            break
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as exc:
                raise ValidationError(NOT_TEXT, code="encoding") from exc
            if "\x00" not in text and not _plausible_windows_1252(text):
                raise ValidationError(NOT_TEXT, code="encoding") from None
    if "\x00" in text:
        raise ValidationError(NOT_CSV, code="binary")
    return text
