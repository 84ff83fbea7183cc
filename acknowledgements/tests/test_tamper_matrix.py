"""The tamper matrix (issue 15): what a database superuser with every trigger switched off can do, and how it shows.

Run on PostgreSQL as the database superuser, with ``SET session_replication_role = replica`` (no
trigger, no foreign-key check fires). Each change is caught by ``verify_evidence`` and by ``/verify/``
(by verification code and by uploading the PDF), and no page answers with an error.
"""

from __future__ import annotations

import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.utils import IntegrityError

from acknowledgements.certificates import adoption_certificate_issue
from acknowledgements.evidence import acknowledgement_evidence_hash
from acknowledgements.integrity import evidence_check
from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.models import AuditEvent, EventKind
from acknowledgements.sealed_pdfs import sealed_pdf_bytes
from acknowledgements.tests.factories import sign
from acknowledgements.verification import verify_pdf
from conduct.models import Adoption, Clause
from core.models import EvidenceLink
from core.request_meta import RequestMeta

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL as the database superuser (session_replication_role); CI runs it there",
    ),
]
URL = "/verify/"
REFUSE_TRUNCATE = [
    "acknowledgements_auditevent",
    "acknowledgements_acknowledgement",
    "conduct_adoption",
    "conduct_auditlogentry",
    "conduct_clause",
    "core_evidencelink",
    "core_chainhead",
    "core_evidencesalt",
    "core_chainanchor",
]


def as_superuser_without_triggers(*statements: tuple[str, list]) -> None:
    with connection.cursor() as cursor:
        # The test's own deferred foreign-key checks run now, while every row is still there.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET session_replication_role = replica")
        try:
            for sql, params in statements:
                cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.fixture
def world(staff, declaring):
    """Two signed records with their PDFs, and the adoption certificate of the first one's version."""
    from acknowledgements.events import event_first_view

    meta = RequestMeta(ip_address="192.0.2.7", user_agent="Firefox")
    event_first_view(person=staff.person, version=staff.version, request_meta=meta)
    first = sign(staff, issue_pdf=False).acknowledgement
    second = sign(declaring, issue_pdf=False).acknowledgement
    pdfs = {ack.pk: acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False) for ack in (first, second)}
    adoption = Adoption.objects.get(version=staff.version)
    certificate = adoption_certificate_issue(adoption_id=adoption.pk)
    assert evidence_check().ok
    return {
        "ack": first,
        "other": second,
        "pdf": pdfs[first.pk],
        "other_pdf": pdfs[second.pk],
        "pdf_bytes": sealed_pdf_bytes(pdfs[first.pk]),
        "adoption": adoption,
        "certificate": certificate,
        "certificate_bytes": sealed_pdf_bytes(certificate),
    }


def verify_page(client, *, code: str = "", pdf: bytes | None = None) -> str:
    if pdf is not None:
        response = client.post(URL, {"file": SimpleUploadedFile("x.pdf", pdf, content_type="application/pdf")})
    else:
        response = client.get(URL, {"code": code})
    assert response.status_code == 200
    page = response.content.decode()
    assert "NOT VERIFIED" in page, page
    return page


def found() -> str:
    report = evidence_check()
    assert not report.ok
    return "\n".join(f"{f.item}: {f.problem}" for f in report.findings)


def test_before_any_tampering_everything_verifies(client, world):
    for pdf in (world["pdf_bytes"], world["certificate_bytes"]):
        assert verify_pdf(pdf).verified
    page = client.get(URL, {"code": world["ack"].verification_code}).content.decode()
    assert "VERIFIED" in page and "NOT VERIFIED" not in page and "What we checked" in page


def test_a_changed_field_with_its_hash_recomputed(client, world):
    ack = world["ack"]
    as_superuser_without_triggers(
        ("UPDATE acknowledgements_acknowledgement SET statement = %s WHERE id = %s", ["I agree to nothing.", ack.pk])
    )
    ack.refresh_from_db()
    as_superuser_without_triggers(
        (
            "UPDATE acknowledgements_acknowledgement SET evidence_hash = %s WHERE id = %s",
            [acknowledgement_evidence_hash(ack), ack.pk],
        )
    )
    assert f"acknowledgement {ack.pk}: it no longer matches what was signed (evidence_hash, statement)" in found()
    page = verify_page(client, code=ack.verification_code)
    assert "no longer matches what was signed" in page
    assert "no longer matches what was signed" in verify_page(client, pdf=world["pdf_bytes"])


