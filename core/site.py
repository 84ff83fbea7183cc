"""The public address of this installation, for what has no request to read it from (emails, PDFs, QR codes)."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """``path`` (from ``reverse`` or ``get_absolute_url``) on the public address, ``SITE_URL``."""
    return f"{settings.SITE_URL}{path}"
