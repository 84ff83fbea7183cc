"""Prepare a checkout for development: the folders under ``var/`` and the development secret key.

Importing the settings never writes anything; this is the one explicit step that does. ``make run``
calls it before ``migrate``; run it by hand with ``python -m config.prepare``. It needs no Django
set-up (it reads the same ``VAR_DIR`` and ``MEDIA_ROOT`` variables the settings read, through
``config.env``) and is idempotent: an existing key is kept, so sessions survive restarts.

The folders are the ones ``config/settings.py`` names under ``VAR_DIR`` in development (kept in
step by ``core/tests/test_settings.py``): mail written one file per message, uploaded and issued
files, and the filesystem Celery broker's queue and control folders. ``var/seal/`` is left to the
code that generates the development seal on first use; ``VAR_DIR`` itself, its parent, is created.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from config.env import env_str

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE_NAME = "secret_key"


def var_dir(environ: Mapping[str, str] | None = None) -> Path:
    return Path(env_str("VAR_DIR", str(BASE_DIR / "var"), environ=environ))


def development_folders(environ: Mapping[str, str] | None = None) -> list[Path]:
    var = var_dir(environ)
    return [
        var,
        var / "mail",
        Path(env_str("MEDIA_ROOT", str(var / "media"), environ=environ)),
        var / "celery" / "queue",
        var / "celery" / "control",
    ]


def prepare(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Create what development needs under VAR_DIR; return what was created (empty when all was there)."""
    created = []
    for folder in development_folders(environ):
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            created.append(folder)
    key_file = var_dir(environ) / SECRET_KEY_FILE_NAME
    if not key_file.exists():
        # Created with mode 0600 from the start, so the key is never readable by others, even briefly.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)  # exactly 0600, whatever the umask
            handle.write(secrets.token_urlsafe(64))
        created.append(key_file)
    if not env_str("EVIDENCE_KEY_FILE", "", environ=environ):
        # The development evidence-signing key (docs/evidence.md); production sets EVIDENCE_KEY_FILE.
        from core.evidence_keys import KEY_FILE_NAME, generate_key_file

        evidence_key = var_dir(environ) / "evidence" / KEY_FILE_NAME
        if generate_key_file(evidence_key):
            created.append(evidence_key)
    return created


def main() -> int:
    created = prepare()
    for path in created:
        print(f"created {path}")
    if not created:
        print(f"{var_dir()} is ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
