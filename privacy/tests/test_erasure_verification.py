"""After an erasure the record still exists and verifies everywhere; its personal fields and PDF read "erased"."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from acknowledgements.bundles import acknowledgement_bundle
from acknowledgements.integrity import evidence_check
from acknowledgements.models import Acknowledgement, AuditEvent, EventKind
from acknowledgements.paper import acknowledgement_record_on_behalf
from acknowledgements.restore import restore_check
from acknowledgements.sealed_pdfs import sealed_pdf_bytes
from acknowledgements.tests.factories import META, owing
from acknowledgements.verification import verify_code, verify_pdf
from conduct.models import Adoption
from conduct.tests.factories import PersonFactory, RoleFactory
from core.models import Tombstone
from core.verify_offline import verify_bundle
from privacy.erasure import person_erase
from privacy.tests.factories import SIGNER_IP, SIGNER_NAME, roles_end, signed_person

pytestmark = pytest.mark.django_db

REQUEST = "Request of 3 November 2026 under Article 17; nothing requires the records' personal data."


def _erased(django_capture_on_commit_callbacks):
    signed = signed_person()
    kept_pdf = sealed_pdf_bytes(signed.pdf)  # the copy the signer was emailed
    with django_capture_on_commit_callbacks(execute=True):
        person_erase(actor=signed.admin, person=signed.person, reason=REQUEST, basis="erasure_request")
    return signed, kept_pdf


def test_the_record_page_shows_its_existence_dates_and_hashes_and_says_erased(
    client_for, django_capture_on_commit_callbacks
):
    signed, _pdf = _erased(django_capture_on_commit_callbacks)
    ack = signed.acknowledgement
    response = client_for(signed.admin).get(reverse("acknowledgements:record", args=[ack.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert ack.evidence_hash in page and ack.content_hash in page and ack.verification_code in page
    assert f"{ack.signed_at:%Y}" in page
    assert "erased on" in page and "an erasure request (UK GDPR Article 17)" in page
    assert "no longer matches its evidence hash" not in page  # erased, not tampered with
    assert SIGNER_NAME not in page and SIGNER_IP not in page


def test_a_download_of_the_erased_pdf_shows_the_tombstone_and_records_nothing(
    client_for, django_capture_on_commit_callbacks
):
    signed, _pdf = _erased(django_capture_on_commit_callbacks)
    downloads = AuditEvent.objects.filter(kind=EventKind.PDF_DOWNLOADED).count()
    response = client_for(signed.admin).get(reverse("acknowledgements:pdf", args=[signed.acknowledgement.pk]))
    assert response.status_code == 410
    page = response.content.decode()
    assert "The signed PDF has been erased" in page and signed.pdf.sha256 in page
    assert AuditEvent.objects.filter(kind=EventKind.PDF_DOWNLOADED).count() == downloads


def test_verify_by_code_finds_the_record_verified_with_its_name_erased(django_capture_on_commit_callbacks):
    signed, _pdf = _erased(django_capture_on_commit_callbacks)
    result = verify_code(signed.acknowledgement.verification_code)
    assert result.verified, result.reasons
    facts = dict(result.facts)
    assert facts["Signed by (the name typed when signing)"].startswith("Name erased on")
    assert facts["Evidence hash"] == signed.acknowledgement.evidence_hash
    assert any("deleted with the person's personal data" in note for note in result.notes)
    assert any("evidence chain" in check for check in result.checks)


def test_an_uploaded_copy_of_the_erased_pdf_is_recognised_and_says_the_data_was_erased(
    client, django_capture_on_commit_callbacks
):
    signed, kept_pdf = _erased(django_capture_on_commit_callbacks)
    result = verify_pdf(kept_pdf)
    assert result.verified, result.reasons
    assert any("personal data was erased on" in note for note in result.notes)

    upload = SimpleUploadedFile("record.pdf", kept_pdf, content_type="application/pdf")
    response = client.post(reverse("acknowledgements:verify"), {"file": upload})
    assert response.status_code == 200
    page = response.content.decode()
    assert "VERIFIED" in page and "NOT VERIFIED" not in page
    assert "personal data was erased on" in page and SIGNER_NAME not in page


def test_the_public_page_by_code_says_name_erased(client, django_capture_on_commit_callbacks):
    signed, _pdf = _erased(django_capture_on_commit_callbacks)
    response = client.get(reverse("acknowledgements:verify"), {"code": signed.acknowledgement.verification_code})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Name erased on" in page and SIGNER_NAME not in page


def test_check_restore_reports_the_erased_records_and_no_finding(django_capture_on_commit_callbacks):
    signed, _pdf = _erased(django_capture_on_commit_callbacks)
    report = restore_check()
    assert report.ok, report.findings
    assert report.missing_files == 0
    assert report.counts["erased records"] == 1  # the acknowledgement (its chair's adoption is someone else's)
    assert report.counts["erased PDF files"] == 1
    assert Adoption.objects.count() == 1


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_paper_record_loses_its_scan_and_reason_and_still_verifies(client_for, django_capture_on_commit_callbacks):
    who = owing(full_name=SIGNER_NAME)
    clerk = PersonFactory.create()
    RoleFactory.create(person=clerk, organisation=who.orgs["north"], kind="clerk")
    admin = PersonFactory.create()
    RoleFactory.create(person=admin, organisation=who.orgs["trust"], kind="admin")
    ack = acknowledgement_record_on_behalf(
        person=who.person,
        version=who.version,
        recorded_by=clerk,
        typed_name=SIGNER_NAME,
        paper_signed_on=timezone.localdate() - timedelta(days=1),
        reason=f"{SIGNER_NAME} signed the paper form at the staff meeting",
        declaration=None,
        request_meta=META,
        scan=SimpleUploadedFile("form.png", PNG, content_type="image/png"),
        issue_pdf=False,
    ).acknowledgement
    scan_name = ack.paper_scan.name or ""
    assert default_storage.exists(scan_name)
    roles_end(who.person, timezone.localdate() - timedelta(days=1))  # they have left
    with django_capture_on_commit_callbacks(execute=True):
        person_erase(actor=admin, person=who.person, reason=REQUEST, basis="erasure_request")

    ack.refresh_from_db()
    assert (ack.typed_name, ack.on_behalf_reason, ack.paper_scan.name) == ("", "erased", "")
    assert ack.recorded_by == clerk and ack.paper_scan_sha256  # who recorded it and the scan's hash stay
    assert not default_storage.exists(scan_name)
    stone = Tombstone.objects.get(record_type="acknowledgements.paperscan", record_id=ack.pk)
    assert stone.sha256 == ack.paper_scan_sha256 and stone.file_name == scan_name
    assert evidence_check().ok
    response = client_for(admin).get(reverse("acknowledgements:scan", args=[ack.pk]))
    assert response.status_code == 410 and "has been erased" in response.content.decode()


def test_the_evidence_bundle_of_an_erased_record_still_verifies_offline_with_the_signers_pdf(
    django_capture_on_commit_callbacks,
):
    signed, kept_pdf = _erased(django_capture_on_commit_callbacks)
    bundle = acknowledgement_bundle(Acknowledgement.objects.get(pk=signed.acknowledgement.pk))
    assert bundle["evidence"] is None and bundle["personal"] == {"salt": None, "fields": None}
    assert SIGNER_NAME not in json.dumps(bundle)

    report = verify_bundle(bundle, kept_pdf)
    assert report.ok, [what for ok, what in report.lines if not ok]
    assert (True, "personal fields: erased (their commitments remain signed)") in report.lines


def test_verify_evidence_says_every_item_verifies_and_counts_the_erased(django_capture_on_commit_callbacks):
    _erased(django_capture_on_commit_callbacks)
    out = io.StringIO()
    call_command("verify_evidence", stdout=out)
    text = out.getvalue()
    assert "All evidence verifies." in text and "BROKEN" not in text
    assert "checked 1 erased PDF files" in text
    erased = Tombstone.objects.exclude(record_type="acknowledgements.sealedpdf").count()
    assert f"checked {erased} erased records" in text
