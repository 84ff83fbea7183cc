"""A local RFC 3161 timestamp authority over HTTP, for development and tests: ``python -m devtools.tsa [--port 8650]``.

It answers ``POST /`` (``application/timestamp-query``) with pyHanko's test timestamper and the key and
certificate of the local authority under ``var/tsa/`` (``core.timestamps``), so ``EVIDENCE_TSA_URL`` can be
tried against a real HTTP authority. Never for production: it timestamps whatever it is sent with a
self-signed certificate (trusted in development only: ``EVIDENCE_TSA_TRUST_ROOTS`` gets it added while DEBUG).

Why not certomancer's authority, which the tests use (core/tests/pki.py)? certomancer is a test dependency,
and ``make run`` installs the runtime requirements only; and this server shares its key with the in-process
authority, so development trusts one certificate whichever of the two timestamps.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from wsgiref.simple_server import WSGIRequestHandler, make_server

MAX_REQUEST = 64 * 1024


def application(environ, start_response):
    from asn1crypto import tsp  # type: ignore[import-untyped]

    from core.timestamps import local_timestamper

    if environ["REQUEST_METHOD"] != "POST":
        start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
        return [b"POST a timestamp query\n"]
    length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_REQUEST)
    try:
        request = tsp.TimeStampReq.load(environ["wsgi.input"].read(length))
        response = asyncio.run(local_timestamper().async_request_tsa_response(request))
    except Exception:  # noqa: BLE001 - a malformed query gets a plain refusal
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"not a timestamp query\n"]
    body = response.dump()
    start_response("200 OK", [("Content-Type", "application/timestamp-reply"), ("Content-Length", str(len(body)))])
    return [body]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the standard library's name
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8650)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    with make_server("127.0.0.1", args.port, application, handler_class=QuietHandler) as server:
        print(f"Local timestamp authority at http://127.0.0.1:{args.port}/", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
