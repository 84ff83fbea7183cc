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
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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


def _static_only_fetcher():
    """WeasyPrint's fetcher held to the app's own static files (and data: URIs, e.g. an inline logo).

    Nothing a template renders (a code's text, a name, an organisation's branding) can make the renderer
    fetch from the network or read another file on the server: any other address is refused, and the
    document is laid out without it.
    """
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import URLFetcher

    roots = [Path(directory).resolve() for directory in (*settings.STATICFILES_DIRS, settings.STATIC_ROOT)]

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(unquote(parts.path)).resolve()
                if any(path.is_relative_to(root) for root in roots) and path.is_file():
                    return super().fetch(url, headers)
            raise ValueError(f"Only the app's own static files may be used in a PDF, not {url[:200]!r}.")

    return StaticOnlyFetcher(allowed_protocols=("data", "file"), allow_redirects=False, timeout=5)


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

    document = HTML(
        string=html, base_url=base_url or str(settings.BASE_DIR), url_fetcher=_static_only_fetcher()
    ).render(font_config=_font_config())
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
def _signer(key_path: str, cert_path: str, passphrase: bytes | None, chain_path: str):
    from pyhanko.sign import signers

    # The chain goes into the signature itself too, so a verifier needs only the root.
    return signers.SimpleSigner.load(
        key_path, cert_path, key_passphrase=passphrase, ca_chain_files=(chain_path,) if chain_path else None
    )


@lru_cache(maxsize=4)
def _certificate(cert_path: str):
    from pyhanko.keys import load_cert_from_pemder

    return load_cert_from_pemder(cert_path)


@lru_cache(maxsize=4)
def _chain(chain_path: str) -> tuple:
    from pyhanko.keys import load_certs_from_pemder

    return tuple(load_certs_from_pemder([chain_path])) if chain_path else ()


def seal_chain() -> list:
    """The certificates between the seal certificate and its root, root last (SEAL_CHAIN_FILE; none in development)."""
    return list(_chain(settings.SEAL_CHAIN_FILE))


def seal_certificates() -> list:
    """This instance's seal certificates: the current one first, then earlier ones (SEAL_PREVIOUS_CERTS), so a PDF
    sealed before a renewal still reads as ours."""
    return [_certificate(str(seal_credentials().cert_path)), *_previous(tuple(settings.SEAL_PREVIOUS_CERTS))]


@lru_cache(maxsize=4)
def _previous(paths: tuple[str, ...]) -> tuple:
    from pyhanko.keys import load_certs_from_pemder

    return tuple(load_certs_from_pemder(list(paths))) if paths else ()


def seal_trust_roots() -> list:
    """What a seal must chain to (core.seal_validation.seal_roots)."""
    from core.seal_validation import seal_roots

    current, *previous = seal_certificates()
    return seal_roots(current, seal_chain(), previous)


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
    """Add a PAdES signature over the whole file with the instance's seal (B-LT when it can, see ``_seal_pdf``)."""
    return _outside_event_loop(_seal_pdf, pdf, reason=reason)


def _seal_pdf(pdf: bytes, *, reason: str) -> bytes:
    """PAdES B-LT: the seal, the authority's timestamp of it (B-T), then the validation data (B-LT).

    Each step that needs the outside world degrades instead of failing, because a PDF is never refused for it:
    an authority that is down or slow (EVIDENCE_TSA_TIMEOUT), or none configured, gives a seal without a timestamp
    (B-B, still with its validation data; the chain anchors still date the record); revocation data that cannot
    be fetched gives no DSS. Both are logged. The self-signed development seal has no revocation endpoints: its
    DSS holds the certificates alone.
    """
    from core.timestamps import timestamper

    log = logging.getLogger(__name__)
    signed = None
    if (tsa := timestamper()) is not None:
        try:
            signed = _sign(pdf, reason, tsa)
        except Exception as exc:  # noqa: BLE001 - whatever the authority or the network did
            log.warning("Sealing without a timestamp: the authority failed (%s)", exc)
    if signed is None:
        signed = _sign(pdf, reason, None)
    try:
        return _embed_validation_data(signed)
    except Exception as exc:  # noqa: BLE001 - a revocation server down, or a chain that does not validate
        log.warning("Sealing without validation data (no DSS, not B-LT): %s", exc)
        return signed


