"""PAdES B-LT seals and timestamp trust, against a certomancer PKI with real CRL and OCSP answers (core/tests/pki.py).

The seal here is issued by an intermediate CA, valid for one day, with CRL and OCSP endpoints; the authority
is a certomancer TSA under the same root; a second authority under a root nobody trusts stands in for a
timestamp from someone else.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from core.pdf import Attachment, check_seal, render_pdf, seal_pdf
from core.seal_validation import UNTRUSTED_AUTHORITY
from core.tests.pki import LocalPki, served_pki, use

__all__ = ["served_pki"]  # the fixture, imported to be used here


@pytest.fixture
def pki(served_pki) -> LocalPki:
    return served_pki


@pytest.fixture(scope="module")
def document() -> bytes:
    return render_pdf(
        "<p>We must all act fairly.</p>",
        title="A code",
        author="Test",
        subject="Seal test",
        attachments=[Attachment("evidence.json", b'{"record": 1}')],
    )


@pytest.fixture
def sealing(pki, settings) -> LocalPki:
    return use(pki, settings)


def dss_of(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    from core.seal_validation import validation_data

    return validation_data(PdfFileReader(io.BytesIO(pdf)))


def names(certificates) -> set[str]:
    return {cert.subject.native["common_name"] for cert in certificates}


def signed_revision(pdf: bytes) -> bytes:
    """The file as it was when the seal was made: without the DSS revision appended after it."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    _, _, second, length = signature.byte_range
    return pdf[: second + length]


def without_timestamp(pdf: bytes) -> bytes:
    """The same file with the timestamp taken out of the signature's unsigned attributes, the rest untouched.

    The signature container sits in a fixed-size hex placeholder outside the signed bytes, so the smaller
    container is padded with zeros as pyHanko pads it: the seal still covers the same bytes, only the
    authority's proof of time is gone."""
    from asn1crypto import cms  # type: ignore[import-untyped]
    from pyhanko.pdf_utils.reader import PdfFileReader

    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    _, first, second, _ = signature.byte_range
    placeholder = pdf[first:second]  # "<hex...>"
    container = cms.ContentInfo.load(bytes.fromhex(placeholder[1:-1].decode()))  # trailing zeros: padding
    container["content"]["signer_infos"][0]["unsigned_attrs"] = None
    hex_container = container.dump(force=True).hex().encode()
    assert len(hex_container) < len(placeholder) - 2
    replacement = b"<" + hex_container.ljust(len(placeholder) - 2, b"0") + b">"
    return pdf[:first] + replacement + pdf[second:]


def test_a_seal_embeds_its_chain_and_revocation_data_and_the_authoritys(sealing, document):
    sealed = seal_pdf(document, reason="test")
    dss = dss_of(sealed)
    assert dss["present"]
    assert {"Test document seal", "Test intermediate CA", "Test root CA", "Test timestamp authority"} <= names(
        dss["other_certs"]
    )
    assert dss["ocsps"], "the seal certificate's OCSP answer is embedded"
    assert dss["crls"], "the CRLs the chain names are embedded"
    check = check_seal(sealed)
    assert check.ok and check.validation_data and check.covers_whole_file, check.problem
    assert check.timestamped_at is not None


def test_after_the_seal_certificate_expired_it_still_verifies_by_its_timestamp(sealing, document):
    sealed = seal_pdf(document, reason="test")
    after_expiry = sealing.seal_not_after + timedelta(days=30)
    check = check_seal(sealed, at=after_expiry)
    assert check.ok, check.problem
    assert check.timestamped_at is not None and check.timestamped_at < sealing.seal_not_after


def test_without_its_validation_data_the_seal_is_not_verified_and_says_why(sealing, document):
    stripped = signed_revision(seal_pdf(document, reason="test"))
    assert not dss_of(stripped)["present"]
    check = check_seal(stripped, at=sealing.seal_not_after + timedelta(days=30))
    assert not check.ok and check.intact and check.ours and not check.validation_data
    assert check.problem == (
        "The seal's certificate chain cannot be validated: the PDF lacks the validation data (certificates and "
        "revocation information) it was issued with."
    )


def test_without_its_timestamp_an_expired_seal_is_not_verified_and_says_why(sealing, document):
    sealed = seal_pdf(document, reason="test")
    bare = without_timestamp(sealed)
    assert check_seal(bare).intact, "the seal itself is untouched: only the timestamp went"
    check = check_seal(bare, at=sealing.seal_not_after + timedelta(days=30))
    assert not check.ok and check.intact and check.timestamped_at is None
    assert check.problem == (
        "The seal's certificate has expired and the seal carries no timestamp to show it was made before then."
    )
    # The control: the same file with its timestamp, at the same moment, verifies.
    assert check_seal(sealed, at=sealing.seal_not_after + timedelta(days=30)).ok


