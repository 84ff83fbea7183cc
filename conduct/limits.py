"""How much text a code version may hold: one definition, for the importer and the drafting forms.

Each limit sits well above the longest real text in the three codes this product was built from
(measured on fixtures/codes/*.json, figures below) and below what makes the documents we issue
expensive: a 1 MB clause made the adoption certificate cost 55 s. What grows fastest is a clause's
length: conduct.diff pairs changed clauses by character-level similarity (difflib), whose cost
grows with the square of the length. Measured on this machine with the staff code's own wording,
one such comparison takes 9-14 ms at 669 characters, 150 ms at 2,000, 0.5-1 s at 5,000 and 4-6 s
at 10,000. Rendering is cheap by comparison: WeasyPrint lays out 160,000 characters of ordinary
paragraphs in under a second.
"""

from __future__ import annotations

# Longest clause: 669 characters (staff code 8.5). 2,000 is three times that, about 330 words,
# longer than any paragraph a reader should be asked to sign as one statement; comparing two
# such clauses costs about 0.15 s, where 5,000 would cost up to 1 s each.
MAX_CLAUSE_TEXT_CHARS = 2_000

# Longest bold lead-in ("term"): 21 characters ("Courageous Leadership"). The column holds 120.
MAX_TERM_CHARS = 120

# Longest section heading: 89 characters (the staff code's Appendix 1 title). 200 is over twice
# that and leaves room in the 300-character column.
MAX_SECTION_TITLE_CHARS = 200

# A code's summary and declaration prompt (text columns, shown on every signing page and PDF): the seed codes
# are one or two sentences (under 300 characters). 2,000 is the clause limit: room for a paragraph.
MAX_CODE_SUMMARY_CHARS = MAX_CLAUSE_TEXT_CHARS

# Most clauses in a version: 169 (staff code). 1,000 is about 6x that.
MAX_CLAUSES_PER_VERSION = 1_000

# Most sections in a version: 29 (staff code). 200 is about 7x that.
MAX_SECTIONS_PER_VERSION = 200

# Most text in a version: 25,792 characters of clause text (staff code). 200,000 is about 8x
# that: every reader signs all of it, and it stays within what renders in about a second.
MAX_VERSION_TEXT_CHARS = 200_000

# A Word upload: the three codes written as .docx (by the tests, with python-docx) are 38-47 KB;
# a real one with a logo in its header is a few hundred KB. 5 MB leaves room for pictures, which
# the importer leaves out anyway.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

# Pasted text: the longest source (staff code) is 27,662 characters with its conversion
# artefacts; this allows the whole version-wide total plus layout and artefacts around it.
MAX_PASTED_TEXT_CHARS = 2 * MAX_VERSION_TEXT_CHARS

# A .docx is a ZIP: what it may unpack to, so a small "zip bomb" cannot exhaust memory. A .docx's
# XML is typically 5-20x smaller when zipped; its pictures hardly shrink.
MAX_UNPACKED_BYTES = 10 * MAX_UPLOAD_BYTES

# A clause's number ("1.1", "(a)", "17.3.2"): the database column holds 20 characters.
MAX_NUMBER_CHARS = 20

# A file attached to a version (PDF or Word): the staff code's Appendix 2 ("The Academy Way") is a
# one- or two-page leaflet, typically 100-500 KB with a logo. Every signed PDF and adoption certificate
# of the version embeds its files, and /verify/ reads an uploaded PDF's embedded files within
# core.pdf's bounds (EMBEDDED_FILES_MAX = 8 files, EMBEDDED_BYTES_MAX = 4 MB decoded), so the files
# together stay within 3 MB, five at most (with the evidence JSON, six), and any one within 2 MB:
# four times the largest leaflet, and what a signed PDF can carry and still be verified.
MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024
MAX_ATTACHMENTS_TOTAL_BYTES = 3 * 1024 * 1024
MAX_ATTACHMENTS_PER_VERSION = 5

# A file's title and name, shown on the reading page: the columns hold 200 characters.
MAX_ATTACHMENT_TITLE_CHARS = 200
