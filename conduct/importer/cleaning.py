"""Conversion artefacts and whitespace: what is not the code's text, and how its text is spaced.

Documents converted to text (and some Word files built from such text) carry traces of the
conversion: bookmark tags, page links ("top of page"), the file names of pictures, separator lines.
They are left out and counted, so the review can say what was removed.
"""

from __future__ import annotations

import re

from conduct.importer.proposal import Notes

BOOKMARK_RE = re.compile(r"\[bookmark: [^\]]*\]")
# Control characters (tab, newline and carriage return excepted), zero-width spaces and byte
# order marks: invisible, and never meant as part of a clause.
INVISIBLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff]")
# Page navigation links of documents saved from a web page.
PAGE_LINKS = {"top of page", "bottom of page", "back to top"}
# A line that is only a picture's file name ("thumbnail_EMSH Colour Logo.png").
IMAGE_NAME_RE = re.compile(r"^[^.!?:;]{1,200}\.(?:png|jpe?g|gif|bmp|emf|wmf|svg|tiff?|webp)$", re.IGNORECASE)
# A line made only of symbols: "* * *", "-----", "____".
SEPARATOR_RE = re.compile(r"^[\W_]+$")


def collapse(text: str) -> str:
    """Runs of whitespace (tabs, no-break spaces, line breaks) become one space: a clause is one line."""
    return " ".join(text.split())


def strip_invisible(text: str, notes: Notes) -> str:
    """Remove bookmark tags and invisible characters, keeping the layout (indentation, tabs)."""
    text, bookmarks = BOOKMARK_RE.subn("", text)
    if bookmarks:
        notes.artefacts["bookmark"] += bookmarks
    return INVISIBLE_RE.sub("", text)


def is_artefact(text: str, notes: Notes) -> bool:
    """Whether a whole (collapsed) line is a conversion artefact; counts it if so."""
    if text.lower() in PAGE_LINKS:
        kind = "page_link"
    elif IMAGE_NAME_RE.match(text):
        kind = "image_name"
    elif SEPARATOR_RE.match(text):
        kind = "separator"
    else:
        return False
    notes.artefacts[kind] += 1
    return True
