"""A record's evidence bundle (``acknowledgements.bundles``), for whoever may view the record; 404 for anyone else."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from acknowledgements.bundles import acknowledgement_bundle, adoption_bundle
from acknowledgements.views.records import visible_acknowledgement
from conduct.http import AuthenticatedHttpRequest
from conduct.models import Adoption
from conduct.permissions import can_view_adoption
from core.downloads import file_download


def _json_download(bundle: dict, filename: str) -> HttpResponse:
    # core.downloads names the attachment per RFC 6266 and keeps it out of every cache, as for every download.
    content = json.dumps(bundle, indent=2, sort_keys=True).encode()
    return file_download(content, filename=filename, content_type="application/json")


@login_required
@require_safe
def acknowledgement_evidence_bundle(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ack = visible_acknowledgement(request, pk)
    return _json_download(acknowledgement_bundle(ack), f"evidence-{ack.verification_code}.json")


@login_required
@require_safe
def adoption_evidence_bundle(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    adoption = get_object_or_404(Adoption.objects.select_related("version__code__owner", "board"), pk=pk)
    if not can_view_adoption(request.user, adoption):
        raise Http404("No such adoption.")
    return _json_download(adoption_bundle(adoption), f"evidence-{adoption.verification_code}.json")
