"""Inviting people, one by one or from a CSV roster, and the invitations sent."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from acknowledgements import forms
from acknowledgements.invitations import (
    import_template_csv,
    invitation_create,
    invitation_resend,
    people_import_csv,
)
from acknowledgements.selectors import INVITATION_FILTERS, invitation_counts, invitations_managed_by
from acknowledgements.views.paper import PAGE_SIZE
from conduct.http import AuthenticatedHttpRequest
from conduct.models import Organisation
from conduct.permissions import can_manage_people, organisations_managed_by, role_kinds_grantable
from core.downloads import file_download
from core.forms import add_service_errors


def _managed_organisations(request: AuthenticatedHttpRequest) -> QuerySet[Organisation]:
    organisations = organisations_managed_by(request.user)
    if not organisations.exists():
        raise Http404("You do not manage people in any organisation.")
    return organisations


@login_required
def invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    organisations = _managed_organisations(request)
    kinds = role_kinds_grantable(request.user, organisations)
    form = forms.InviteForm(request.POST or None, organisations=organisations, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        try:
            result = invitation_create(invited_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            # Refused where they add no one at all: the organisation's fault; else the role's (admins grant officers).
            may_add_here = can_manage_people(request.user, form.cleaned_data["organisation"])
            form.add_error("kind" if may_add_here else "organisation", str(exc))
        else:
            person = result.person
            if result.person_created:
                messages.success(request, f"Invitation sent to {person.full_name} <{person.email}>.")
            elif result.role_created:
                messages.success(
                    request,
                    # The account may be another trust's: its name is not shown, only the address the officer typed.
                    f"{person.email} already has an account; the new role was added and they have been told.",
                )
            else:
                messages.info(request, f"{person.full_name} already has this role from that date; nothing was changed.")
            return redirect("acknowledgements:invitations")
    return render(
        request, "acknowledgements/invite.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


@login_required
def import_people(request: AuthenticatedHttpRequest) -> HttpResponse:
    _managed_organisations(request)
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = people_import_csv(data=form.cleaned_data["file"].read(), invited_by=request.user)
    return render(request, "acknowledgements/import.html", {"form": form, "report": report})


@login_required
@require_safe
def import_template(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A CSV to fill in: the header row of the columns the importer reads."""
    _managed_organisations(request)
    return file_download(import_template_csv(), filename="people-to-invite.csv", content_type="text/csv; charset=utf-8")


@login_required
@require_safe
def invitations(request: AuthenticatedHttpRequest) -> HttpResponse:
    _managed_organisations(request)
    shown = request.GET.get("show", "")
    if shown not in INVITATION_FILTERS:
        shown = ""
    page = Paginator(invitations_managed_by(request.user, show=shown), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "acknowledgements/invitations.html",
        {"page": page, "shown": shown, "counts": invitation_counts(request.user)},
    )


@login_required
@require_POST
def invitation_resend_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(invitations_managed_by(request.user), pk=pk)
    invitation_resend(invitation=invitation, invited_by=request.user)
    messages.success(request, f"A new invitation is on its way to {invitation.person.email}.")
    return redirect("acknowledgements:invitations")
