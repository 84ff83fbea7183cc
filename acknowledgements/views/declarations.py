"""Declarations of interest outside signing (governors renew theirs each year)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext

from acknowledgements import forms
from acknowledgements.declarations import (
    declaration_make,
    declaration_organisations,
    interests_still_held,
    latest_declaration,
)
from acknowledgements.selectors import recent_declarations
from conduct.http import AuthenticatedHttpRequest
from core.forms import add_service_errors, all_valid


@login_required
def declare(request: AuthenticatedHttpRequest) -> HttpResponse:
    person = request.user
    organisations = declaration_organisations(person)
    if not organisations:
        messages.info(request, "You hold no current role, so there is nothing to declare interests for.")
        return redirect("acknowledgements:my_codes")
    data = request.POST if request.method == "POST" else None
    form = forms.DeclareForm(data, organisations=organisations)
    earlier = latest_declaration(person, organisations[0])
    declaration = forms.DeclarationInput(data, initial_interests=interests_still_held(earlier))
    if request.method == "POST" and all_valid(form, declaration):
        try:
            made = declaration_make(
                person=person, organisation=form.cleaned_data["organisation"], declaration=declaration.declared()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            count = made.interests.count()
            what = (
                "nothing to declare"
                if made.nothing_to_declare
                else ngettext("%d interest", "%d interests", count) % count
            )
            messages.success(request, f"Declaration recorded for {made.organisation.name}: {what}.")
            return redirect("acknowledgements:my_codes")
    context = {"form": form, "declaration": declaration, "earlier": earlier, "history": recent_declarations(person)}
    return render(request, "acknowledgements/declare.html", context, status=400 if request.method == "POST" else 200)
