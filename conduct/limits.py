"""How much text a code version may hold: one definition, for the importer and the drafting forms.

Each limit sits well above the longest real text in the three codes this product was built from
(measured on fixtures/codes/*.json, figures below) and well below what makes the documents we
issue expensive: a 1 MB clause made the adoption certificate cost 55 s, because pairing clauses
by similar wording (conduct.diff) compares characters, which grows with the square of a clause's
length. On this machine WeasyPrint lays out 160,000 characters of ordinary paragraphs in under a
second, so the version-wide total is bounded by review effort more than by rendering.
"""

from __future__ import annotations

# Longest clause: 669 characters (staff code 8.5). 5,000 is 7x that, about 800 words: a long
# legal paragraph. At the 1 MB = 55 s rate, squared, one such clause costs about 1.4 ms to pair.
MAX_CLAUSE_TEXT_CHARS = 5_000

# Longest bold lead-in ("term"): 21 characters ("Courageous Leadership"). The column holds 120.
MAX_TERM_CHARS = 120

# Longest section heading: 89 characters (the staff code's Appendix 1 title). 200 is over twice
# that and leaves room in the 300-character column.
MAX_SECTION_TITLE_CHARS = 200

# Most clauses in a version: 169 (staff code). 1,000 is about 6x that.
MAX_CLAUSES_PER_VERSION = 1_000

# Most sections in a version: 29 (staff code). 200 is about 7x that.
MAX_SECTIONS_PER_VERSION = 200

# Most text in a version: 25,792 characters of clause text (staff code). 200,000 is about 8x
# that: every reader signs all of it, and it stays within what renders in about a second.
MAX_VERSION_TEXT_CHARS = 200_000

# A Word upload: the three codes as .docx are about 40 KB each; a real one with a logo in its
# header is a few hundred KB. 5 MB leaves room for pictures that the importer leaves out anyway.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

# Pasted text: the longest source (staff code) is 27,662 characters with its conversion
# artefacts; this allows the whole version-wide total plus layout and artefacts around it.
MAX_PASTED_TEXT_CHARS = 2 * MAX_VERSION_TEXT_CHARS

# A .docx is a ZIP: what it may unpack to, so a small "zip bomb" cannot exhaust memory. A .docx's
# XML is typically 5-20x smaller when zipped; its pictures hardly shrink.
MAX_UNPACKED_BYTES = 10 * MAX_UPLOAD_BYTES

# A clause's number ("1.1", "(a)", "17.3.2"): the database column holds 20 characters.
MAX_NUMBER_CHARS = 20
