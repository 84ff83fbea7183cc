"""Logging filters that drop known, harmless noise (configured in ``settings.LOGGING``).

- kombu warns "No hostname was supplied. Reverting to default 'localhost'" each time a connection to the
  development filesystem broker (which has no host) is opened.
- WeasyPrint warns "Ignored `clip: …`" for every PDF: the print style sheet's visually-hidden rule carries
  ``clip`` for browsers, which WeasyPrint does not support (and does not need: it never shows the text).
"""

from __future__ import annotations

import logging


class DropMessages(logging.Filter):
    """Drops records whose message starts with one of ``prefixes``; everything else passes."""

    def __init__(self, prefixes: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__()
        self.prefixes = tuple(prefixes)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to hide
            return True
        return not message.startswith(self.prefixes)
