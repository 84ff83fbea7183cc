"""Files attached to a code version: the drafters' page to attach and remove them, and the download.

Each view: a permission-scoped getter (404 otherwise), a form, one service call, a redirect.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from conduct import limits
from conduct.attachments import attachment_add, attachment_remove
from conduct.http import AuthenticatedHttpRequest
from conduct.models import CodeVersion, VersionAttachment
from conduct.permissions import can_read_version
from conduct.views_drafting import editing_draft
from core.downloads import file_download
from core.forms import add_service_errors


class AttachmentForm(forms.Form):
    title = forms.CharField(
        max_length=limits.MAX_ATTACHMENT_TITLE_CHARS,
        help_text="As readers will see it, e.g. “Appendix 2: The Academy Way”.",
    )
    file = forms.FileField(
        help_text=f"A PDF or a Word document (.docx), up to {limits.MAX_ATTACHMENT_BYTES // 1024 // 1024} MB; "
        f"a version holds up to {limits.MAX_ATTACHMENTS_PER_VERSION} files, "
        f"{limits.MAX_ATTACHMENTS_TOTAL_BYTES // 1024 // 1024} MB together."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > limits.MAX_ATTACHMENT_BYTES:  # before reading it
            size, limit = upload.size / 1024 / 1024, limits.MAX_ATTACHMENT_BYTES / 1024 / 1024
            raise forms.ValidationError(f"The file is {size:.1f} MB; the limit is {limit:.0f} MB.")
        return upload


def _files_url(version: CodeVersion) -> str:
    return reverse("conduct:draft_files", args=[version.code.slug, version.pk])


@editing_draft
def draft_files(request: AuthenticatedHttpRequest, version: CodeVersion) -> HttpResponse:
    form = AttachmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            attachment = attachment_add(
                version=version,
                actor=request.user,
                data=upload.read(),
                filename=upload.name or "",
                title=form.cleaned_data["title"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            raise Http404(str(error)) from None
        else:
            messages.success(request, f"Attached {attachment.title} ({attachment.filename}).")
            return redirect(_files_url(version))
    context = {
        "code": version.code,
        "version": version,
        "form": form,
        "attachments": list(version.attachments.defer("content").order_by("position")),
    }
    return render(request, "conduct/draft_files.html", context, status=400 if request.method == "POST" else 200)


@editing_draft
@require_POST
def draft_file_remove(request: AuthenticatedHttpRequest, version: CodeVersion, attachment_id: int) -> HttpResponse:
    attachment = get_object_or_404(VersionAttachment.objects.defer("content"), pk=attachment_id, version=version)
    try:
        attachment_remove(attachment=attachment, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        raise Http404(str(error)) from None
    else:
        messages.success(request, f"Removed {attachment.title} ({attachment.filename}).")
    return redirect(_files_url(version))


@login_required
@require_safe
def version_file(request: AuthenticatedHttpRequest, slug: str, pk: int, attachment_id: int) -> HttpResponse:
    """Download one of a version's files: whoever may read the version (drafts: those who draft it)."""
    version = get_object_or_404(CodeVersion.objects.select_related("code__owner"), pk=pk, code__slug=slug)
    if not can_read_version(request.user, version):
        raise Http404("No such file.")
    attachment = get_object_or_404(VersionAttachment, pk=attachment_id, version=version)
    response = file_download(
        bytes(attachment.content), filename=attachment.filename, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
