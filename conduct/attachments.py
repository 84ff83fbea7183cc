"""Files attached to a draft version (PDF or Word), checked by their content, and removed again.

Only drafts take or lose attachments; once the version is adopted they are locked with its text (model,
query set and database trigger) and their SHA-256 is in its content hash. Each change is audited.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from io import BytesIO
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum

from conduct import limits
from conduct.audit import audit_log_record
from conduct.models import AttachmentType, AuditAction, CodeVersion, Person, VersionAttachment, VersionStatus
from conduct.permissions import can_draft_code
from core.canonical import sha256_hex
from core.pdf import Attachment

PDF_MAGIC = b"%PDF-"
WHICH = "Attach a PDF or a Word document (.docx)."


def attachment_type_of(data: bytes) -> str:
    """The attachment's type told from its bytes (never its name): a PDF or a plain .docx, else refused."""
    if not data:
        raise ValidationError("The file is empty.", code="empty")
    if len(data) > limits.MAX_ATTACHMENT_BYTES:
        size, limit = len(data) / 1024 / 1024, limits.MAX_ATTACHMENT_BYTES / 1024 / 1024
        raise ValidationError(f"The file is {size:.1f} MB; the limit is {limit:.0f} MB.", code="too_large")
    # The importer's checks of a Word package (imported here: conduct.importer imports the drafting service,
    # which imports this module to copy a version's files).
    from conduct.importer import package

    if data.startswith(PDF_MAGIC):
        if b"%%EOF" not in data[-2048:]:
            raise ValidationError("The PDF is damaged or incomplete. Save it again and attach that.", code="damaged")
        if b"/Encrypt" in data:
            raise ValidationError(
                "The PDF is protected with a password. Attach a copy without the password.", code="password"
            )
        return AttachmentType.PDF
    if not data.startswith(package.ZIP_MAGIC) and not data.startswith(package.OLE_MAGIC):
        raise ValidationError(f"This file is neither a PDF nor a Word document. {WHICH}", code="type")
    try:
        package.check_signature(data)
        docx = zipfile.ZipFile(BytesIO(data))
        package.check_members(docx)
        package.check_content_types(docx)
        if docx.testzip() is not None:
            raise ValidationError(package.DAMAGED, code="damaged")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError):
        raise ValidationError(package.DAMAGED, code="damaged") from None
    return AttachmentType.DOCX


def clean_filename(name: str, content_type: str) -> str:
    """A safe file name ending as its type does, whatever the upload was called."""
    stem = PurePath(name.replace("\\", "/")).stem
    stem = re.sub(r"[^\w .()-]+", "", stem).strip(" .") or "attachment"
    extension = ".pdf" if content_type == AttachmentType.PDF else ".docx"
    return stem[: limits.MAX_ATTACHMENT_TITLE_CHARS - len(extension)] + extension


def _check_draft(version: CodeVersion, actor: Person) -> None:
    if not can_draft_code(actor, version.code):
        raise PermissionDenied("You do not draft this code.")
    if version.status != VersionStatus.DRAFT:
        raise ValidationError("Files can only be attached to or removed from a draft; this version is adopted.")


@transaction.atomic
def attachment_add(*, version: CodeVersion, actor: Person, data: bytes, filename: str, title: str) -> VersionAttachment:
    """Attach a file to a draft; refused (nothing saved) if it is not a PDF or .docx, too big, or already there."""
    version = CodeVersion.objects.select_for_update().select_related("code").get(pk=version.pk)
    _check_draft(version, actor)
    title = " ".join(title.split())
    if not title:
        raise ValidationError({"title": "Give the file a title, for example “Appendix 2: The Academy Way”."})
    if len(title) > limits.MAX_ATTACHMENT_TITLE_CHARS:
        raise ValidationError({"title": f"Keep the title to {limits.MAX_ATTACHMENT_TITLE_CHARS} characters."})
    try:
        content_type = attachment_type_of(data)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    existing = VersionAttachment.objects.filter(version=version)
    if existing.count() >= limits.MAX_ATTACHMENTS_PER_VERSION:
        raise ValidationError({"file": f"A version holds at most {limits.MAX_ATTACHMENTS_PER_VERSION} files."})
    held = existing.aggregate(total=Sum("size"))["total"] or 0
    if held + len(data) > limits.MAX_ATTACHMENTS_TOTAL_BYTES:
        limit = limits.MAX_ATTACHMENTS_TOTAL_BYTES / 1024 / 1024
        raise ValidationError(
            {"file": f"The version's files together may not exceed {limit:.0f} MB (they travel in every signed PDF)."}
        )
    digest = sha256_hex(data)
    if existing.filter(sha256=digest).exists():
        raise ValidationError({"file": "This file is already attached to the draft."})
    name = clean_filename(filename, content_type)
    if existing.filter(filename=name).exists():
        raise ValidationError({"file": f"A file named {name} is already attached; rename one of them."})
    position = (existing.aggregate(last=Max("position"))["last"] or 0) + 1
    try:
        with transaction.atomic():
            attachment = VersionAttachment.objects.create(
                version=version,
                position=position,
                title=title,
                filename=name,
                content_type=content_type,
                size=len(data),
                sha256=digest,
                content=data,
                added_by=actor,
            )
    except IntegrityError:  # a second tab attached the same file at the same moment
        raise ValidationError({"file": "This file is already attached to the draft."}) from None
    audit_log_record(
        actor=actor,
        action=AuditAction.ATTACHMENT_ADDED,
        organisation=version.code.owner,
        target=attachment,
        summary=f"Attached {title} ({name}) to {version}",
        details={"before": None, "after": _facts(attachment)},
    )
    return attachment


@transaction.atomic
def attachment_remove(*, attachment: VersionAttachment, actor: Person) -> None:
    version = CodeVersion.objects.select_for_update().select_related("code").get(pk=attachment.version_id)
    _check_draft(version, actor)
    facts = _facts(attachment)
    VersionAttachment.objects.filter(pk=attachment.pk).delete()
    audit_log_record(
        actor=actor,
        action=AuditAction.ATTACHMENT_REMOVED,
        organisation=version.code.owner,
        target=version,
        summary=f"Removed {attachment.title} ({attachment.filename}) from {version}",
        details={"before": facts, "after": None},
    )


def attachments_copy(*, source: CodeVersion, draft: CodeVersion) -> int:
    """A new draft starts with the files of the version it copies (called by the drafting service)."""
    rows = [
        VersionAttachment(
            version=draft,
            position=a.position,
            title=a.title,
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
            content=a.content,
            added_by=a.added_by,
        )
        for a in source.attachments.order_by("position")
    ]
    VersionAttachment.objects.bulk_create(rows)
    return len(rows)


def attachments_listed(version: CodeVersion) -> list[VersionAttachment]:
    """The version's files without their bytes, in order: what a signed PDF's printed text lists (file name,
    size, SHA-256) beside embedding them (``attachments_for_pdf``)."""
    return list(version.attachments.defer("content").order_by("position"))


def attachments_for_pdf(version: CodeVersion) -> list[Attachment]:
    """The version's files, to embed in its signed PDFs and adoption certificates (PDF/A-3 attachments)."""
    return [
        Attachment(
            name=attachment.filename,
            content=bytes(attachment.content),
            description=f"{attachment.title}, part of {version}; SHA-256 {attachment.sha256}",
            mime_type=attachment.content_type,
        )
        for attachment in version.attachments.order_by("position")
    ]


def _facts(attachment: VersionAttachment) -> dict:
    return {
        "version_id": attachment.version_id,
        "title": attachment.title,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }
