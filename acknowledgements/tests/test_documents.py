"""Issued PDFs: PDF/A-3 with metadata and embedded evidence, sealed, tamper-evident, stored once."""

import io
import json
import re
import threading

import pytest
from pypdf import PdfReader, PdfWriter

from acknowledgements.sealed_pdfs import sealed_pdf_bytes, sealed_pdf_store
from conduct.tests.factories import CodeFactory, adopt, make_version
from core.pdf import (
    Attachment,
    check_seal,
    embedded_files,
    qr_svg,
    render_pdf,
    render_template_pdf,
    seal_pdf,
)

HTML = "<html lang='en-GB'><body><h1>Staff Code of Conduct</h1><p>We must all act fairly.</p></body></html>"
EVIDENCE = {"person": "Ada Lovelace", "content_hash": "ab" * 32}


@pytest.fixture(scope="module")
def sealed() -> bytes:
    pdf = render_pdf(
        HTML,
        title="Acknowledgement",
        author="Codes of Conduct",
        subject="Signed acknowledgement",
        attachments=[Attachment("evidence.json", json.dumps(EVIDENCE).encode(), "Evidence")],
    )
    return seal_pdf(pdf, reason="Acknowledgement evidence")


def test_pdf_is_pdf_a_3_with_metadata_and_language(sealed):
    reader = PdfReader(io.BytesIO(sealed))
    metadata, xmp_metadata = reader.metadata, reader.xmp_metadata
    assert metadata is not None and xmp_metadata is not None
    assert metadata.title == "Acknowledgement"
    assert metadata.author == "Codes of Conduct"
    assert metadata.subject == "Signed acknowledgement"
    assert reader.root_object["/Lang"] == "en-GB"
    xmp = xmp_metadata.stream.get_data()  # the /Root's /Metadata stream
    # XMP allows the PDF/A identification as attributes or as elements.
    assert re.search(rb'pdfaid:part(="3"|>3</pdfaid:part>)', xmp), xmp
    assert re.search(rb'pdfaid:conformance(="B"|>B</pdfaid:conformance>)', xmp), xmp
    assert "We must all act fairly." in reader.pages[0].extract_text()


def test_evidence_json_is_embedded_and_reads_back(sealed):
    assert json.loads(embedded_files(sealed)["evidence.json"]) == EVIDENCE


def test_seal_validates(sealed):
    result = check_seal(sealed)
    assert result.ok and result.intact and result.covers_whole_file and result.ours, result.problem


def test_one_byte_changed_breaks_the_seal(sealed):
    tampered = bytearray(sealed)
    position = sealed.index(b"We must all") if b"We must all" in sealed else len(sealed) // 3
    tampered[position] ^= 0x01
    result = check_seal(bytes(tampered))
    assert not result.ok and result.problem


def test_a_resaved_copy_is_not_verified(sealed):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sealed)))
    out = io.BytesIO()
    writer.write(out)
    result = check_seal(out.getvalue())
    assert not result.ok


def test_unsealed_and_non_pdf_files_are_refused():
    assert check_seal(render_pdf(HTML, title="t", author="a", subject="s")).problem == "The PDF carries no seal."
    assert check_seal(b"hello").problem == "The file is not a PDF."
    assert not check_seal(b"%PDF-1.7 garbage").ok


def test_qr_code_is_inline_svg():
    svg = qr_svg("https://example.org/verify/?code=ABCD-EFGH")
    assert svg.startswith("<svg") and "</svg>" in svg


def test_base_template_renders(db):
    pdf = render_template_pdf("pdf/base.html", {}, title="Blank", author="a", subject="s")
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None and metadata.title == "Blank"


@pytest.mark.django_db
def test_store_keeps_the_first_pdf_for_a_subject(tree, sealed):

    adoption = adopt(make_version(CodeFactory.create(owner=tree["trust"])), tree["board"])
    first = sealed_pdf_store(content=sealed, adoption=adoption)
    second = sealed_pdf_store(content=sealed + b"\n%different", adoption=adoption)
    assert second.pk == first.pk
    assert sealed_pdf_bytes(first) == sealed
    assert first.size == len(sealed) and len(first.sha256) == 64
    with pytest.raises(ValueError):
        sealed_pdf_store(content=sealed)


def test_sealing_and_checking_work_inside_a_running_event_loop():
    """pyHanko uses asyncio.run internally; callers that run a loop (async code, Playwright) must still work."""
    import asyncio

    async def inside_a_loop() -> bool:
        pdf = seal_pdf(render_pdf(HTML, title="t", author="a", subject="s"), reason="test")
        return check_seal(pdf).ok

    # A thread of its own, so the test does not depend on what else runs a loop in this process.
    result: dict[str, bool] = {}
    worker = threading.Thread(target=lambda: result.setdefault("ok", asyncio.run(inside_a_loop())))
    worker.start()
    worker.join()
    assert result == {"ok": True}
