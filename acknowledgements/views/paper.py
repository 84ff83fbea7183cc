"""Paper signatures recorded on someone's behalf, and corrections of them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from acknowledgements import forms
from acknowledgements.models import Obligation
from acknowledgements.obligations import current_acknowledgement
from acknowledgements.paper import acknowledgement_correct, acknowledgement_record_on_behalf
from acknowledgements.selectors import paper_obligations, recordable_obligation
from acknowledgements.views.records import visible_acknowledgement
from conduct.http import AuthenticatedHttpRequest
from conduct.permissions import can_correct_record, records_paper_signatures
from core.forms import add_service_errors, all_valid
from core.request_meta import RequestMeta

PAGE_SIZE = 25


@login_required
@require_safe
def paper(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who still owes a signature, where the user may record paper signatures; searchable by name or email."""
    if not records_paper_signatures(request.user):
        raise Http404("You do not record signatures for any organisation.")
    query = request.GET.get("q", "").strip()
    page = Paginator(paper_obligations(request.user, query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "acknowledgements/paper_list.html", {"page": page, "query": query, "today": timezone.localdate()}
    )


def _recordable_obligation(request: AuthenticatedHttpRequest, pk: int) -> Obligation:
    obligation = recordable_obligation(request.user, pk)
    if obligation is None:
        raise Http404("No such obligation.")
    return obligation


@login_required
def record_paper(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obligation = _recordable_obligation(request, pk)
    existing = current_acknowledgement(obligation.person, obligation.version)
    if existing:
        messages.info(request, f"{obligation.person.full_name} has already signed this version.")
        return redirect(existing)
    version = obligation.version
    data = request.POST if request.method == "POST" else None
    form = forms.OnBehalfForm(data, request.FILES or None, person=obligation.person)
    declaration = (
        forms.DeclarationInput(data, prompt=version.code.declaration_prompt, allow_not_recorded=True, on_behalf=True)
        if version.code.requires_declaration
        else None
    )
    if request.method == "POST" and all_valid(form, declaration):
        try:
            result = acknowledgement_record_on_behalf(
                person=obligation.person,
                version=version,
                recorded_by=request.user,
                typed_name=form.cleaned_data["typed_name"],
                paper_signed_on=form.cleaned_data["paper_signed_on"],
                reason=form.cleaned_data["reason"],
                declaration=declaration.data() if declaration else None,
                scan=form.cleaned_data.get("scan"),
                request_meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied:
            raise Http404("No such obligation.") from None
        else:
            messages.success(request, f"Recorded: {obligation.person.full_name} signed {version.code.title} on paper.")
            return redirect(result.acknowledgement)
    context = {"obligation": obligation, "version": version, "form": form, "declaration": declaration}
    return render(
        request, "acknowledgements/record_paper.html", context, status=400 if request.method == "POST" else 200
    )


@login_required
def correct(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ack = visible_acknowledgement(request, pk)
    if not can_correct_record(request.user, on_behalf=ack.on_behalf, organisation=ack.organisation):
        raise Http404("This record cannot be corrected.")
    correction = ack.corrections.first()
    if correction is not None:
        messages.info(request, "This record has already been corrected; here is the correction.")
        return redirect(correction)
    form = forms.CorrectionForm(
        request.POST or None, initial={"paper_signed_on": ack.paper_signed_on, "on_behalf_reason": ack.on_behalf_reason}
    )
    if request.method == "POST" and form.is_valid():
        try:
            corrected = acknowledgement_correct(
                original=ack,
                corrected_by=request.user,
                correction_reason=form.cleaned_data["correction_reason"],
                paper_signed_on=form.cleaned_data["paper_signed_on"],
                on_behalf_reason=form.cleaned_data["on_behalf_reason"],
                request_meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Corrected. The original record is kept unchanged and points to this one.")
            return redirect(corrected)
    return render(request, "acknowledgements/correct.html", {"ack": ack, "form": form})
