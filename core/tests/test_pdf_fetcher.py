"""WeasyPrint fetches only the app's own static files: nothing in a rendered template reaches the network."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from core.pdf import _static_only_fetcher, render_pdf


@pytest.fixture
def listener():
    """A local web server on one of this engineer's ports, counting the requests it gets."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            return None

    for port in range(8620, 8650):
        try:
            server = HTTPServer(("127.0.0.1", port), Handler)
            break
        except OSError:
            continue
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()


def test_a_rendered_document_fetches_nothing_from_the_network_or_outside_static(listener):
    url, hits = listener
    html = (
        f'<html><head><link rel="stylesheet" href="{url}/style.css"></head>'
        f'<body><img src="{url}/pixel.png"><img src="file:///etc/hostname"><p>Text</p></body></html>'
    )
    pdf = render_pdf(html, title="t", author="a", subject="s")
    assert pdf.startswith(b"%PDF-")
    assert hits == []


def test_the_fetcher_serves_static_files_and_data_uris_only():
    fetcher = _static_only_fetcher()
    static_file = next(path for path in Path(settings.STATICFILES_DIRS[0]).rglob("*.css"))
    assert fetcher(static_file.resolve().as_uri()).read()
    assert fetcher("data:text/plain;base64,aGk=").read() == b"hi"
    for refused in ("file:///etc/passwd", "http://127.0.0.1/", "https://example.org/x.png", "ftp://x/y"):
        with pytest.raises(ValueError):
            fetcher(refused)
    outside = (Path(settings.STATICFILES_DIRS[0]) / ".." / "config" / "settings.py").as_uri()
    with pytest.raises(ValueError):
        fetcher(outside)
