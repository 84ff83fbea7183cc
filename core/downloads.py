"""File downloads: one way to name an attachment and keep it out of every cache.

Everything downloaded here (signed PDFs, scans, certificates, exports) holds
personal data, so no proxy or browser may keep a copy; and a file name built
from user-entered text (a version label) is encoded per RFC 6266 by Django's
``content_disposition_header``, never pasted raw into the header.

A stored file is downloaded with ``stored_file_download``: read (and checked against its SHA-256)
before anything is recorded, streamed from whichever storage holds it, with whatever the download
should record (a "PDF downloaded" event) done only once the bytes have gone; a file missing from
storage (a database restored without its files) gets a clear page, never a server error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from core.canonical import sha256_hex

logger = logging.getLogger(__name__)

PDF = "application/pdf"


def as_attachment(
    response: HttpResponse | StreamingHttpResponse, filename: str
) -> HttpResponse | StreamingHttpResponse:
    """Mark ``response`` as a download named ``filename`` that no cache may store."""
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response


def file_download(content: bytes, *, filename: str, content_type: str = PDF) -> HttpResponse:
    """A download of bytes already in memory (a stored PDF or scan)."""
    response = HttpResponse(content, content_type=content_type)
    as_attachment(response, filename)
    return response


def pdf_download(content: bytes, *, filename: str) -> HttpResponse:
    return file_download(content, filename=filename, content_type=PDF)


# ---------------------------------------------------------------------------
# Stored files: read before anything is recorded, streamed, and a clear page when the file is not there
# ---------------------------------------------------------------------------

CHUNK = 64 * 1024


class StoredFileUnavailable(Exception):
    """The database names a stored file that file storage cannot give back as it was stored."""

    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


def stored_file_read(file: FieldFile, *, expected_sha256: str = "") -> bytes:
    """The stored bytes, checked against their SHA-256 when it is known; ``StoredFileUnavailable`` otherwise."""
    name = file.name or ""
    try:
        with file.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError as error:
        raise StoredFileUnavailable(f"The file {name} is not in file storage.", missing=True) from error
    if expected_sha256 and sha256_hex(content) != expected_sha256:
        raise StoredFileUnavailable(
            f"The file {name} in file storage is not the one that was stored (its SHA-256 differs).", missing=False
        )
    return content


def _then(chunks: Iterator[bytes], on_sent: Callable[[], None] | None, close: Callable[[], None]) -> Iterator[bytes]:
    """Yield the chunks; call ``on_sent`` only once the server has taken the last one (not if the client left)."""
    try:
        yield from chunks
    finally:
        close()
    if on_sent is not None:
        on_sent()


def stored_file_download(
    file: FieldFile,
    *,
    filename: str,
    content_type: str = PDF,
    expected_sha256: str = "",
    on_sent: Callable[[], None] | None = None,
) -> StreamingHttpResponse:
    """A download of a stored file (a sealed PDF, a report file), from the file system or object storage.

    With ``expected_sha256`` the bytes are read and checked first (a PDF is small), so a file that was
    replaced or damaged is never sent; without it they are streamed straight from storage in chunks
    (a large archive). Either way a missing file raises ``StoredFileUnavailable`` before any response, for
    the view to answer with ``stored_file_unavailable_response``; and ``on_sent`` (e.g. recording a
    "PDF downloaded" event) runs only after the last byte has gone to the server, never for a failed or
    abandoned download.
    """
    if expected_sha256:
        content = stored_file_read(file, expected_sha256=expected_sha256)
        chunks: Iterator[bytes] = (content[start : start + CHUNK] for start in range(0, len(content), CHUNK))
        size: int | None = len(content)

        def close() -> None:
            return None

    else:
        try:
            handle = file.open("rb")
        except FileNotFoundError as error:
            raise StoredFileUnavailable(f"The file {file.name} is not in file storage.", missing=True) from error
        chunks = iter(lambda: handle.read(CHUNK), b"")
        size = None
        close = handle.close
    response = StreamingHttpResponse(_then(chunks, on_sent, close), content_type=content_type)
    if size is not None:
        response["Content-Length"] = str(size)
    as_attachment(response, filename)
    return response


def erased_file_response(request: HttpRequest, tombstone: Any, *, what: str) -> HttpResponse:
    """A file deleted with a person's personal data (``core.Tombstone``): a clear page, 410 Gone, nothing sent."""
    return render(request, "core/file_erased.html", {"what": what, "tombstone": tombstone}, status=410)


def stored_file_unavailable_response(
    request: HttpRequest, problem: StoredFileUnavailable, *, what: str
) -> HttpResponse:
    """A clear page (503: the record is intact, its file is not) instead of a server error; logged for the operator."""
    logger.error("Download of %s failed: %s", what, problem)
    return render(request, "core/file_unavailable.html", {"what": what, "missing": problem.missing}, status=503)
