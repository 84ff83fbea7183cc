"""The admins' provisioning pages: SCIM tokens (created, shown once, revoked) and roster sync from a file.

Each view: a permission-scoped getter (404 for an organisation the user does not administer), a
form, one call into a service, a redirect or a render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from conduct.http import AuthenticatedHttpRequest
from conduct.models import Organisation
from conduct.permissions import can_manage_provisioning, organisations_provisioned_by
from core.forms import add_service_errors
from provisioning import roster as roster_services
from provisioning.forms import RosterUploadForm, TokenCreateForm
from provisioning.models import ProvisioningToken, RosterUpload
from provisioning.tokens import token_create, token_revoke

NEW_SECRET_SESSION_KEY = "provisioning_new_token"
PREVIEW_LIMIT = 500  # rows of each kind listed on the preview page (the counts are always complete)


def _organisation(request: AuthenticatedHttpRequest, slug: str) -> Organisation:
    organisation = get_object_or_404(Organisation, slug=slug)
    if not can_manage_provisioning(request.user, organisation):
        raise Http404("No such organisation.")
    return organisation


@login_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The organisations whose roster and tokens the user manages (their admins), in tree order."""
    organisations = list(organisations_provisioned_by(request.user)[:500])
    if not organisations:
        raise Http404("You do not manage provisioning anywhere.")
    return render(request, "provisioning/index.html", {"organisations": organisations})


@login_required
def tokens_page(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug)
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = token_create(actor=request.user, organisation=organisation, name=form.cleaned_data["name"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # Shown once, on the page the redirect leads to, then gone from the session.
            request.session[NEW_SECRET_SESSION_KEY] = {"id": created.token.pk, "secret": created.secret}
            return redirect("provisioning:tokens", slug=organisation.slug)
    new = request.session.pop(NEW_SECRET_SESSION_KEY, None)
    tokens = ProvisioningToken.objects.filter(organisation=organisation).select_related("created_by", "revoked_by")
    return render(
        request,
        "provisioning/tokens.html",
        {
            "organisation": organisation,
            "form": form,
            "tokens": tokens,
            "new_secret": new["secret"] if new else "",
            "new_token_id": new["id"] if new else None,
            "scim_url": request.build_absolute_uri(reverse("scim:root")),
        },
    )


@login_required
@require_POST
def token_revoke_view(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    organisation = _organisation(request, slug)
    token = get_object_or_404(ProvisioningToken, pk=pk, organisation=organisation)
    token_revoke(actor=request.user, token=token)
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("provisioning:tokens", slug=organisation.slug)


@login_required
def roster_upload(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug)
    form = RosterUploadForm(request.POST if request.method == "POST" else None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            upload = roster_services.roster_upload_create(
                actor=request.user,
                organisation=organisation,
                data=upload_file.read(),
                file_name=upload_file.name or "",
                whole_roster=form.cleaned_data["whole_roster"],
                leavers_on=form.cleaned_data["leavers_on"],
            )
        except roster_services.RosterFileError as error:
            form.add_error("file", str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("provisioning:roster_preview", slug=organisation.slug, pk=upload.pk)
    return render(request, "provisioning/roster_upload.html", {"organisation": organisation, "form": form})


@login_required
def roster_preview(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    organisation = _organisation(request, slug)
    upload = get_object_or_404(RosterUpload, pk=pk, organisation=organisation)
    if request.method == "POST":
        roster_services.roster_apply_request(actor=request.user, upload=upload)
        return redirect("provisioning:roster_preview", slug=organisation.slug, pk=upload.pk)
    if upload.applied_at is not None:
        return render(request, "provisioning/roster_applied.html", {"organisation": organisation, "upload": upload})
    if upload.apply_requested_at is not None:
        return render(request, "provisioning/roster_applying.html", {"organisation": organisation, "upload": upload})
    error = upload.apply_error
    try:
        plan = roster_services.roster_preview(actor=request.user, upload=upload)
    except roster_services.RosterFileError as exc:
        error, plan = str(exc), None
    except PermissionDenied:
        raise Http404("No such roster.") from None
    return render(
        request,
        "provisioning/roster_preview.html",
        {"organisation": organisation, "upload": upload, "plan": plan, "error": error, "limit": PREVIEW_LIMIT},
    )
