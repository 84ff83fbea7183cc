"""Backups restore: a PostgreSQL dump of a database with signed records and PDFs, restored into a fresh database.

``pg_dump`` and ``pg_restore`` on 127.0.0.1 (the test database, committed), the stored files copied as a
backup of MEDIA_ROOT would be; then ``manage.py check_restore`` runs as its own process against the
restored database, as an operator would run it. With the files it passes; without them it names each
missing file in one clear message and exits 1, and a download answers with a clear page (never a 500).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from acknowledgements.certificates import adoption_certificate_issue
from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.models import SealedPdf
from acknowledgements.tests.factories import owing, sign
from conduct.models import Adoption

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RESTORED = "conduct_h_restore_check"


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (pg_dump/pg_restore); CI runs the suite on PostgreSQL too")


def _pg(program: str, *args: str) -> subprocess.CompletedProcess:
    """A PostgreSQL client program against the test server (127.0.0.1 unless the suite says otherwise)."""
    db = connection.settings_dict
    server = [
        "-h",
        db.get("HOST") or "127.0.0.1",
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        db.get("USER") or "postgres",
    ]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    return subprocess.run([program, *server, *args], env=env, capture_output=True, text=True, timeout=300)


def _database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    server = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{db.get('USER') or 'postgres'}{password}@{server}/{name}"


def _check_restore(media: Path) -> subprocess.CompletedProcess:
    """``manage.py check_restore`` in a process of its own, on the restored database and files."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "DATABASE_URL": _database_url(RESTORED),
        "MEDIA_ROOT": str(media),
        "VAR_DIR": str(settings.VAR_DIR),  # the seal and evidence keys, restored with the rest
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check_restore"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def backup(tmp_path):
    """Signed records with their PDFs and a certificate, dumped with pg_dump, restored into a fresh database."""
    issued = []
    for name in ("Oak Trust", "Elm Trust"):
        who = owing(name=name)
        ack = sign(who, issue_pdf=False).acknowledgement
        issued.append(acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False))
        issued.append(adoption_certificate_issue(adoption_id=Adoption.objects.get(version=who.version).pk))
    dump = tmp_path / "conduct.dump"
    result = _pg("pg_dump", "-Fc", "-f", str(dump), connection.settings_dict["NAME"])
    assert result.returncode == 0, result.stderr
    assert _pg("dropdb", "--if-exists", RESTORED).returncode == 0  # a leftover from an interrupted run
    assert _pg("createdb", RESTORED).returncode == 0
    restored = _pg("pg_restore", "--no-owner", "-d", RESTORED, str(dump))
    assert restored.returncode == 0, restored.stderr
    media = tmp_path / "media"
    shutil.copytree(settings.MEDIA_ROOT, media)  # the file storage, backed up with the database
    yield issued, media
    _pg("dropdb", "--if-exists", RESTORED)


def test_a_restore_with_the_files_verifies_everything(backup):
    issued, media = backup
    result = _check_restore(media)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The restore is complete" in result.stdout
    assert f"checked {SealedPdf.objects.count()} PDF files" in result.stdout and len(issued) == 4
    assert "checked 2 acknowledgement evidence hashes" in result.stdout
    # Every stored PDF's seal validates as /verify/ validates it, and the newest of each kind with the restored
    # seal key (unless the machine was too busy to check in time):
    assert f"checked {len(issued)} seals" in result.stdout
    assert (
        "checked 2 newest seals against the configured seal key" in result.stdout
        or "could not be checked in time" in result.stdout
    )
    assert "PROBLEM" not in result.stdout


def test_a_restore_without_the_files_says_so_clearly_and_downloads_do_not_fail(backup, tmp_path, client_for):
    issued, _media = backup
    empty = tmp_path / "no-media"
    empty.mkdir()
    result = _check_restore(empty)
    assert result.returncode == 1
    assert "The restore is NOT complete" in result.stderr
    assert "4 stored file(s) are missing: restore the file storage" in result.stdout
    for record in issued:
        assert f"stored PDF {record.pk} ({record.file.name}): its file is missing from storage" in result.stdout

    # The same instance's pages: a clear page, never a server error.
    ack_pdf = next(record for record in issued if record.acknowledgement_id)
    default_storage: dict = {**settings.STORAGES["default"]}  # type: ignore[dict-item]
    storages = {**settings.STORAGES, "default": {**default_storage, "OPTIONS": {"location": str(empty)}}}
    with override_settings(STORAGES=storages, MEDIA_ROOT=empty):
        response = client_for(ack_pdf.acknowledgement.person).get(
            reverse("acknowledgements:pdf", args=[ack_pdf.acknowledgement_id])
        )
    assert response.status_code == 503 and "missing from file storage" in response.content.decode()
