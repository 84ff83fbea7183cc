"""The signed PDF: its text, its embedded evidence, its seal, its metadata, and downloads of the stored bytes."""

import hashlib
import io
import json
from unittest import mock

import pytest
from django.urls import reverse
from pypdf import PdfReader

from acknowledgements.evidence import acknowledgement_evidence
from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.models import AuditEvent, EventKind, SealedPdf
from acknowledgements.paper import acknowledgement_record_on_behalf
from acknowledgements.sealed_pdfs import sealed_pdf_bytes
from acknowledgements.tests.factories import (
    META,
    business_interest,
    governance_sections,
    owing,
    sign,
)
from conduct.tests.factories import PersonFactory, RoleFactory
from core.canonical import canonical_json
from core.pdf import embedded_files, seal_credentials

pytestmark = pytest.mark.django_db


def issued(who, **kwargs):
    ack = sign(who, issue_pdf=False, **kwargs).acknowledgement
    record = acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False)
    return ack, sealed_pdf_bytes(record)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    return "".join(text.split())  # hashes may wrap across lines in the extracted text


def test_the_pdf_text_has_the_signer_code_clauses_and_hashes(declaring):
    ack, pdf = issued(declaring, declaration=business_interest("Hughes Building Services Ltd"))
    text = text_of(pdf)
    assert "Grace Hopper" in text
    assert declaring.code.title in text and declaring.version.label in text
    assert "We must all act fairly." in text and "…be kind" in text
    assert declaring.orgs["north"].name in text and "Employee" in text
    assert ack.statement.split(" of ")[0] in " ".join(text.split())
    assert "Hughes Building Services Ltd" in text
    assert ack.content_hash in flat(text) and ack.evidence_hash in flat(text)
    assert ack.verification_code in text and "/verify/?code=" in flat(text)
    assert "First viewed" in text or "Signed" in text


def test_the_pdf_shows_the_text_as_the_signers_role_saw_it(db):
    trustee = owing(
        name="Ash Trust",
        kind="trustee",
        where="board",
        audience=["trustee", "local_governor"],
        sections=governance_sections(),
    )
    text = " ".join(text_of(issued(trustee)[1]).split())
    assert "Trustees: We will fulfil our responsibilities as a good employer." in text
    assert "We will act as the local ambassadors" not in text
    assert "We will act in the best interests of the pupils." in text


def test_the_embedded_json_is_the_stored_evidence_and_hashes_to_the_evidence_hash(staff):
    ack, pdf = issued(staff)
    embedded = embedded_files(pdf)["evidence.json"]
    assert hashlib.sha256(embedded).hexdigest() == ack.evidence_hash
    assert json.loads(embedded) == json.loads(canonical_json(acknowledgement_evidence(ack)))
    assert json.loads(embedded)["typed_name"] == "Ada Lovelace"


def test_the_seal_validates_with_pyhanko_and_covers_the_whole_file(staff):
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    from core.timestamps import local_tsa_paths

    _, pdf = issued(staff)
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    trust = load_cert_from_pemder(str(seal_credentials().cert_path))
    # The seal carries an RFC 3161 timestamp (PAdES B-T) from the local authority in tests, so the
    # timestamp's certificate is trusted too: the bottom line covers the seal and its timestamp.
    tsa = load_cert_from_pemder(str(local_tsa_paths()[1]))
    context = ValidationContext(trust_roots=[trust, tsa], allow_fetching=False)
    status = validate_pdf_signature(signature, context)
    assert status.timestamp_validity is not None and status.timestamp_validity.intact
    assert status.intact and status.valid and status.bottom_line
    # PAdES B-LT: the validation data (DSS) is the one revision after the seal, and pyHanko sees only that added.
    assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert status.modification_level == ModificationLevel.LTA_UPDATES
    assert status.signing_cert.sha256 == trust.sha256


