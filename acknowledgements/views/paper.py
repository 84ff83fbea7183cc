"""Paper signatures recorded on someone's behalf, and corrections of them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from acknowledgements import forms
from acknowledgements.models import (
    Acknowledgement,
    Obligation,
)
from acknowledgements.paper import acknowledgement_correct, acknowledgement_record_on_behalf
from acknowledgements.views.records import visible_acknowledgement
from conduct.permissions import Action, can, organisations_for, scope_q
from core.forms import add_service_errors, all_valid
from core.request_meta import RequestMeta

PAGE_SIZE = 25


@login_required
@require_safe
def paper(request: HttpRequest) -> HttpResponse:
    """Who still owes a signature, where the user may record paper signatures; searchable by name or email."""
    query = request.GET.get("q", "").strip()
    obligations = (
        Obligation.objects.open()
        .for_current_roles()
        .filter(scope_q(request.user, Action.RECORD_ON_BEHALF, "organisation"))
        .select_related("person", "version__code", "organisation")
        .order_by("person__full_name", "due_on", "pk")
    )
    if query:
        obligations = obligations.filter(Q(person__full_name__icontains=query) | Q(person__email__icontains=query))
    if not organisations_for(request.user, Action.RECORD_ON_BEHALF).exists():
        raise Http404("You do not record signatures for any organisation.")
    page = Paginator(obligations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "acknowledgements/paper_list.html", {"page": page, "query": query, "today": timezone.localdate()}
    )


def _recordable_obligation(request: HttpRequest, pk: int) -> Obligation:
    obligation = get_object_or_404(
        Obligation.objects.select_related("person", "version__code__owner", "organisation", "adoption"), pk=pk
    )
    if not can(request.user, Action.RECORD_ON_BEHALF, obligation.organisation):
        raise Http404("No such obligation.")
    return obligation


@login_required
def record_paper(request: HttpRequest, pk: int) -> HttpResponse:
    obligation = _recordable_obligation(request, pk)
    existing = Acknowledgement.objects.filter(
        person=obligation.person, version=obligation.version, corrections__isnull=True
    ).first()
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
            raise Http404("No such obligation.")
        else:
            messages.success(request, f"Recorded: {obligation.person.full_name} signed {version.code.title} on paper.")
            return redirect(result.acknowledgement)
    context = {"obligation": obligation, "version": version, "form": form, "declaration": declaration}
    return render(
        request, "acknowledgements/record_paper.html", context, status=400 if request.method == "POST" else 200
    )


@login_required
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    ack = visible_acknowledgement(request, pk)
    if not ack.on_behalf or not can(request.user, Action.RECORD_ON_BEHALF, ack.organisation):
        raise Http404("This record cannot be corrected.")
    if ack.corrections.exists():
        messages.info(request, "This record has already been corrected; here is the correction.")
        return redirect(ack.corrections.first())
    form = forms.CorrectionForm(
        request.POST or None, initial={"paper_signed_on": ack.paper_signed_on, "on_behalf_reason": ack.on_behalf_reason}
    )
    if request.method == "POST" and form.is_valid():
        try:
            correction = acknowledgement_correct(
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
            return redirect(correction)
    return render(request, "acknowledgements/correct.html", {"ack": ack, "form": form})
