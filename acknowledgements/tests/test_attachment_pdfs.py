"""A version's attached files travel inside its signed PDFs and adoption certificates (PDF/A-3 attachments),
byte for byte, beside the evidence JSON, and the printed text lists each (file name, size, SHA-256); the PDF
still verifies."""

import hashlib
import io
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from acknowledgements.certificates import adoption_certificate_issue
from acknowledgements.issuing import EVIDENCE_FILE, acknowledgement_pdf_issue
from acknowledgements.sealed_pdfs import sealed_pdf_bytes
from acknowledgements.tests.factories import sign
from acknowledgements.verification import verify_pdf
from conduct.attachments import attachment_add
from conduct.models import Adoption, CodeVersion
from conduct.tests.factories import CodeFactory, PersonFactory, RoleFactory, adopt, make_version, trust_tree
from core.pdf import embedded_files

pytestmark = pytest.mark.django_db
PDF = (Path(settings.BASE_DIR) / "fixtures" / "attachments" / "the-academy-way-placeholder.pdf").read_bytes()


def printed_without_spaces(pdf: bytes) -> str:
    """The PDF's text with all white space removed (a 64-digit hash wraps inside its table cell)."""
    return "".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def assert_lists_the_file(pdf: bytes) -> None:
    text = printed_without_spaces(pdf)
    assert "Attachedfiles" in text
    assert "academy-way.pdf" in text and "Appendix2" in text
    assert f"({len(PDF)}bytes)" in text
    assert hashlib.sha256(PDF).hexdigest() in text


@pytest.fixture
def signer_of_a_code_with_a_file():
    orgs = trust_tree("Oak Trust")
    code = CodeFactory.create(owner=orgs["trust"], title="Oak Staff Code", audience=["employee"])
    admin = PersonFactory.create()
    RoleFactory.create(person=admin, organisation=orgs["trust"], kind="admin")
    version = make_version(code)
    attachment_add(version=version, actor=admin, data=PDF, filename="academy-way.pdf", title="Appendix 2")
    person = PersonFactory.create()
    RoleFactory.create(person=person, organisation=orgs["north"], kind="employee")
    adopt(version, orgs["board"])
    version = CodeVersion.objects.get(pk=version.pk)

    class Who:
        pass

    who = Who()
    who.person, who.version, who.code, who.orgs = person, version, code, orgs  # type: ignore[attr-defined]
    return who


def test_the_signed_pdf_embeds_the_files_and_still_verifies(signer_of_a_code_with_a_file):
    who = signer_of_a_code_with_a_file
    ack = sign(who, issue_pdf=False).acknowledgement
    pdf = sealed_pdf_bytes(acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False))
    files = embedded_files(pdf)
    assert set(files) == {EVIDENCE_FILE, "academy-way.pdf"} and files["academy-way.pdf"] == PDF
    assert verify_pdf(pdf).verified
    assert_lists_the_file(pdf)


def test_the_adoption_certificate_embeds_the_files(signer_of_a_code_with_a_file):
    adoption = Adoption.objects.get(version=signer_of_a_code_with_a_file.version)
    pdf = sealed_pdf_bytes(adoption_certificate_issue(adoption_id=adoption.pk))
    assert embedded_files(pdf)["academy-way.pdf"] == PDF
    assert_lists_the_file(pdf)


def test_a_pdf_of_a_version_without_files_lists_none(signer_of_a_code_with_a_file):
    who = signer_of_a_code_with_a_file
    bare = make_version(who.code, "2026-2027")
    adopt(bare, who.orgs["board"])
    adoption = Adoption.objects.get(version=bare)
    pdf = sealed_pdf_bytes(adoption_certificate_issue(adoption_id=adoption.pk))
    assert "Attachedfiles" not in printed_without_spaces(pdf) and "academy-way.pdf" not in embedded_files(pdf)
