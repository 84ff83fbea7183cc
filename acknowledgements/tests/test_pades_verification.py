"""PAdES B-LT and timestamp trust where people meet them: /verify/, verify_evidence and the offline verifier.

The PDFs here are sealed with a certomancer PKI's seal (issued by an intermediate, valid for one day, with
CRL and OCSP endpoints) and timestamped by its authority (core/tests/pki.py); a second authority, under a
root nobody trusts, stands in for a timestamp from someone else.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from acknowledgements.bundles import acknowledgement_bundle
from acknowledgements.integrity import evidence_check
from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.sealed_pdfs import sealed_pdf_bytes
from acknowledgements.tests.factories import sign
from acknowledgements.tests.test_integrity import run_offline
from acknowledgements.verification import verify_pdf
from core.seal_validation import UNTRUSTED_AUTHORITY
from core.tests.pki import LocalPki, served_pki, use

pytestmark = pytest.mark.django_db
__all__ = ["served_pki"]  # the fixture, imported to be used here


def issued(who):
    ack = sign(who, issue_pdf=False).acknowledgement
    return ack, sealed_pdf_bytes(acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False))


def after_expiry(pki: LocalPki):
    return time_machine.travel(pki.seal_not_after + timedelta(days=30), tick=True)


def test_the_verify_page_still_verifies_a_pdf_after_its_seal_certificate_expired(staff, served_pki, settings, client):
    pki = use(served_pki, settings)
    ack, pdf = issued(staff)
    with after_expiry(pki):
        result = verify_pdf(pdf)
        page = client.post("/verify/", {"file": SimpleUploadedFile("s.pdf", pdf, content_type="application/pdf")})
    assert result.verified, result.reasons
    assert any(
        "timestamp" in check and "trusted timestamp authority" in check and "validation data embedded" in check
        for check in result.checks
    ), result.checks
    text = page.content.decode()
    assert "NOT VERIFIED" not in text and "VERIFIED" in text and "from a trusted timestamp authority" in text


def test_the_verify_page_reports_a_seal_timestamped_by_an_untrusted_authority(staff, served_pki, settings, client):
    use(served_pki, settings, tsa="rogue-tsa")
    _, pdf = issued(staff)
    result = verify_pdf(pdf)
    assert not result.verified
    assert f"The seal's timestamp cannot be relied on: {UNTRUSTED_AUTHORITY}." in result.reasons
    page = client.post("/verify/", {"file": SimpleUploadedFile("s.pdf", pdf, content_type="application/pdf")})
    text = page.content.decode()
    assert "NOT VERIFIED" in text and "authority that is not trusted" in text


def test_verify_evidence_reports_an_anchor_from_an_untrusted_authority(staff, served_pki, settings):
    from core.anchoring import chain_anchor_make

    pki = use(served_pki, settings)
    sign(staff, issue_pdf=False)
    trusted = chain_anchor_make()
    assert trusted.token and [f for f in evidence_check().findings if f.kind == "anchor"] == []
    settings.EVIDENCE_TSA_URL = pki.tsa_url("rogue-tsa")
    rogue = chain_anchor_make()
    assert rogue.token and rogue.error == ""  # the token itself is fine: only whom it is from is wrong
    findings = [f for f in evidence_check().findings if f.kind == "anchor"]
    assert [f.problem for f in findings] == [UNTRUSTED_AUTHORITY]
    assert rogue.digest[:12] in findings[0].item


def test_verify_evidence_validates_the_newest_seals_and_reports_an_untrusted_timestamp(staff, served_pki, settings):
    from acknowledgements.models import SealedPdf
    from acknowledgements.tests.factories import owing

    use(served_pki, settings)
    issued(staff)
    report = evidence_check()
    assert report.counts["seals"] == 1 and [f for f in report.findings if f.kind == "seal"] == []
    use(served_pki, settings, tsa="rogue-tsa")
    rogue_ack, _ = issued(owing(name="Elm Trust", full_name="Grace Hopper"))
    report = evidence_check()
    rogue_record = SealedPdf.objects.get(acknowledgement=rogue_ack)
    assert report.counts["seals"] == 2
    assert [(f.item, f.problem) for f in report.findings if f.kind == "seal"] == [
        (
            f"seal of stored PDF {rogue_record.pk} ({rogue_record.file.name})",
            f"The seal's timestamp cannot be relied on: {UNTRUSTED_AUTHORITY}.",
        )
    ]


def test_the_public_page_says_when_its_latest_anchor_is_from_an_untrusted_authority(
    staff, served_pki, settings, client
):
    from core.anchoring import chain_anchor_make

    pki = use(served_pki, settings)
    sign(staff, issue_pdf=False)
    trusted = chain_anchor_make()
    page = client.get("/verify/").content.decode()
    assert trusted.digest in page and "This timestamp cannot be relied on" not in page
    settings.EVIDENCE_TSA_URL = pki.tsa_url("rogue-tsa")
    rogue = chain_anchor_make()
    page = client.get("/verify/").content.decode()
    assert rogue.digest in page
    assert f"This timestamp cannot be relied on: {UNTRUSTED_AUTHORITY}." in page


def test_the_offline_verifier_checks_whom_the_timestamps_are_from(staff, served_pki, settings, tmp_path):
    from core.anchoring import chain_anchor_make

    pki = use(served_pki, settings)
    ack, pdf = issued(staff)
    chain_anchor_make()
    bundle = acknowledgement_bundle(ack)
    assert bundle["pdf"]["seal_chain"] and len(bundle["timestamp_roots"]) == 1
    result = run_offline(tmp_path, json.loads(json.dumps(bundle)), pdf)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the seal's timestamp" in result.stdout and "with the validation data embedded in the PDF" in result.stdout
    # Checked on one's own: a root obtained separately, given on the command line, is what counts.
    result = run_offline(tmp_path, bundle, pdf, "--tsa-root", str(pki.rogue_root))
    assert result.returncode == 1 and "authority that is not trusted" in result.stdout, result.stdout
    result = run_offline(tmp_path, bundle, pdf, "--tsa-root", str(pki.root))
    assert result.returncode == 0, result.stdout


def test_the_offline_verifier_reports_an_untrusted_authoritys_anchor_and_seal(staff, served_pki, settings, tmp_path):
    from core.anchoring import chain_anchor_make

    use(served_pki, settings, tsa="rogue-tsa")
    ack, pdf = issued(staff)
    chain_anchor_make()
    result = run_offline(tmp_path, acknowledgement_bundle(ack), pdf)
    assert result.returncode == 1 and "NOT VERIFIED" in result.stdout
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert any("RFC 3161 token" in line and "not trusted" in line for line in failed), result.stdout
    assert any("PDF's seal" in line and "not trusted" in line for line in failed), result.stdout


def test_the_offline_verifier_validates_an_expired_seal_by_its_timestamp(staff, served_pki, settings):
    from core.verify_offline import verify_bundle

    pki = use(served_pki, settings)
    ack, pdf = issued(staff)
    bundle = acknowledgement_bundle(ack)
    with after_expiry(pki):
        report = verify_bundle(bundle, pdf)
    assert report.ok, [what for ok, what in report.lines if not ok]


def test_production_with_an_authority_but_no_roots_to_trust_it_by_refuses_to_start(tmp_path):
    import subprocess
    import sys

    from conduct.tests.test_settings import BASE_DIR, production_env

    def start(**overrides) -> subprocess.CompletedProcess:
        env = production_env(tmp_path, EVIDENCE_TSA_URL="https://tsa.example.org/", **overrides)
        command = [sys.executable, "-c", "import config.settings"]
        return subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)

    refused = start()
    assert refused.returncode != 0 and "EVIDENCE_TSA_TRUST_ROOTS must name the root certificate(s)" in refused.stderr
    assert start(EVIDENCE_TSA_TRUST_ROOTS="/etc/conduct/tsa-root.pem").returncode == 0
