"""Files attached to a code version: PDF or Word told by content, within the limits, in the content hash (old
hashes unchanged), locked once adopted (model, query set, database), listed on the reading page with a
download for whoever may read the version, copied into the next draft, audited; and the demo's Appendix 2."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse

from conduct import limits
from conduct.attachments import attachment_add, attachment_remove
from conduct.content import content_hash, version_content
from conduct.drafting import draft_start
from conduct.models import (
    AttachmentType,
    AuditAction,
    AuditLogEntry,
    Code,
    CodeVersion,
    ImmutableVersionError,
    VersionAttachment,
)
from conduct.tests.factories import CodeFactory, PersonFactory, RoleFactory, adopt, make_version, trust_tree

pytestmark = pytest.mark.django_db
PDF = (Path(settings.BASE_DIR) / "fixtures" / "attachments" / "the-academy-way-placeholder.pdf").read_bytes()


def word_document(text: str = "Dress code: smart business wear.") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def setup():
    orgs = trust_tree("Oak Trust")
    code = CodeFactory.create(owner=orgs["trust"], title="Oak Staff Code", audience=["employee"])
    clerk = PersonFactory.create(full_name="Alan Fraser")
    RoleFactory.create(person=clerk, organisation=orgs["trust"], kind="admin")
    draft = make_version(code)
    return {"orgs": orgs, "code": code, "clerk": clerk, "draft": draft}


def add(setup, data: bytes = PDF, filename: str = "academy-way.pdf", title: str = "Appendix 2: The Academy Way"):
    return attachment_add(version=setup["draft"], actor=setup["clerk"], data=data, filename=filename, title=title)


def test_a_pdf_and_a_word_document_are_attached_with_their_hash_and_audited(setup):
    pdf = add(setup)
    word = add(setup, word_document(), "Dress code.DOCX", "Appendix 3: Dress code")
    saved = list(VersionAttachment.objects.filter(version=setup["draft"]).order_by("position"))
    assert [(a.filename, a.content_type, a.size, a.position) for a in saved] == [
        ("academy-way.pdf", AttachmentType.PDF, len(PDF), 1),
        ("Dress code.docx", AttachmentType.DOCX, word.size, 2),
    ]
    assert bytes(saved[0].content) == PDF and saved[0].sha256 == pdf.sha256 and len(pdf.sha256) == 64
    entries = AuditLogEntry.objects.filter(action=AuditAction.ATTACHMENT_ADDED).order_by("pk")
    assert [(e.actor_id, e.details["after"]["sha256"]) for e in entries] == [
        (setup["clerk"].pk, pdf.sha256),
        (setup["clerk"].pk, word.sha256),
    ]
    attachment_remove(attachment=word, actor=setup["clerk"])
    assert list(VersionAttachment.objects.values_list("filename", flat=True)) == ["academy-way.pdf"]
    removed = AuditLogEntry.objects.get(action=AuditAction.ATTACHMENT_REMOVED)
    assert removed.details["before"]["filename"] == "Dress code.docx" and removed.details["after"] is None


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"Just some text pretending to be a PDF", "neither a PDF nor a Word document"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "neither a PDF nor a Word document"),
        (PDF[:-200], "damaged or incomplete"),
        (b"PK\x03\x04 not really a zip", "damaged"),
        (b"%PDF-1.7\n" + b"0" * (limits.MAX_ATTACHMENT_BYTES + 1) + b"\n%%EOF", "the limit is"),
    ],
)
def test_the_type_is_told_by_content_and_bad_files_are_refused_with_nothing_saved(setup, data, message):
    with pytest.raises(ValidationError) as refused:
        add(setup, data, filename="appendix.pdf")
    assert message in " ".join(refused.value.messages)
    assert not VersionAttachment.objects.exists()
    assert not AuditLogEntry.objects.filter(action=AuditAction.ATTACHMENT_ADDED).exists()


def test_a_pdf_named_docx_is_kept_as_a_pdf_and_names_are_made_safe(setup):
    attachment = add(setup, PDF, filename="../../etc/The Academy Way?.docx")
    assert attachment.content_type == AttachmentType.PDF and attachment.filename == "The Academy Way.pdf"


def test_the_same_file_twice_too_many_files_and_an_empty_title_are_refused(setup):
    add(setup)
    with pytest.raises(ValidationError, match="already attached"):
        add(setup, filename="again.pdf")
    with pytest.raises(ValidationError, match="Give the file a title"):
        add(setup, word_document(), "x.docx", title="   ")
    for index in range(limits.MAX_ATTACHMENTS_PER_VERSION - 1):
        add(setup, word_document(f"Appendix {index}"), f"a{index}.docx", f"Appendix {index}")
    with pytest.raises(ValidationError, match="at most"):
        add(setup, word_document("one more"), "more.docx", "One more")
    assert VersionAttachment.objects.count() == limits.MAX_ATTACHMENTS_PER_VERSION


def test_only_drafters_attach(setup):
    teacher = PersonFactory.create()
    RoleFactory.create(person=teacher, organisation=setup["orgs"]["north"], kind="employee")
    with pytest.raises(PermissionDenied):
        attachment_add(version=setup["draft"], actor=teacher, data=PDF, filename="a.pdf", title="A")
    assert not VersionAttachment.objects.exists()


def test_the_content_hash_covers_the_files_and_is_unchanged_without_them(setup):
    draft = setup["draft"]
    without = draft.compute_hash()
    # Exactly the definition before attachments existed: no "attachments" key at all.
    assert without == content_hash(version_content(draft, draft.ordered_sections()))
    assert "attachments" not in draft.canonical_content()
    attachment = add(setup)
    content = draft.canonical_content()
    assert content["attachments"] == [
        {
            "title": attachment.title,
            "filename": attachment.filename,
            "content_type": AttachmentType.PDF,
            "size": len(PDF),
            "sha256": attachment.sha256,
        }
    ]
    assert draft.compute_hash() != without


def test_files_are_locked_once_the_version_is_adopted(setup):
    attachment = add(setup)
    adopt(setup["draft"], setup["orgs"]["board"])
    version = CodeVersion.objects.get(pk=setup["draft"].pk)
    assert version.content_hash == version.compute_hash()  # the hash adopted includes the file
    attachment.title = "Changed"
    with pytest.raises(ImmutableVersionError):
        attachment.save()
    with pytest.raises(ImmutableVersionError):
        attachment.delete()
    with pytest.raises(ImmutableVersionError):
        VersionAttachment.objects.filter(pk=attachment.pk).update(title="Changed")
    with pytest.raises(ValidationError, match="only be attached to or removed from a draft"):
        attachment_add(version=version, actor=setup["clerk"], data=word_document(), filename="b.docx", title="B")
    # Below the ORM, the database refuses too.
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE conduct_versionattachment SET sha256 = %s WHERE id = %s", ["0" * 64, attachment.pk])
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO conduct_versionattachment (version_id, position, title, filename, content_type, size, "
            "sha256, content, added_at) VALUES (%s, 9, 'x', 'x.pdf', 'application/pdf', 1, %s, %s, %s)",
            [version.pk, "1" * 64, b"x", "2026-01-01 00:00:00"],
        )
    assert VersionAttachment.objects.get(pk=attachment.pk).title == "Appendix 2: The Academy Way"
    assert version.compute_hash() == version.content_hash


def test_the_next_draft_starts_with_the_files(setup):
    add(setup)
    adopt(setup["draft"], setup["orgs"]["board"])
    code = Code.objects.get(pk=setup["code"].pk)
    following = draft_start(code=code, created_by=setup["clerk"])
    assert list(following.attachments.values_list("filename", "sha256")) == list(
        setup["draft"].attachments.values_list("filename", "sha256")
    )


def test_drafters_attach_on_the_page_and_readers_download_from_the_reading_page(setup, client_for):
    draft, code = setup["draft"], setup["code"]
    files = reverse("conduct:draft_files", args=[code.slug, draft.pk])
    clerk = client_for(setup["clerk"])
    assert clerk.get(files).status_code == 200
    upload = SimpleUploadedFile("academy-way.pdf", PDF, content_type="application/pdf")
    response = clerk.post(files, {"title": "Appendix 2: The Academy Way", "file": upload})
    assert response.status_code == 302
    attachment = VersionAttachment.objects.get(version=draft)
    bad = clerk.post(files, {"title": "Notes", "file": SimpleUploadedFile("notes.pdf", b"plain text")})
    assert bad.status_code == 400 and "neither a PDF nor a Word document" in bad.content.decode()
    assert VersionAttachment.objects.count() == 1
    adopt(draft, setup["orgs"]["board"])
    teacher = PersonFactory.create()
    RoleFactory.create(person=teacher, organisation=setup["orgs"]["north"], kind="employee")
    reader = client_for(teacher)
    page = reader.get(draft.get_absolute_url()).content.decode()
    download = reverse("conduct:version_file", args=[code.slug, draft.pk, attachment.pk])
    assert f'href="{download}"' in page and "Appendix 2: The Academy Way" in page
    response = reader.get(download)
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Type"] == "application/pdf" and "academy-way.pdf" in response["Content-Disposition"]
    # Someone of another trust neither reads the version nor downloads its files; nobody removes an adopted file.
    outsider = PersonFactory.create()
    RoleFactory.create(person=outsider, organisation=trust_tree("Elm Trust")["north"], kind="employee")
    assert client_for(outsider).get(download).status_code == 404
    remove = reverse("conduct:draft_file_remove", args=[code.slug, draft.pk, attachment.pk])
    clerk.post(remove)
    assert VersionAttachment.objects.filter(pk=attachment.pk).exists()


def test_a_draft_file_is_only_for_its_drafters(setup, client_for):
    attachment = add(setup)
    download = reverse("conduct:version_file", args=[setup["code"].slug, setup["draft"].pk, attachment.pk])
    teacher = PersonFactory.create()
    RoleFactory.create(person=teacher, organisation=setup["orgs"]["north"], kind="employee")
    assert client_for(teacher).get(download).status_code == 404
    assert client_for(setup["clerk"]).get(download).content == PDF
    files = reverse("conduct:draft_files", args=[setup["code"].slug, setup["draft"].pk])
    assert client_for(teacher).post(files, {"title": "x"}).status_code == 404


def test_the_demo_staff_code_carries_its_appendix_2(demo):
    version = Code.objects.get(slug="att-staff-code-of-conduct").versions.get()
    attachment = version.attachments.get()
    assert attachment.title.startswith("Appendix 2: The Academy Way") and "placeholder" in attachment.title
    assert bytes(attachment.content) == PDF and version.content_hash == version.compute_hash()
