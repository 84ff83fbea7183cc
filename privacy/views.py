"""The erasure and legal hold pages, reached from the person's page (issue 13).

Each: the person if ``can_erase_person`` allows (404 otherwise), a form, one service call, a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from conduct.http import AuthenticatedHttpRequest
from conduct.models import Person
from conduct.permissions import can_erase_person
from privacy.erasure import (
    ErasureRefused,
    is_erased,
    open_hold,
    person_erase,
    retention_ends_on,
    still_holds_a_role,
)
from privacy.forms import ErasureForm, LegalHoldForm
from privacy.holds import LegalHoldRefused, legal_hold_release, legal_hold_set


def _person(request: AuthenticatedHttpRequest, pk: int) -> Person:
    """The person, if the user may erase their data or hold it; 404 otherwise (as if there were no such person)."""
    person = get_object_or_404(Person, pk=pk)
    if not can_erase_person(request.user, person):
        raise Http404("No such person.")
    return person


def _person_url(person: Person) -> str:
    return reverse("people:person", args=[person.pk])


def _render_form(request: AuthenticatedHttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, context, status=400 if request.method == "POST" else 200)


def _apply(form: Form, call: Callable[[], Any]) -> bool:
    """Run the service; a refusal goes at the top of the form (nothing was saved)."""
    try:
        call()
    except (ErasureRefused, LegalHoldRefused) as refusal:
        form.add_error(None, str(refusal))
        return False
    return True


@login_required
def erase_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    if is_erased(person):
        messages.info(request, "This person's personal data has already been erased.")
        return redirect(_person_url(person))
    form = ErasureForm(request.POST if request.method == "POST" else None, person=person)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def erase() -> object:
            return person_erase(actor=request.user, person=person, reason=data["reason"], basis=data["basis"])

        if _apply(form, erase):
            messages.success(request, f"The personal data of person {person.pk} has been erased.")
            return redirect(_person_url(person))
    context = {
        "person": person,
        "form": form,
        "hold": open_hold(person),
        "still_holds_a_role": still_holds_a_role(person),
        "retention_ends_on": retention_ends_on(person),
    }
    return _render_form(request, "privacy/erase.html", context)


@login_required
def hold_view(request: AuthenticatedHttpRequest, pk: int, change: str) -> HttpResponse:
    if change not in ("set", "release"):
        raise Http404("No such change.")
    person = _person(request, pk)
    form = LegalHoldForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        service = legal_hold_set if change == "set" else legal_hold_release
        if _apply(form, lambda: service(actor=request.user, person=person, reason=form.cleaned_data["reason"])):
            messages.success(
                request,
                f"{person.full_name}'s data is under a legal hold: it cannot be erased until the hold is released."
                if change == "set"
                else f"The legal hold on {person.full_name}'s data has been released.",
            )
            return redirect(_person_url(person))
    context = {"person": person, "form": form, "change": change, "hold": open_hold(person)}
    return _render_form(request, "privacy/hold.html", context)
