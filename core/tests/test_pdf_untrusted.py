"""Reading an uploaded PDF: bounded in memory, files and time; anything the parser chokes on is "not verified"."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.urls import reverse

from core.pdf import (
    EMBEDDED_FILES_MAX,
    Attachment,
    PdfTooComplex,
    check_seal,
    embedded_files,
    render_pdf,
    seal_pdf,
)
from devtools.hostile_pdfs import flate_bomb_pdf, many_files_pdf

HTML = "<html lang='en-GB'><body><h1>Staff Code of Conduct</h1><p>We must all act fairly.</p></body></html>"


@pytest.fixture(scope="module")
def sealed() -> bytes:
    pdf = render_pdf(
        HTML,
        title="Acknowledgement",
        author="Codes of Conduct",
        subject="Signed acknowledgement",
        attachments=[Attachment("evidence.json", json.dumps({"verification_code": "K7QX-M2PD-9RTW-HB4N"}).encode())],
    )
    return seal_pdf(pdf, reason="Acknowledgement evidence")


def test_an_issued_pdf_reads_within_the_bounds(sealed):
    assert json.loads(embedded_files(sealed)["evidence.json"]) == {"verification_code": "K7QX-M2PD-9RTW-HB4N"}
    assert check_seal(sealed).ok


@pytest.mark.parametrize("layers", [1, 2])
def test_a_stream_that_inflates_far_beyond_the_upload_is_refused_unread(layers):
    bomb = flate_bomb_pdf(400 * 1024 * 1024, layers=layers)  # 400 MB of zeros in an upload of 400 KB (1 layer)
    with pytest.raises(PdfTooComplex, match="expands to far more data"):
        embedded_files(bomb)


def test_attached_files_larger_in_all_than_any_we_issue_are_refused():
    with pytest.raises(PdfTooComplex, match="attached files are far larger"):
        embedded_files(flate_bomb_pdf(6 * 1024 * 1024))  # within the stream limit, beyond the attachments' total


def test_more_embedded_files_than_we_would_ever_issue_are_refused():
    assert len(embedded_files(many_files_pdf(EMBEDDED_FILES_MAX, each_decoded=10))) == EMBEDDED_FILES_MAX
    with pytest.raises(PdfTooComplex, match=f"more than {EMBEDDED_FILES_MAX} attached files"):
        embedded_files(many_files_pdf(5000, each_decoded=10))


def test_a_malformed_number_is_not_verified_instead_of_raising(sealed):
    # A width in the cross-reference stream's /W array made "." used to raise decimal.InvalidOperation (a 500).
    widths = re.search(rb"/W \[(\d)", sealed)
    assert widths is not None
    damaged = sealed[: widths.start(1)] + b"." + sealed[widths.end(1) :]
    result = check_seal(damaged)
    assert not result.ok and result.problem
    with pytest.raises(PdfTooComplex):
        embedded_files(damaged)


def test_single_byte_changes_never_raise_and_never_read_as_sealed(sealed):
    # The signature's own /Contents is outside the signed byte range, and parts of the CMS inside it (the
    # certificates it carries) are not signed either; nor is the validation data appended after the seal
    # (PAdES B-LT's DSS revision), where a change that leaves the data usable leaves the seal valid. A change
    # there is caught by /verify/'s fingerprint instead (test_tamper_matrix's 500 random changes).
    contents = re.search(rb"/Contents <([0-9A-Fa-f]+)>", sealed)
    assert contents is not None
    signed_end = sum(_signed_byte_range(sealed)[2:])
    step = max(1, len(sealed) // 150)
    for offset in range(0, len(sealed), step):
        for replacement in (b".", b"0", b"\xff"):
            if sealed[offset : offset + 1] == replacement:
                continue
            damaged = sealed[:offset] + replacement + sealed[offset + 1 :]
            result = check_seal(damaged)  # must not raise
            if not contents.start(1) <= offset < contents.end(1) and offset < signed_end:
                assert not result.ok, f"byte {offset} changed to {replacement!r} still reads as sealed"


def _signed_byte_range(pdf: bytes) -> list[int]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return list(PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0].byte_range)


def test_the_verify_page_shows_a_bomb_as_not_verified(client, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bomb = flate_bomb_pdf(300 * 1024 * 1024)
    response = client.post(
        reverse("acknowledgements:verify"), {"file": SimpleUploadedFile("x.pdf", bomb, content_type="application/pdf")}
    )
    assert response.status_code == 200
    assert "NOT VERIFIED" in response.content.decode().upper()
