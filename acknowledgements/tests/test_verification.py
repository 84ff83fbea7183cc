"""The public verification page: VERIFIED only for the issued bytes, an intact seal and unaltered evidence."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader, PdfWriter

from acknowledgements.certificates import adoption_certificate_issue
from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.models import Interest, SealedPdf
from acknowledgements.sealed_pdfs import sealed_pdf_bytes
from acknowledgements.tests.factories import business_interest, sign, tamper
from acknowledgements.verification import verify_code, verify_pdf
from conduct.models import Adoption

pytestmark = pytest.mark.django_db
URL = "/verify/"


@pytest.fixture
def signed(staff):
    ack = sign(staff, issue_pdf=False).acknowledgement
    record = acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False)
    return ack, sealed_pdf_bytes(record)


def upload(client, content: bytes, name: str = "signed.pdf"):
    return client.post(URL, {"file": SimpleUploadedFile(name, content, content_type="application/pdf")})


def test_the_page_is_public_and_verifies_an_issued_pdf(client, signed):
    ack, pdf = signed
    assert reverse("acknowledgements:verify") == URL
    response = upload(client, pdf)
    page = response.content.decode()
    assert response.status_code == 200 and "VERIFIED" in page and "NOT VERIFIED" not in page
    assert "Ada Lovelace" in page and ack.version.code.title in page and ack.evidence_hash in page


def test_a_pdf_with_one_byte_changed_is_not_verified(client, signed):
    _, pdf = signed
    changed = bytearray(pdf)
    position = pdf.index(b"We must all act fairly") if b"We must all act fairly" in pdf else len(pdf) // 2
    changed[position] ^= 0x01
    result = verify_pdf(bytes(changed))
    assert not result.verified and result.reasons
    page = upload(client, bytes(changed)).content.decode()
    assert "NOT VERIFIED" in page and "The seal is broken: the file was changed after it was issued." in page


def test_a_re_saved_copy_is_not_verified(signed):
    _, pdf = signed
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    buffer = io.BytesIO()
    writer.write(buffer)
    result = verify_pdf(buffer.getvalue())
    assert not result.verified
    assert (
        "re-saving a PDF" in result.reasons[0] and "it is not the file we issued for that record" in result.reasons[0]
    )


def test_a_record_whose_stored_data_was_altered_is_not_verified(client, signed):
    ack, pdf = signed
    tamper("acknowledgements_acknowledgement", ack.pk, "typed_name", "Someone Else")
    result = verify_pdf(pdf)
    assert not result.verified
    assert result.reasons == [
        "The record no longer matches its evidence hash: its stored data has been altered.",
        "The record: its personal fields no longer match what was signed (typed_name).",
    ]
    assert "NOT VERIFIED" in upload(client, pdf).content.decode()


def test_an_altered_declaration_is_caught_too(declaring):

    ack = sign(declaring, declaration=business_interest("Acme Ltd"), issue_pdf=False).acknowledgement
    pdf = sealed_pdf_bytes(acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False))
    assert verify_pdf(pdf).verified
    tamper("acknowledgements_interest", Interest.objects.get().pk, "counterparty", "Nobody Ltd")
    assert not verify_pdf(pdf).verified


def test_the_verification_code_looks_the_record_up(client, signed):
    ack, _ = signed
    assert verify_code(ack.verification_code).verified
    assert verify_code(ack.verification_code.lower().replace("-", " ")).verified
    page = client.post(URL, {"code": ack.verification_code}).content.decode()
    assert "VERIFIED" in page and "Ada Lovelace" in page
    assert "VERIFIED" in client.get(URL, {"code": ack.verification_code}).content.decode()


def test_a_stored_pdf_changed_on_disk_fails_code_verification(signed):
    ack, pdf = signed
    record = SealedPdf.objects.get()
    with open(record.file.path, "r+b") as handle:
        handle.seek(len(pdf) // 2)
        handle.write(b"X")
    result = verify_code(ack.verification_code)
    assert not result.verified and "no longer matches the fingerprint" in result.reasons[0]


def test_unknown_and_malformed_codes_say_so(db):
    assert "No record has this verification code" in verify_code("AAAA-BBBB-CCCC-DDDD").reasons[0]
    assert "not a verification code" in verify_code("hello").reasons[0]


def test_a_record_without_its_pdf_yet_is_explained(staff):
    ack = sign(staff, issue_pdf=False).acknowledgement
    assert "has not been issued yet" in verify_code(ack.verification_code).reasons[0]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "The submitted file is empty."),
        (b"PK\x03\x04 this is a zip file", "The file is not a PDF."),
    ],
)
def test_empty_and_non_pdf_uploads_get_a_clear_message(client, db, content, message):
    response = upload(client, content, "upload.pdf")
    assert response.status_code == 400 and message in response.content.decode()


def test_an_oversized_upload_is_refused_while_it_is_read(client, signed, settings):
    _, pdf = signed
    settings.VERIFICATION_UPLOAD_MAX_BYTES = 2048  # the PDF is larger: reading stops at the limit
    response = upload(client, pdf)
    assert (
        response.status_code == 413 and "too large to be one we issued (the limit is 2 KB)" in response.content.decode()
    )


def test_an_upload_announced_as_far_too_large_is_refused_unread(client, db, settings):
    settings.VERIFICATION_UPLOAD_MAX_BYTES = 1024
    response = upload(client, b"%PDF-" + b"x" * 200_000)
    assert response.status_code == 413 and "too large to be one we issued" in response.content.decode()


def test_nothing_given_asks_for_a_file_or_code(client, db):
    response = client.post(URL, {})
    assert (
        response.status_code == 400
        and "Upload a signed PDF or type its verification code." in response.content.decode()
    )


def test_an_adoption_certificate_verifies_on_the_same_page(client, staff):

    adoption = Adoption.objects.get(version=staff.version)
    pdf = sealed_pdf_bytes(adoption_certificate_issue(adoption_id=adoption.pk))
    result = verify_pdf(pdf)
    assert result.verified and result.kind == "adoption"
    assert dict(result.facts)["Adopted by"] == staff.orgs["board"].name
    assert verify_code(adoption.verification_code).verified
    tamper("conduct_adoption", adoption.pk, "minute_reference", "altered")
    assert not verify_pdf(pdf).verified
    assert "NOT VERIFIED" in upload(client, pdf).content.decode()
