"""Signed, chained evidence (docs/evidence.md): what a signature writes, and what ``verify_evidence`` finds."""

import base64
import json

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from acknowledgements.declarations import declaration_make
from acknowledgements.evidence_records import ACKNOWLEDGEMENT, AUDIT_EVENT, DECLARATION
from acknowledgements.integrity import (
    evidence_chain_backfill,
    evidence_check,
    integrity_check_daily,
    record_evidence,
)
from acknowledgements.models import Acknowledgement, AuditEvent, Declaration, EventKind
from acknowledgements.tests.factories import business_interest, sign, tamper
from conduct.tests.factories import PersonFactory
from core.canonical import canonical_json, sha256_hex
from core.evidence_chain import commitment, link_statement
from core.evidence_keys import signing_key, verification_keys
from core.models import GENESIS_HASH, ChainHead, EvidenceLink, EvidenceSalt, IntegrityCheck

pytestmark = pytest.mark.django_db


def problems() -> list[str]:
    return [f"{f.item}: {f.problem}" for f in evidence_check().findings]


def test_a_signature_signs_and_chains_its_rows_in_its_organisations_chain(declaring):
    ack = sign(declaring, declaration=business_interest(), issue_pdf=False).acknowledgement
    declaration = Declaration.objects.get(acknowledgement=ack)
    event = AuditEvent.objects.get(acknowledgement=ack, kind=EventKind.SIGNED)
    links = list(EvidenceLink.objects.filter(scope=ack.organisation_id).order_by("seq"))
    signed = {(link.record_type, link.record_id) for link in links}
    mine = {(ACKNOWLEDGEMENT.label, ack.pk), (DECLARATION.label, declaration.pk), (AUDIT_EVENT.label, event.pk)}
    assert mine <= signed
    # One chain without gaps, each entry following the one before, the head on the last one.
    assert [link.seq for link in links] == list(range(1, len(links) + 1))
    assert links[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.link_hash for a, b in zip(links, links[1:], strict=False))
    head = ChainHead.objects.get(scope=ack.organisation_id)
    assert (head.seq, head.head_hash) == (links[-1].seq, links[-1].link_hash)
    # Each signature is Ed25519 over the statement, with the key id; the hash is the statement's.
    key = signing_key()
    for link in links:
        assert link.key_id == key.key_id and link.key_id.startswith("ed25519:")
        key.public_key.verify(base64.b64decode(link.signature), link_statement(link))
        assert sha256_hex(link_statement(link)) == link.link_hash
    # The payload carries no personal data, only commitments to it, with the record's salt.
    ack_link = next(link for link in links if link.record_type == ACKNOWLEDGEMENT.label)
    payload = json.loads(ack_link.payload)
    assert declaring.person.full_name not in ack_link.payload and "Acme Building" not in "".join(
        link.payload for link in links
    )
    salt = bytes.fromhex(EvidenceSalt.objects.get(record_type=ACKNOWLEDGEMENT.label, record_id=ack.pk).salt)
    assert payload["commitments"]["typed_name"] == commitment(salt, ACKNOWLEDGEMENT.label, "typed_name", ack.typed_name)
    assert payload["evidence_hash"] == ack.evidence_hash and payload["verification_code"] == ack.verification_code
    assert problems() == []


def test_the_demo_verifies_and_a_run_is_saved(demo):
    call_command("verify_evidence")
    run = IntegrityCheck.objects.get()
    assert run.ok and run.problems == []
    assert run.counts["acknowledgements"] == Acknowledgement.objects.count() > 0
    assert run.counts["chain entries"] == EvidenceLink.objects.count()
    assert run.counts["adopted versions"] > 0 and run.counts["adoptions"] > 0


def test_a_changed_field_with_its_hash_recomputed_is_caught(staff):
    ack = sign(staff, issue_pdf=False).acknowledgement
    tamper("acknowledgements_acknowledgement", ack.pk, "statement", "I agree to nothing.")
    ack.refresh_from_db()
    from acknowledgements.evidence import acknowledgement_evidence_hash

    tamper("acknowledgements_acknowledgement", ack.pk, "evidence_hash", acknowledgement_evidence_hash(ack))
    found = problems()
    assert any(f"acknowledgement {ack.pk}: it no longer matches what was signed" in p for p in found), found
    assert "evidence_hash" in " ".join(found) and "statement" in " ".join(found)
    with pytest.raises(CommandError, match="broken item"):
        call_command("verify_evidence")
    assert not IntegrityCheck.objects.get().ok