def test_a_changed_adopted_clause(client, world):
    clause = Clause.objects.filter(section__version=world["adoption"].version).order_by("pk")[0]
    as_superuser_without_triggers(
        ("UPDATE conduct_clause SET text = %s WHERE id = %s", ["We may do as we like.", clause.pk])
    )
    assert "its text no longer matches the content hash fixed when it was adopted" in found()
    assert "The text of the code has been changed since it was adopted" in verify_page(
        client, pdf=world["certificate_bytes"]
    )
    assert "The text of the code has been changed since it was signed" in verify_page(
        client, code=world["ack"].verification_code
    )


def test_a_deleted_record(client, world):
    ack = world["ack"]
    as_superuser_without_triggers(("DELETE FROM acknowledgements_acknowledgement WHERE id = %s", [ack.pk]))
    assert f"acknowledgement {ack.pk}: it was signed" in found()
    page = verify_page(client, pdf=world["pdf_bytes"])
    assert "its record has been deleted from our database" in page
    # By code: the chain still knows the record was made.
    assert "shows this acknowledgement was made" in verify_page(client, code=ack.verification_code)


def test_a_deleted_record_and_its_pdf_row(client, world):
    ack, pdf = world["ack"], world["pdf"]
    as_superuser_without_triggers(
        ("DELETE FROM acknowledgements_sealedpdf WHERE id = %s", [pdf.pk]),
        ("DELETE FROM acknowledgements_acknowledgement WHERE id = %s", [ack.pk]),
    )
    report = found()
    assert f"acknowledgement {ack.pk}: it was signed" in report and f"stored PDF {pdf.pk}: it was signed" in report
    page = verify_page(client, pdf=world["pdf_bytes"])
    assert "shows we issued this very file" in page and "its record has been deleted" in page
    assert "its record has been deleted from our database" in verify_page(client, code=ack.verification_code)


def test_a_truncated_table(client, world):
    # Refused while the triggers are on, even for the superuser.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses to run with deferred checks pending
        cursor.execute("SET conduct.allow_truncate = off")
    for table in REFUSE_TRUNCATE:
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")
    assert AuditEvent.objects.filter(kind=EventKind.FIRST_VIEWED).exists() and EvidenceLink.objects.exists()
    as_superuser_without_triggers(("TRUNCATE acknowledgements_auditevent", []))
    assert "audit event" in found() and "row has been deleted" in found()
    # The signature's evidence covered the first view that was truncated away.
    page = verify_page(client, pdf=world["pdf_bytes"])
    assert "The record no longer matches its evidence hash" in page
    verify_page(client, code=world["ack"].verification_code)


def test_reordered_entries(client, world):
    ack = world["ack"]
    link = EvidenceLink.objects.get(record_type="acknowledgements.acknowledgement", record_id=ack.pk)
    other = EvidenceLink.objects.filter(scope=link.scope).exclude(pk=link.pk).order_by("-seq")[0]
    as_superuser_without_triggers(
        ("UPDATE core_evidencelink SET seq = -1 WHERE id = %s", [link.pk]),
        ("UPDATE core_evidencelink SET seq = %s WHERE id = %s", [link.seq, other.pk]),
        ("UPDATE core_evidencelink SET seq = %s WHERE id = %s", [other.seq, link.pk]),
    )
    report = found()
    assert "does not follow the entry before it" in report and "its signature is not valid" in report
    assert "its signature is not valid" in verify_page(client, pdf=world["pdf_bytes"])
    verify_page(client, code=ack.verification_code)


def test_two_pdfs_swapped_on_disk(client, world):
    first, second = world["pdf"], world["other_pdf"]
    one, two = sealed_pdf_bytes(first), sealed_pdf_bytes(second)
    for record, content in ((first, two), (second, one)):
        with open(record.file.path, "wb") as handle:
            handle.write(content)
    report = found()
    assert f"stored PDF {first.pk}" in report and f"stored PDF {second.pk}" in report
    assert "its file no longer matches the SHA-256" in report
    assert "The stored PDF no longer matches the fingerprint" in verify_page(
        client, code=world["ack"].verification_code
    )
    assert "The stored PDF no longer matches the fingerprint" in verify_page(
        client, code=world["other"].verification_code
    )


def test_a_missing_file_is_said_clearly(client, world):
    import os

    os.remove(world["pdf"].file.path)
    assert "its file is missing from storage" in found()
    assert "missing from our storage" in verify_page(client, code=world["ack"].verification_code)


def test_five_hundred_random_single_byte_changes_never_read_verified(world):
    pdf = world["pdf_bytes"]
    generator = random.Random(15)
    for _ in range(500):
        changed = bytearray(pdf)
        position = generator.randrange(len(changed))
        changed[position] = (changed[position] + generator.randrange(1, 256)) % 256
        result = verify_pdf(bytes(changed))
        assert not result.verified, position