def test_a_timestamp_from_an_authority_nobody_trusts_is_reported(pki, settings, document, caplog):
    use(pki, settings, tsa="rogue-tsa")
    sealed = seal_pdf(document, reason="test")
    check = check_seal(sealed)
    assert not check.ok and check.intact and check.ours
    assert check.problem == f"The seal's timestamp cannot be relied on: {UNTRUSTED_AUTHORITY}."
    # Sealing knew too: the authority's chain did not validate, so no B-LT data was added (and it was logged).
    assert not dss_of(sealed)["present"]
    assert any("without validation data" in record.getMessage() for record in caplog.records)


def test_content_added_after_the_validation_data_is_caught(sealing, document):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    sealed = seal_pdf(document, reason="test")
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    writer.root["/Lang"] = generic.TextStringObject("fr-FR")
    writer.update_root()
    output = io.BytesIO()
    writer.write(output)
    check = check_seal(output.getvalue())
    assert not check.ok and check.problem == "Content was added to the file after it was sealed."


def test_the_development_seal_embeds_its_chain_and_says_it_has_no_revocation_data(settings, document):
    # Default test settings: the self-signed seal under var/seal/ and the local authority, both their own roots.
    settings.SEAL_CHAIN_FILE = ""
    sealed = seal_pdf(document, reason="test")
    dss = dss_of(sealed)
    assert dss["present"] and not dss["crls"] and not dss["ocsps"]
    assert any("document seal (development)" in name for name in names(dss["other_certs"]))
    check = check_seal(sealed)
    assert check.ok and check.validation_data and check.timestamped_at is not None, check.problem


def test_a_token_must_be_of_the_digest_and_from_a_trusted_authority(pki, settings):
    from core.timestamps import check_token, sha256_digest, timestamp_digest

    use(pki, settings)
    digest = sha256_digest(b"heads")
    trusted = timestamp_digest(digest)
    assert check_token(trusted.token, digest).problems == []
    assert check_token(trusted.token, sha256_digest(b"other heads")).problems == ["the timestamp is of something else"]
    settings.EVIDENCE_TSA_URL = pki.tsa_url("rogue-tsa")
    rogue = timestamp_digest(digest)
    assert check_token(rogue.token, digest).problems == [UNTRUSTED_AUTHORITY]
    # Trusting the rogue root makes the same token acceptable: the verdict comes from the trust list.
    settings.EVIDENCE_TSA_TRUST_ROOTS = [str(pki.root), str(pki.rogue_root)]
    assert check_token(rogue.token, digest).problems == []
    mangled = bytearray(trusted.token)
    mangled[-40] ^= 0x01
    settings.EVIDENCE_TSA_TRUST_ROOTS = [str(pki.root)]
    assert check_token(bytes(mangled), digest).problems


def test_once_the_authoritys_certificate_expired_the_seal_says_so(sealing, document):
    from core.seal_validation import EXPIRED_AUTHORITY

    sealed = seal_pdf(document, reason="test")
    check = check_seal(sealed, at=sealing.seal_not_after + timedelta(days=4000))  # the authority's is 10 years
    assert not check.ok and check.problem == f"The seal's timestamp cannot be relied on: {EXPIRED_AUTHORITY}."


def test_after_the_seal_is_renewed_pdfs_sealed_before_still_read_as_ours_once_listed(pki, settings, document):
    from core.pdf import seal_credentials
    from core.timestamps import local_tsa_paths

    earlier_certificate = str(seal_credentials().cert_path)  # the self-signed seal of the default test settings
    sealed_before = seal_pdf(document, reason="test")
    use(pki, settings)  # the seal is replaced by a CA-issued one; the old authority stays trusted
    settings.EVIDENCE_TSA_TRUST_ROOTS = [str(pki.root), str(local_tsa_paths()[1])]
    assert check_seal(sealed_before).problem == "The seal was not made by this service."
    settings.SEAL_PREVIOUS_CERTS = [earlier_certificate]
    check = check_seal(sealed_before)
    assert check.ok and check.timestamped_at is not None, check.problem
    assert check_seal(seal_pdf(document, reason="test")).ok  # and the new seal's PDFs verify beside them


def test_with_no_authority_the_seal_still_carries_its_validation_data_and_is_valid_until_it_expires(
    sealing, settings, document
):
    settings.EVIDENCE_TSA_URL = ""  # production with no authority configured: B-B
    sealed = seal_pdf(document, reason="test")
    dss = dss_of(sealed)
    assert dss["present"] and dss["ocsps"] and "Test timestamp authority" not in names(dss["other_certs"])
    check = check_seal(sealed)
    assert check.ok and check.timestamped_at is None, check.problem
    later = check_seal(sealed, at=sealing.seal_not_after + timedelta(days=1))
    assert later.problem == (
        "The seal's certificate has expired and the seal carries no timestamp to show it was made before then."
    )