def test_a_changed_personal_field_is_caught_through_its_commitment(staff):
    ack = sign(staff, issue_pdf=False).acknowledgement
    tamper("acknowledgements_acknowledgement", ack.pk, "typed_name", "Someone Else")
    assert any("its personal fields no longer match what was signed (typed_name)" in p for p in problems())


def test_erased_personal_data_still_verifies_and_a_removed_salt_alone_does_not(staff):
    ack = sign(staff, issue_pdf=False).acknowledgement
    EvidenceSalt.objects.filter(record_type=ACKNOWLEDGEMENT.label, record_id=ack.pk).delete()
    assert any("salt of its personal fields is missing" in p for p in problems())
    for column in ("typed_name", "user_agent", "on_behalf_reason", "correction_reason"):
        tamper("acknowledgements_acknowledgement", ack.pk, column, "")
    tamper("acknowledgements_acknowledgement", ack.pk, "ip_address", None)
    report = evidence_check()
    assert report.ok and report.erased == 1
    ack.refresh_from_db()
    assert record_evidence(ACKNOWLEDGEMENT, ack).erased


def test_a_deleted_record_and_a_record_never_chained_are_caught(staff):
    ack = sign(staff, issue_pdf=False).acknowledgement
    event = AuditEvent.objects.get(acknowledgement=ack, kind=EventKind.SIGNED)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM acknowledgements_auditevent WHERE id = %s", [event.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    found = problems()
    assert any(f"audit event {event.pk}: it was signed" in p and "row has been deleted" in p for p in found), found
    # A row inserted behind the application's back is in no chain.
    AuditEvent.objects.create(person=staff.person, kind=EventKind.INVITED)
    assert any("it is in no chain: it was never signed" in p for p in problems())


def test_records_made_before_signing_are_chained_by_the_backfill_in_order(staff):
    ack = sign(staff, issue_pdf=False).acknowledgement
    before = EvidenceLink.objects.count()
    unsigned = AuditEvent.objects.create(person=staff.person, kind=EventKind.INVITED, details={"organisation_id": 1})
    assert evidence_chain_backfill() == 1 and evidence_chain_backfill() == 0
    assert EvidenceLink.objects.count() == before + 1
    link = EvidenceLink.objects.get(record_type=AUDIT_EVENT.label, record_id=unsigned.pk)
    assert link.scope == 1 and problems() == []
    assert record_evidence(ACKNOWLEDGEMENT, ack).ok


def test_a_declaration_made_on_its_own_is_chained(declaring):
    declaration = declaration_make(
        person=declaring.person, organisation=declaring.obligation.organisation, declaration=business_interest()
    )
    link = EvidenceLink.objects.get(record_type=DECLARATION.label, record_id=declaration.pk)
    assert link.scope == declaration.organisation_id
    assert "Acme" not in link.payload and problems() == []
    tamper("acknowledgements_interest", declaration.interests.get().pk, "nature", "Nothing much")
    assert any("personal fields no longer match what was signed (interests)" in p for p in problems())


def test_the_daily_check_emails_the_operators_only_when_something_is_broken(staff, settings):
    PersonFactory.create(is_superuser=True, email="operator@conduct.example")
    settings.ADMINS = [("Ops", "ops@conduct.example")]
    ack = sign(staff, issue_pdf=False).acknowledgement
    assert integrity_check_daily().ok and mail.outbox == []
    tamper("acknowledgements_acknowledgement", ack.pk, "content_hash", "0" * 64)
    run = integrity_check_daily()
    assert not run.ok and run.problems
    (message,) = mail.outbox
    assert set(message.to) == {"ops@conduct.example", "operator@conduct.example"}
    assert "Evidence check FAILED" in message.subject and f"acknowledgement {ack.pk}" in message.body


