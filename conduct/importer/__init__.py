"""Import a code of conduct from a Word document or from pasted text.

The result is a proposal, never a version: ``ImportProposal.sections`` is in the fixture
format that ``conduct.services.version_create_from_content`` accepts, so a person reviews the
proposal (and its ``warnings`` and ``unplaced`` text) and only then makes a draft of it.

Reading is in two steps so both sources share one set of rules: ``word`` and ``text`` turn
their input into a flat list of ``Block`` (a heading, a list item or a paragraph, with what the
source's formatting said about it), and ``structure`` turns blocks into sections and clauses.
"""

from conduct.importer.proposal import ImportProposal
from conduct.importer.text import code_import_text
from conduct.importer.word import code_import_docx

__all__ = ["ImportProposal", "code_import_docx", "code_import_text"]
