"""The project's own exceptions, so callers (and task retry policies) can tell them apart from the built-ins."""

from __future__ import annotations


class AppendOnlyViolation(Exception):
    """Someone tried to change or delete evidence through the ORM. Never retried: it will never succeed."""


class TransientError(Exception):
    """A failure worth retrying later (a mail server, a storage backend or the database was briefly away)."""
