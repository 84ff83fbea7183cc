"""PDFs built to exhaust a server that reads them: for the /verify/ benchmark and its tests.

Each is a small, syntactically valid PDF written by hand (so nothing here
depends on a PDF library's idea of what is reasonable):

- ``flate_bomb_pdf``: one embedded file whose FlateDecode stream inflates
  about a thousandfold (zeros compress that well), optionally stacked in
  several FlateDecode layers, which multiplies the ratio.
- ``many_files_pdf``: thousands of small embedded files.
"""

from __future__ import annotations

import zlib


def _deflate(data: bytes, layers: int = 1) -> bytes:
    for _ in range(layers):
        data = zlib.compress(data, 9)
    return data


def _assemble(objects: list[bytes], *, root: int = 1) -> bytes:
    """Objects numbered from 1, a classic xref table, the trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _page_objects() -> list[bytes]:
    # 2: Pages, 3: Page, 4: its (empty) content
    return [
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream(b"", b""),
    ]


def flate_bomb_pdf(decoded_bytes: int, *, layers: int = 1, name: str = "evidence.json") -> bytes:
    """One embedded file that decodes to ``decoded_bytes`` zeros."""
    filters = b"[" + b" ".join([b"/FlateDecode"] * layers) + b"]"
    data = _deflate(b"\0" * decoded_bytes, layers)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(%s) 5 0 R] >> >> >>" % name.encode(),
        *_page_objects(),
        b"<< /Type /Filespec /F (%s) /UF (%s) /EF << /F 6 0 R >> >>" % (name.encode(), name.encode()),
        _stream(b"/Type /EmbeddedFile /Filter " + filters, data),
    ]
    return _assemble(objects)


def many_files_pdf(count: int, *, each_decoded: int = 64 * 1024) -> bytes:
    """``count`` embedded files, each decoding to ``each_decoded`` zeros (all sharing one stream)."""
    names = b" ".join(b"(file-%06d.json) 5 0 R" % i for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [" + names + b"] >> >> >>",
        *_page_objects(),
        b"<< /Type /Filespec /F (f.json) /EF << /F 6 0 R >> >>",
        _stream(b"/Type /EmbeddedFile /Filter /FlateDecode", _deflate(b"\0" * each_decoded)),
    ]
    return _assemble(objects)


def slow_parse_pdf(elements: int) -> bytes:
    """A catalog holding an array of ``elements`` numbers: cheap to send, slow for a pure-Python parser."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Padding [" + b"1 " * elements + b"] >>",
        *_page_objects(),
    ]
    return _assemble(objects)
