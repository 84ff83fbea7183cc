"""File downloads: one way to name an attachment and keep it out of every cache.

Everything downloaded here (signed PDFs, scans, certificates, exports) holds
personal data, so no proxy or browser may keep a copy; and a file name built
from user-entered text (a version label) is encoded per RFC 6266 by Django's
``content_disposition_header``, never pasted raw into the header.
"""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

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
