"""Issuing PDFs that stand up later.

Every PDF this service issues as evidence is PDF/A-3b (archival, fonts
embedded), carries its evidence as an embedded JSON file, and is sealed with a
PAdES signature made with the instance's own key, so any change to the file
breaks the seal. Rendering, sealing and checking a seal live here; storing the
bytes once (``acknowledgements.sealed_pdfs``) belongs to the records.

In development the seal key and a self-signed certificate are generated once
under ``var/seal/``; in production they come from ``SEAL_KEY_FILE`` and
``SEAL_CERT_FILE``.
"""

from __future__ import annotations

import asyncio
import fcntl
import io
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import segno
from django.conf import settings
from django.template.loader import render_to_string

SEAL_FIELD = "Seal"
T = TypeVar("T")


def _outside_event_loop(function: Callable[..., T], *args, **kwargs) -> T:
    """Run ``function`` where no asyncio loop is running.

    pyHanko's signing and validation call ``asyncio.run``, which refuses to start
    inside a running loop (an async caller, or Playwright's sync API in tests).
    In a worker or a normal request there is no loop and this is a plain call.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF (PDF/A-3 allows it): usually the evidence JSON."""

    name: str
    content: bytes
    description: str = ""
    mime_type: str = "application/json"


@lru_cache(maxsize=1)
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    # One font configuration per process: WeasyPrint reuses loaded fonts across renders.
    return FontConfiguration()


def render_pdf(
    html: str,
    *,
    title: str,
    author: str,
    subject: str,
    lang: str = "en-GB",
    attachments: Sequence[Attachment] = (),
    base_url: str | None = None,
) -> bytes:
    """Render HTML to PDF/A-3b with document title, author, subject and language set."""
    from weasyprint import HTML
    from weasyprint import Attachment as WeasyAttachment

    document = HTML(string=html, base_url=base_url or str(settings.BASE_DIR)).render(font_config=_font_config())
    document.metadata.title = title
    document.metadata.authors = [author]
    document.metadata.description = subject
    document.metadata.lang = lang
    document.metadata.generator = settings.SITE_NAME
    embedded = [
        WeasyAttachment(
            string=item.content,
            name=item.name,
            description=item.description or item.name,
            relationship="Data",
        )
        for item in attachments
    ]
    return document.write_pdf(pdf_variant="pdf/a-3b", attachments=embedded, uncompressed_pdf=False)


def render_template_pdf(template: str, context: dict, **metadata) -> bytes:
    """Render a Django template (usually extending ``pdf/base.html``) to PDF/A-3b."""
    html = render_to_string(
        template, {**context, "pdf_title": metadata.get("title", ""), "pdf_lang": metadata.get("lang", "en-GB")}
    )
    return render_pdf(html, **metadata)


def qr_svg(text: str, *, scale: int = 3) -> str:
    """An inline SVG QR code (medium error correction), for verification addresses."""
    return segno.make(text, error="m").svg_inline(scale=scale, omitsize=False)


# ---------------------------------------------------------------------------
# The seal
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SealCredentials:
    key_path: Path
    cert_path: Path
    passphrase: bytes | None


