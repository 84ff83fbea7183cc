"""Public verification of a signed PDF or a verification code (no account needed)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from acknowledgements import forms
from acknowledgements.verification import public_anchor, verify_code, verify_pdf


class CappedUploadHandler(FileUploadHandler):
    """Stops reading an upload as soon as it passes the verification limit (nothing large reaches disk)."""

    def __init__(self, request=None, limit: int = 0):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


@csrf_exempt
def verify(request: HttpRequest) -> HttpResponse:
    """Public: anyone may check a PDF or a verification code.

    CSRF is checked (in ``_verify``) only after the size cap is in place, because
    the check reads the body; an oversized upload is refused unread.
    """
    handler = None
    if request.method == "POST":
        limit = settings.VERIFICATION_UPLOAD_MAX_BYTES
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 64 * 1024:
            return _verify_refused(request)
        handler = CappedUploadHandler(request, limit)
        request.upload_handlers.insert(0, handler)
    return _verify(request, handler)


def _verify_refused(request: HttpRequest) -> HttpResponse:
    limit = settings.VERIFICATION_UPLOAD_MAX_BYTES // 1024
    refused = f"The file is too large to be one we issued (the limit is {limit:,} KB)."
    return render(request, "acknowledgements/verify.html", {"form": forms.VerifyForm(), "refused": refused}, status=413)


@csrf_protect
def _verify(request: HttpRequest, handler: CappedUploadHandler | None) -> HttpResponse:
    result = None
    if request.method == "POST":
        form = forms.VerifyForm(request.POST, request.FILES)
        if handler is not None and handler.exceeded:
            return _verify_refused(request)
        if form.is_valid():
            upload = form.cleaned_data.get("file")
            result = verify_pdf(upload.read()) if upload else verify_code(form.cleaned_data["code"])
    elif request.GET.get("code"):
        form = forms.VerifyForm(initial={"code": request.GET["code"]})
        result = verify_code(request.GET["code"])
    else:
        form = forms.VerifyForm()
    return render(
        request,
        "acknowledgements/verify.html",
        {"form": form, "result": result, "anchor": public_anchor()},
        status=400 if form.errors else 200,
    )
