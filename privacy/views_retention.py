"""The admins' retention page (/privacy/retention/): the schedule in force, what is due now, the last run.

Admins see it for the organisations they administer (``conduct.permissions.retention_organisations``), one
tree at a time; everyone else gets a 404, as if it did not exist.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from conduct.http import AuthenticatedHttpRequest
from conduct.models import Organisation
from conduct.permissions import retention_organisations, reviews_retention
from privacy.retention import retention_overview


class RetentionScopeForm(forms.Form):
    """Which of the viewer's organisations the page is about (by slug; a platform operator may leave it empty)."""

    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), to_field_name="slug", required=False)

    def __init__(
        self, *args: object, organisations: QuerySet[Organisation], everything: bool, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["organisation"]
        field.queryset = organisations  # type: ignore[attr-defined]
        field.required = not everything
        field.empty_label = "Every organisation" if everything else None  # type: ignore[attr-defined]
        field.label = "Organisation"

    def chosen(self, default: Organisation | None) -> Organisation | None:
        """The organisation asked for, else ``default`` (an unknown slug is the default too, never an error)."""
        if "organisation" not in self.data or not self.is_valid():
            return default
        return self.cleaned_data["organisation"]


@login_required
@require_GET
def retention_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not reviews_retention(request.user):
        raise Http404("You do not administer any organisation.")
    organisations = retention_organisations(request.user)
    choices = list(organisations)
    everything = request.user.is_superuser
    form = RetentionScopeForm(request.GET or None, organisations=organisations, everything=everything)
    organisation = form.chosen(default=None if everything else next(iter(choices), None))
    if organisation is None and not everything:
        raise Http404("You do not administer any organisation.")
    context = {
        "form": form,
        "offer_choice": everything or len(choices) > 1,
        "organisation": organisation,
        "overview": retention_overview(organisation=organisation),
    }
    return render(request, "privacy/retention.html", context)