def test_the_pdf_is_pdf_a_3_with_title_author_subject_and_language(staff):
    _, pdf = issued(staff)
    reader = PdfReader(io.BytesIO(pdf))
    metadata, xmp = reader.metadata, reader.xmp_metadata
    assert metadata is not None and metadata.author is not None and metadata.subject is not None
    assert metadata.title == f"{staff.code.title} {staff.version.label}: acknowledgement by Ada Lovelace"
    assert staff.code.owner.name in metadata.author
    assert "Signed acknowledgement" in metadata.subject
    assert reader.root_object["/Lang"] == "en-GB"
    assert xmp is not None and b"pdfaid" in xmp.stream.get_data()  # the /Root's /Metadata stream


def test_a_paper_record_says_who_recorded_it(staff):
    from datetime import date

    clerk = PersonFactory.create(full_name="Daniel Reeve")
    RoleFactory.create(person=clerk, organisation=staff.orgs["trust"], kind="admin")
    ack = acknowledgement_record_on_behalf(
        person=staff.person,
        version=staff.version,
        recorded_by=clerk,
        typed_name="Ada Lovelace",
        paper_signed_on=date.today(),
        reason="Signed on paper at the staff meeting.",
        declaration=None,
        request_meta=META,
        issue_pdf=False,
    ).acknowledgement
    text = " ".join(
        text_of(sealed_pdf_bytes(acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False))).split()
    )
    assert "Recorded on their behalf by Daniel Reeve" in text and "Signed on paper at the staff meeting." in text


def test_a_download_returns_the_stored_bytes_without_rendering_again(staff, client_for):
    ack, pdf = issued(staff)
    client = client_for(staff.person)
    with mock.patch("acknowledgements.issuing.render_pdf", side_effect=AssertionError("re-rendered")):
        response = client.get(reverse("acknowledgements:pdf", args=[ack.pk]), REMOTE_ADDR="192.0.2.77")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(pdf))
    # "PDF downloaded" is recorded once the bytes have gone, not when the view answers:
    assert not AuditEvent.objects.filter(kind=EventKind.PDF_DOWNLOADED).exists()
    content = b"".join(response.streaming_content)
    assert content == pdf and hashlib.sha256(content).hexdigest() == SealedPdf.objects.get().sha256
    assert "attachment" in response["Content-Disposition"] and ack.verification_code in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    download = AuditEvent.objects.get(kind=EventKind.PDF_DOWNLOADED)
    assert (download.acknowledgement, download.actor, download.ip_address) == (ack, staff.person, "192.0.2.77")


def test_before_the_pdf_exists_the_record_page_says_it_is_being_prepared(staff, client_for):
    ack = sign(staff, issue_pdf=False).acknowledgement
    client = client_for(staff.person)
    assert "being prepared" in client.get(ack.get_absolute_url()).content.decode()
    assert client.get(reverse("acknowledgements:pdf", args=[ack.pk])).status_code == 404
    assert client.get(reverse("acknowledgements:pdf_status", args=[ack.pk])).json() == {"ready": False, "url": None}
    acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False)
    assert client.get(reverse("acknowledgements:pdf_status", args=[ack.pk])).json() == {
        "ready": True,
        "url": reverse("acknowledgements:pdf", args=[ack.pk]),
    }
    assert "Download the signed PDF" in client.get(ack.get_absolute_url()).content.decode()


def test_viewing_an_old_record_without_a_pdf_issues_nothing(staff, client_for, django_capture_on_commit_callbacks):
    """A GET changes nothing: the periodic sweep issues missing PDFs (test_missing_pdfs.py)."""
    from datetime import timedelta

    from django.utils import timezone

    ack = sign(staff, issue_pdf=False, at=timezone.now() - timedelta(days=30)).acknowledgement
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert "being prepared" in client_for(staff.person).get(ack.get_absolute_url()).content.decode()
    assert queued == [] and not SealedPdf.objects.filter(acknowledgement=ack).exists()