def _generate_development_seal(directory: Path) -> None:
    """A P-256 key and a self-signed certificate, written atomically under a file lock."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{settings.SITE_NAME} document seal (development)"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.SITE_NAME),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_tmp, cert_tmp = directory / "seal.key.tmp", directory / "seal.crt.tmp"
    key_tmp.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_tmp.chmod(0o600)
    cert_tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(key_tmp, directory / "seal.key")
    os.replace(cert_tmp, directory / "seal.crt")


def seal_credentials() -> SealCredentials:
    """The configured seal key and certificate, or the development pair (generated on first use)."""
    passphrase = settings.SEAL_KEY_PASSPHRASE.encode() if settings.SEAL_KEY_PASSPHRASE else None
    if settings.SEAL_KEY_FILE and settings.SEAL_CERT_FILE:
        return SealCredentials(Path(settings.SEAL_KEY_FILE), Path(settings.SEAL_CERT_FILE), passphrase)
    directory = Path(settings.SEAL_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        # Web, worker and tests may all ask at once on first run; only one generates.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / "seal.key").exists() or not (directory / "seal.crt").exists():
            _generate_development_seal(directory)
    return SealCredentials(directory / "seal.key", directory / "seal.crt", None)


@lru_cache(maxsize=4)
def _signer(key_path: str, cert_path: str, passphrase: bytes | None):
    from pyhanko.sign import signers

    return signers.SimpleSigner.load(key_path, cert_path, key_passphrase=passphrase)


@lru_cache(maxsize=4)
def _certificate(cert_path: str):
    from pyhanko.keys import load_cert_from_pemder

    return load_cert_from_pemder(cert_path)


def _metadata_preserving_writer(pdf: bytes):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    class MetadataPreservingWriter(IncrementalPdfFileWriter):
        """pyHanko rebuilds the XMP packet from its own model when it saves, which drops the
        PDF/A identification WeasyPrint wrote. The seal must not alter the document's
        metadata, so the incremental update leaves it exactly as rendered (guarded by
        test_documents.test_pdf_is_pdf_a_3_with_metadata_and_language)."""

        def _update_meta(self) -> None:
            return None

    return MetadataPreservingWriter(io.BytesIO(pdf))


def seal_pdf(pdf: bytes, *, reason: str) -> bytes:
    """Add a PAdES signature over the whole file with the instance's seal."""
    return _outside_event_loop(_seal_pdf, pdf, reason=reason)


def _seal_pdf(pdf: bytes, *, reason: str) -> bytes:
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    credentials = seal_credentials()
    signer = _signer(str(credentials.key_path), str(credentials.cert_path), credentials.passphrase)
    writer = _metadata_preserving_writer(pdf)
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        reason=reason,
        location=settings.SITE_NAME,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    return signers.sign_pdf(writer, metadata, signer=signer).getvalue()


@dataclass(frozen=True)
class SealCheck:
    ok: bool
    intact: bool = False
    valid: bool = False
    covers_whole_file: bool = False
    ours: bool = False
    problem: str = ""


def check_seal(pdf: bytes) -> SealCheck:
    """Is the file sealed by this instance, with the seal intact and covering every byte?"""
    return _outside_event_loop(_check_seal, pdf)


def _check_seal(pdf: bytes) -> SealCheck:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    if not pdf.startswith(b"%PDF-"):
        return SealCheck(ok=False, problem="The file is not a PDF.")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        return SealCheck(ok=False, problem=f"The PDF cannot be read ({exc.__class__.__name__}).")
    if not signatures:
        return SealCheck(ok=False, problem="The PDF carries no seal.")
    if len(signatures) > 1:
        return SealCheck(ok=False, problem="The PDF carries more than one signature; it is not as issued.")
    certificate = _certificate(str(seal_credentials().cert_path))
    context = ValidationContext(trust_roots=[certificate], allow_fetching=False)
    try:
        status = validate_pdf_signature(signatures[0], context)
    except Exception as exc:  # pyHanko raises many kinds for mangled signatures; all mean "not verified".
        return SealCheck(ok=False, problem=f"The seal cannot be validated ({exc.__class__.__name__}).")
    ours = status.signing_cert is not None and status.signing_cert.sha256 == certificate.sha256
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    problem = ""
    if not status.intact:
        problem = "The seal is broken: the file was changed after it was issued."
    elif not ours:
        problem = "The seal was not made by this service."
    elif not whole:
        problem = "Content was added to the file after it was sealed."
    elif not status.valid:
        problem = "The seal's signature is not valid."
    return SealCheck(
        ok=not problem, intact=status.intact, valid=status.valid, covers_whole_file=whole, ours=ours, problem=problem
    )


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    """The files embedded in a PDF, by name (the first one of each name)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return {name: contents[0] for name, contents in reader.attachments.items() if contents}