def test_a_key_not_configured_is_reported_and_an_old_public_key_still_verifies(staff, settings, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from core.evidence_keys import generate_key_file, public_key_pem

    sign(staff, issue_pdf=False)
    old = signing_key()
    # Rotate: a new key signs from now on; the old one's public half is kept for verification.
    settings.EVIDENCE_KEY_FILE = str(tmp_path / "new.key")
    generate_key_file(tmp_path / "new.key")
    assert signing_key().key_id != old.key_id
    assert any("a key this installation does not know" in p for p in problems())
    keys_dir = tmp_path / "public"
    keys_dir.mkdir()
    (keys_dir / "old.pem").write_text(public_key_pem(old.public_key))
    (keys_dir / "unrelated.pem").write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    settings.EVIDENCE_PUBLIC_KEYS_DIR = str(keys_dir)
    assert old.key_id in verification_keys() and problems() == []


def test_statement_is_canonical_json_of_the_entry(staff):
    ack = sign(staff, issue_pdf=False).acknowledgement
    link = EvidenceLink.objects.get(record_type=ACKNOWLEDGEMENT.label, record_id=ack.pk)
    expected = canonical_json(
        {
            "v": 1,
            "chain": link.scope,
            "seq": link.seq,
            "prev": link.prev_hash,
            "key": link.key_id,
            "record": json.loads(link.payload),
        }
    )
    assert link_statement(link) == expected


def test_admins_see_the_last_check_on_the_governance_page_and_only_operators_its_items(demo, client_for):
    from conduct.models import Person

    admin = Person.objects.get(email="admin@att.example")
    operator = Person.objects.get(email="superuser@conduct.example")
    page = client_for(admin).get("/governance/").content.decode()
    assert "Evidence check" in page and "No check of the evidence has run yet" in page
    call_command("verify_evidence")
    page = client_for(admin).get("/governance/").content.decode()
    assert "Passed on" in page
    ack = Acknowledgement.objects.order_by("pk")[0]
    tamper("acknowledgements_acknowledgement", ack.pk, "content_hash", "0" * 64)
    with pytest.raises(CommandError):
        call_command("verify_evidence")
    page = client_for(admin).get("/governance/").content.decode()
    assert "Failed on" in page and "1 broken item" in page and f"acknowledgement {ack.pk}" not in page
    page = client_for(operator).get("/governance/").content.decode()
    assert f"acknowledgement {ack.pk}: it no longer matches what was signed (content_hash)" in page
    # A signatory never sees it (the governance page is not theirs).
    staff = Person.objects.get(email="staff@att.example")
    assert "Evidence check" not in client_for(staff).get("/governance/").content.decode()


def test_the_daily_anchor_timestamps_every_head_and_a_rewound_chain_shows(staff):
    from core.anchoring import anchor_problems, chain_anchor_make
    from core.timestamps import token_time

    ack = sign(staff, issue_pdf=False).acknowledgement
    anchor = chain_anchor_make()
    assert anchor.token and anchor.error == "" and anchor.timestamped_at is not None
    heads = json.loads(anchor.heads)
    head = ChainHead.objects.get(scope=ack.organisation_id)
    assert [ack.organisation_id, head.seq, head.head_hash] in heads
    assert anchor.digest == sha256_hex(anchor.heads.encode()) and anchor_problems(anchor) == []
    from asn1crypto import cms  # type: ignore[import-untyped]

    assert token_time(cms.ContentInfo.load(bytes(anchor.token))) == anchor.timestamped_at
    assert evidence_check().counts["anchors"] == 1 and problems() == []
    # Dropping the newest entry and rewinding the head is invisible to the chain walk, not to the anchor.
    last = EvidenceLink.objects.filter(scope=ack.organisation_id).order_by("-seq")[0]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM core_evidencelink WHERE id = %s", [last.pk])
        if connection.vendor == "sqlite":  # PostgreSQL's replica role switches it off already
            cursor.execute("DROP TRIGGER IF EXISTS core_chainhead_forward")
        cursor.execute(
            "UPDATE core_chainhead SET seq = seq - 1, head_hash = %s WHERE scope = %s",
            [last.prev_hash, ack.organisation_id],
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    found = problems()
    assert any("no longer has the entry" in p and "history was rewritten" in p for p in found), found


def test_an_authority_that_is_down_is_recorded_and_never_raises(staff, settings):
    from core.anchoring import chain_anchor_make

    sign(staff, issue_pdf=False)
    settings.EVIDENCE_TSA_URL = "http://127.0.0.1:9/tsa"  # nothing listens on the discard port
    settings.EVIDENCE_TSA_TIMEOUT = 2
    anchor = chain_anchor_make()
    assert anchor.pk and not anchor.token and "The timestamp authority failed" in anchor.error
    settings.EVIDENCE_TSA_URL, settings.EVIDENCE_TSA_LOCAL = "", False
    assert "No timestamp authority is configured" in chain_anchor_make().error


def signature_timestamped(signature) -> bool:
    attributes = signature.signer_info["unsigned_attrs"]
    return any(attribute["type"].native == "signature_time_stamp_token" for attribute in attributes or [])


def test_a_sealed_pdf_carries_an_rfc3161_timestamp_and_without_an_authority_still_seals(staff, settings):
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    from acknowledgements.issuing import acknowledgement_pdf_render
    from acknowledgements.verification import verify_pdf
    from core.pdf import check_seal

    ack = sign(staff, issue_pdf=False).acknowledgement
    pdf = acknowledgement_pdf_render(ack)
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert signature_timestamped(signature)  # PAdES B-T: the authority's token inside the seal
    assert check_seal(pdf).ok
    settings.EVIDENCE_TSA_URL, settings.EVIDENCE_TSA_TIMEOUT = "http://127.0.0.1:9/tsa", 2  # down
    unstamped = acknowledgement_pdf_render(ack)
    (signature,) = PdfFileReader(io.BytesIO(unstamped)).embedded_signatures
    assert not signature_timestamped(signature) and check_seal(unstamped).ok
    from acknowledgements.issuing import acknowledgement_pdf_issue

    settings.EVIDENCE_TSA_URL = ""
    record = acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False)
    from acknowledgements.sealed_pdfs import sealed_pdf_bytes

    assert verify_pdf(sealed_pdf_bytes(record)).verified


def test_the_public_verification_page_shows_the_latest_timestamped_heads(client, staff):
    from core.anchoring import chain_anchor_make

    ack = sign(staff, issue_pdf=False).acknowledgement
    assert "Latest timestamped chain heads" not in client.get("/verify/").content.decode()
    anchor = chain_anchor_make()
    page = client.get("/verify/").content.decode()
    head = ChainHead.objects.get(scope=ack.organisation_id)
    assert "Latest timestamped chain heads" in page and anchor.digest in page and head.head_hash in page


def test_an_http_timestamp_authority_at_the_configured_url(staff, settings):
    import os
    import socket
    import subprocess
    import sys
    import time

    from core.anchoring import anchor_problems, chain_anchor_make

    sign(staff, issue_pdf=False)
    port = 8651
    env = {**os.environ, "DEBUG": "1", "VAR_DIR": str(settings.VAR_DIR), "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "devtools.tsa", "--port", str(port)], env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        settings.EVIDENCE_TSA_URL = f"http://127.0.0.1:{port}/"
        anchor = chain_anchor_make()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert anchor.token and anchor.tsa_url == f"http://127.0.0.1:{port}/" and anchor_problems(anchor) == []


def run_offline(tmp_path, bundle: dict, pdf: bytes | None = None, *options: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    args = [sys.executable, "-m", "core.verify_offline", str(tmp_path / "bundle.json")]
    if pdf is not None:
        (tmp_path / "signed.pdf").write_bytes(pdf)
        args.append(str(tmp_path / "signed.pdf"))
    args += options
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_the_evidence_bundle_downloads_for_who_may_see_the_record_and_verifies_offline(
    staff, client_for, other_tree, tmp_path
):
    from acknowledgements.issuing import acknowledgement_pdf_issue
    from acknowledgements.sealed_pdfs import sealed_pdf_bytes
    from core.anchoring import chain_anchor_make

    ack = sign(staff, issue_pdf=False).acknowledgement
    pdf = sealed_pdf_bytes(acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False))
    chain_anchor_make()
    url = f"/records/{ack.pk}/evidence.json"
    assert client_for(PersonFactory.create()).get(url).status_code == 404  # someone else's record
    response = client_for(staff.person).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert f"evidence-{ack.verification_code}.json" in response["Content-Disposition"]
    bundle = json.loads(response.content)
    assert bundle["entry"]["record_id"] == ack.pk and bundle["anchor"] and bundle["pdf"]["sha256"]
    result = run_offline(tmp_path, bundle, pdf)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("VERIFIED") and "FAILED" not in result.stdout
    assert "its Ed25519 signature is valid" in result.stdout and "timestamps exactly these heads" in result.stdout
    # A bundle or a PDF altered afterwards does not pass.
    forged = json.loads(json.dumps(bundle))
    forged["entry"]["payload"] = forged["entry"]["payload"].replace(ack.verification_code, "AAAA-AAAA-AAAA-AAAA")
    result = run_offline(tmp_path, forged)
    assert result.returncode == 1 and "FAILED  record (chain" in result.stdout and "NOT VERIFIED" in result.stdout
    changed = bytearray(pdf)
    changed[len(changed) // 2] ^= 0x01
    result = run_offline(tmp_path, bundle, bytes(changed))
    assert result.returncode == 1 and "FAILED  the PDF's SHA-256" in result.stdout
