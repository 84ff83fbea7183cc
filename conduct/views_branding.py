"""A trust's branding: the admins' form, and the style sheet and logo its people's pages link to.

The form page: a permission-scoped getter (404), a form, one service call, a redirect. The style sheet and
logo are public (a trust's colour and logo are on its letters anyway) and cached; their addresses carry a
version (``?v=``) that changes with every save, so a change shows at once.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_safe

from conduct.branding import MAX_LOGO_BYTES, branding_css, branding_update
from conduct.http import AuthenticatedHttpRequest
from conduct.models import Branding, Organisation
from conduct.permissions import can_change_branding
from core.forms import add_service_errors

CACHE = "public, max-age=86400"


class BrandingForm(forms.Form):
    accent_colour = forms.CharField(
        required=False,
        max_length=7,
        label="Accent colour",
        help_text="As # and six hexadecimal digits, e.g. #1d4f91. It must be dark enough for white text (4.5:1).",
    )
    logo = forms.FileField(
        required=False,
        help_text=f"A PNG or JPEG, up to {MAX_LOGO_BYTES // 1024} KB. Shown beside the trust's name on its pages.",
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the current logo")

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if upload and upload.size > MAX_LOGO_BYTES:  # before reading it
            raise forms.ValidationError(
                f"The logo is {upload.size // 1024} KB; the limit is {MAX_LOGO_BYTES // 1024} KB."
            )
        return upload


@login_required
def branding_edit(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    organisation = get_object_or_404(Organisation, slug=slug)
    if not can_change_branding(request.user, organisation):
        raise Http404("No such organisation.")
    current = Branding.objects.filter(organisation=organisation).defer("logo").first()
    initial = {"accent_colour": current.accent_colour if current else ""}
    form = BrandingForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("logo")
        try:
            branding_update(
                actor=request.user,
                organisation=organisation,
                accent_colour=form.cleaned_data["accent_colour"],
                logo=upload.read() if upload else None,
                remove_logo=form.cleaned_data["remove_logo"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            raise Http404(str(error)) from None
        else:
            messages.success(request, f"Branding of {organisation.name} saved.")
            return redirect("conduct:branding_edit", slug=organisation.slug)
    return render(
        request,
        "conduct/branding.html",
        {"organisation": organisation, "form": form, "current": current},
        status=400 if request.method == "POST" else 200,
    )


@require_safe
def branding_stylesheet(request: HttpRequest, slug: str) -> HttpResponse:
    branding = get_object_or_404(Branding.objects.defer("logo"), organisation__slug=slug)
    response = HttpResponse(branding_css(branding), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = CACHE
    return response


@require_safe
def branding_logo(request: HttpRequest, slug: str) -> HttpResponse:
    branding = get_object_or_404(Branding, organisation__slug=slug)
    if not branding.logo_sha256:
        raise Http404("No logo.")
    response = HttpResponse(bytes(branding.logo), content_type=branding.logo_type)
    response["Cache-Control"] = CACHE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
