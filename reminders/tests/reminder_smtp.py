"""A small SMTP server for the reminder tests: real sockets, real smtplib errors, counted connections.

It speaks just enough SMTP for Django's SMTP backend (EHLO, MAIL, RCPT, DATA,
RSET, NOOP, QUIT) and can be told to answer DATA with a temporary failure or
to refuse a recipient, so tests see exactly what a real mail server does.
"""

from __future__ import annotations

import email
import socketserver
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage


@dataclass
class Behaviour:
    temporary_failures: int = 0  # answer the next N DATA commands with 451
    refuse: set[str] = field(default_factory=set)  # addresses answered with 550 at RCPT


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        fake = self.server.fake
        with fake.lock:
            fake.connections += 1
        self.reply("220 fake.example ESMTP")
        recipients: list[str] = []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-fake.example")
                self.reply("250 8BITMIME")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>").lower()
                if address in fake.behaviour.refuse:
                    self.reply("550 No such user")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                with fake.lock:
                    if fake.behaviour.temporary_failures:
                        fake.behaviour.temporary_failures -= 1
                        self.reply("451 Try again later")
                        continue
                    fake.messages.append(email.message_from_bytes(b"".join(lines), policy=policy.default))
                self.reply("250 Queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeSMTP


class FakeSMTP:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections = 0
        self.messages: list[EmailMessage] = []
        self.behaviour = Behaviour()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSMTP:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def settings(self) -> dict:
        """Settings for Django's SMTP backend pointing here."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_TIMEOUT": 5,
        }

    def recipients(self) -> list[str]:
        return sorted(str(message["To"]) for message in self.messages)