def _sign(pdf: bytes, reason: str, tsa) -> bytes:
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    credentials = seal_credentials()
    signer = _signer(
        str(credentials.key_path), str(credentials.cert_path), credentials.passphrase, settings.SEAL_CHAIN_FILE
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        reason=reason,
        location=settings.SITE_NAME,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    # The timestamp goes inside the signature (no later revision for it), so the seal covers it.
    return signers.sign_pdf(_metadata_preserving_writer(pdf), metadata, signer=signer, timestamper=tsa).getvalue()


def _embed_validation_data(signed: bytes) -> bytes:
    """Append the DSS (PAdES B-LT): the seal's and the authority's certificate chains with their CRLs and OCSP
    responses, fetched now, so the seal can still be validated at its timestamp's time once its certificate has
    expired or the CA's servers are gone. pyHanko's own DSS writer would rewrite the XMP packet (PDF/A), so the
    data is collected with pyHanko and written through the metadata-preserving writer."""
    import asyncio

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info
    from pyhanko_certvalidator import ValidationContext

    from core.timestamps import tsa_trust_roots

    context = ValidationContext(
        trust_roots=[*seal_trust_roots(), *tsa_trust_roots()],
        other_certs=seal_chain(),
        allow_fetching=True,
        revocation_mode="hard-fail",  # revocation data the chain names must be there, or this is not B-LT
    )
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    paths = asyncio.run(_collected(collect_validation_info(signature, context), context))
    writer = _metadata_preserving_writer(signed)
    DocumentSecurityStore.supply_dss_in_writer(writer, None, paths=paths, validation_context=context)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


async def _collected(coroutine, context):
    """Await the collection, then close the HTTP session the context opened for fetching (in the same loop)."""
    try:
        return await coroutine
    finally:
        await context.aclose()


@dataclass(frozen=True)
class SealCheck:
    ok: bool
    intact: bool = False
    valid: bool = False
    covers_whole_file: bool = False
    ours: bool = False
    problem: str = ""
    timestamped_at: datetime | None = None  # the authority's time, when the seal carries a trusted timestamp
    validation_data: bool = False  # the PDF carries a DSS (PAdES B-LT)


def check_seal(pdf: bytes, *, at: datetime | None = None) -> SealCheck:
    """Is the file sealed by this instance, with the seal intact and covering every byte?

    The seal's certificate is judged as of its trusted timestamp, with the validation data in the PDF, so a seal
    stays valid after its certificate expires; without a timestamp, as of ``at`` (now by default), which is also
    when the timestamp authority must be trusted (core.seal_validation). Never raises for any input: whatever the
    file does to the parser is a problem to show.
    """
    return _outside_event_loop(_check_seal_in_time, pdf, at)


def _check_seal_in_time(pdf: bytes, at: datetime | None) -> SealCheck:
    try:
        with _time_limit(UNTRUSTED_SECONDS_MAX):
            return _check_seal(pdf, at)
    except _OutOfTime:
        return SealCheck(ok=False, problem=TOO_SLOW)


def _check_seal(pdf: bytes, at: datetime | None) -> SealCheck:
    from core.seal_validation import judge_seal
    from core.timestamps import tsa_trust_roots

    if not pdf.startswith(b"%PDF-"):
        return SealCheck(ok=False, problem="The file is not a PDF.")
    try:
        reader = untrusted_reader(pdf)
        signatures = reader.embedded_signatures
    except Exception as exc:  # noqa: BLE001 - an upload may break the parser in any way; all mean "not verified"
        return SealCheck(ok=False, problem=_unreadable(exc))
    if not signatures:
        return SealCheck(ok=False, problem="The PDF carries no seal.")
    if len(signatures) > 1:
        return SealCheck(ok=False, problem="The PDF carries more than one signature; it is not as issued.")
    try:
        judgement = judge_seal(
            reader,
            signatures[0],
            seal_certificates=seal_certificates(),
            seal_roots=seal_trust_roots(),
            seal_chain=seal_chain(),
            timestamp_roots=tsa_trust_roots(),
            at=at,
        )
    except Exception as exc:  # noqa: BLE001 - pyHanko raises many kinds for mangled signatures; all mean "not verified"
        if isinstance(exc, PdfTooComplex) or _is_decode_limit(exc):
            return SealCheck(ok=False, problem=_unreadable(exc))
        return SealCheck(ok=False, problem=f"The seal cannot be validated ({exc.__class__.__name__}).")
    return SealCheck(**vars(judgement))


# ---------------------------------------------------------------------------
# Reading a PDF someone uploaded
# ---------------------------------------------------------------------------
#
# /verify/ is public, so an upload may be built to exhaust the server: a stream
# that inflates a thousandfold, thousands of embedded files, a name tree that
# loops. Every read of an upload goes through ``untrusted_reader``, whose
# decoding budget for the whole document is at most UNTRUSTED_DECODE_RATIO
# times the file's size (at least UNTRUSTED_DECODE_FLOOR), so the memory
# decoding can use is proportional to the upload; ``embedded_files`` also
# counts the files and watches the clock. Going over any bound raises
# ``PdfTooComplex``, whose message the page shows. The PDFs we issue need a
# small fraction of these bounds (their fonts and text decode to a few
# megabytes at most); ``benchmark_verify_upload`` measures both kinds.

UNTRUSTED_DECODE_RATIO = 4  # total decoded bytes per byte of upload
UNTRUSTED_DECODE_FLOOR = 16 * 1024 * 1024  # a small upload may still decode this much in all
UNTRUSTED_STREAM_MAX = 8 * 1024 * 1024  # any one stream
EMBEDDED_FILES_MAX = 8  # we embed one (the evidence JSON)
EMBEDDED_BYTES_MAX = 4 * 1024 * 1024  # all embedded files together, decoded
EMBEDDED_NAME_TREE_NODES_MAX = 64
UNTRUSTED_SECONDS_MAX = 3.0  # each of the seal check and the attachments; an issued PDF takes well under 0.1 s


class PdfTooComplex(ValueError):
    """An uploaded PDF asks for more memory or time than any PDF we issue would; its message is for the page."""


TOO_SLOW = "The PDF takes far longer to read than any file we issue; it was not read further."


class _OutOfTime(BaseException):
    """Raised by the timer inside the parser: a BaseException, so no ``except Exception`` in a library swallows it."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (a SIGALRM timer: only in the main thread, and only if none is set).

    Web workers (gunicorn's sync workers) serve each request in their main thread. Elsewhere (a threaded
    development server) the block runs unbounded in time, still bounded in memory by the decode limits.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getitimer(signal.ITIMER_REAL)[0]:
        yield
        return

    def expired(signum, frame):
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _is_decode_limit(exc: BaseException) -> bool:
    from pyhanko.pdf_utils.misc import PdfDecodeLimitError

    return isinstance(exc, PdfDecodeLimitError)


def _unreadable(exc: BaseException) -> str:
    if isinstance(exc, PdfTooComplex):
        return str(exc)
    if _is_decode_limit(exc):
        return "The PDF expands to far more data than any file we issue; it was not read further."
    return f"The PDF cannot be read ({exc.__class__.__name__})."


def untrusted_reader(pdf: bytes):
    """A pyHanko reader for an uploaded PDF, with decoding bounded in proportion to the file's size."""
    from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget, StreamDecodeLimits
    from pyhanko.pdf_utils.reader import PdfFileReader

    limits = DecodeLimits(
        per_stream=StreamDecodeLimits(max_output_size=UNTRUSTED_STREAM_MAX),
        document_budget=DocumentDecodeBudget(base_allowance=UNTRUSTED_DECODE_FLOOR, max_ratio=UNTRUSTED_DECODE_RATIO),
    )
    return PdfFileReader(io.BytesIO(pdf), strict=False, decode_limits=limits)


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    """The files embedded in a PDF, by name (the first one of each name).

    Bounded for uploads: at most EMBEDDED_FILES_MAX files and EMBEDDED_BYTES_MAX
    decoded bytes in all, within UNTRUSTED_SECONDS_MAX; beyond that, or on a
    file that cannot be parsed, ``PdfTooComplex`` (a ``ValueError``).
    """
    try:
        with _time_limit(UNTRUSTED_SECONDS_MAX):
            return _embedded_files(pdf)
    except _OutOfTime:
        raise PdfTooComplex(TOO_SLOW) from None


def _embedded_files(pdf: bytes) -> dict[str, bytes]:
    from pyhanko.pdf_utils import generic

    deadline = time.monotonic() + UNTRUSTED_SECONDS_MAX
    try:
        reader = untrusted_reader(pdf)

        def get(node, key: str):
            return node[key] if isinstance(node, generic.DictionaryObject) and key in node else None

        tree = get(get(reader.root, "/Names"), "/EmbeddedFiles")
        found: dict[str, bytes] = {}
        if not isinstance(tree, generic.DictionaryObject):
            return found
        total, nodes, entries = 0, 0, 0
        pending: list = [tree]
        while pending:
            node = pending.pop()
            nodes += 1
            if nodes > EMBEDDED_NAME_TREE_NODES_MAX or time.monotonic() > deadline:
                raise PdfTooComplex("The PDF's list of attached files is far larger than in any file we issue.")
            if not isinstance(node, generic.DictionaryObject):
                continue
            kids = get(node, "/Kids")
            if isinstance(kids, generic.ArrayObject):
                pending.extend(kids[i] for i in range(min(len(kids), EMBEDDED_NAME_TREE_NODES_MAX + 1)))
            pairs = get(node, "/Names")
            if not isinstance(pairs, generic.ArrayObject):
                continue
            for index in range(0, len(pairs) - 1, 2):
                entries += 1
                if entries > EMBEDDED_FILES_MAX:
                    raise PdfTooComplex(
                        f"The PDF has more than {EMBEDDED_FILES_MAX} attached files; the files we issue have one."
                    )
                name, spec = str(pairs[index]), pairs[index + 1]
                stream = get(get(spec, "/EF"), "/F")
                if name in found or not isinstance(stream, generic.StreamObject):
                    continue
                content = stream.data
                total += len(content)
                if total > EMBEDDED_BYTES_MAX or time.monotonic() > deadline:
                    raise PdfTooComplex("The PDF's attached files are far larger than those of any file we issue.")
                found[name] = content
        return found
    except PdfTooComplex:
        raise
    except Exception as exc:  # noqa: BLE001 - an upload may break the parser in any way
        raise PdfTooComplex(_unreadable(exc)) from exc
