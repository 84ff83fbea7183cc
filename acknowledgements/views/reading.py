"""Reading and signing: the home page, My codes, a code's version as its reader sees it, and the signature."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from acknowledgements import selectors
from acknowledgements.events import event_first_view
from acknowledgements.forms import SignatureForm
from acknowledgements.issuing import version_body_html
from acknowledgements.obligations import owed_obligation
from acknowledgements.reading import SectionsOnce, reading_for, signing_forms, version_outline
from acknowledgements.signing import acceptance_statement, acknowledgement_sign
from conduct.http import AuthenticatedHttpRequest
from conduct.models import Code, CodeVersion, Person, role_label
from conduct.permissions import can_preview_as, can_read_version, is_officer
from conduct.reviews import reviews_due
from conduct.selectors import codes_administered
from core.forms import add_service_errors, all_valid
from core.request_meta import RequestMeta


@login_required
@require_safe
def my_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = selectors.my_codes(request.user, timezone.localdate())
    return render(request, "acknowledgements/my_codes.html", {"my_codes": page})


@login_required
@require_POST
def sign(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Validate the signature and sign, without building the reading page (only a refused form shows it again).

    Access: the service signs only for someone who owes the version through a current role (and so may read it,
    ``can_read_version``), or returns what they signed already; any refusal checks ``can_read_version`` (404)
    before it says anything about the version.
    """
    version = _version(slug, pk)
    statement, signature, declaration = None, None, None
    if not version.code.requires_declaration:
        statement = acceptance_statement(version)
        signature = SignatureForm(request.POST, person=request.user, statement=statement)
    else:  # the declaration's carried-forward interests come from where the signature is owed
        obligation = owed_obligation(request.user, version)
        if obligation is not None:
            statement, signature, declaration = signing_forms(request.user, version, obligation, request.POST)
    if signature is not None and statement is not None and all_valid(signature, declaration):
        try:
            result = acknowledgement_sign(
                person=request.user,
                version=version,
                typed_name=signature.cleaned_data["typed_name"],
                statement=statement,
                declaration=declaration.data() if declaration else None,
                request_meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            if not can_read_version(request.user, version):
                raise Http404("No such version.") from exc
            if not hasattr(exc, "error_dict"):  # not owed (any more): nothing to sign here
                messages.error(request, "You do not need to sign this version.")
                return redirect(version)
            add_service_errors(signature, exc)
        else:
            ack = result.acknowledgement
            if result.created:
                messages.success(
                    request, "Signed. Thank you. Your signed PDF will be emailed to you and is available here."
                )
            else:
                messages.info(
                    request, f"You had already signed this version on {timezone.localtime(ack.signed_at):%-d %B %Y}."
                )
            return redirect(ack)
    # Refused: the page again, with the forms bound (and the service's errors, if any, carried over).
    if not can_read_version(request.user, version):
        raise Http404("No such version.")
    context = version_page_context(request, version, data=request.POST)
    reading = context["reading"]
    if reading.acknowledgement:
        signed_on = timezone.localtime(reading.acknowledgement.signed_at)
        messages.info(request, f"You had already signed this version on {signed_on:%-d %B %Y}.")
        return redirect(reading.acknowledgement)
    if not reading.can_sign or reading.signature is None:
        messages.error(request, "You do not need to sign this version.")
        return redirect(version)
    if signature is not None:  # the forms validated above, with the service's errors if it refused
        reading.signature, reading.declaration = signature, declaration
    return render(request, "acknowledgements/read_and_sign.html", context, status=400)


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, Person):  # the anonymous visitor
        return render(request, "home_anonymous.html")
    officer = is_officer(user)
    context = {
        "owed": selectors.codes_owed(user),
        "declaration_lapsed": selectors.declaration_lapsed_for(user),
        "administered": list(codes_administered(user)) if officer else [],
        "officer": officer,
        # Issue 4: reviews due within 60 days or overdue, for boards the officer adopts for.
        "reviews": reviews_due(user) if officer else [],
    }
    return render(request, "home.html", context)


@login_required
def code_detail(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    code = get_object_or_404(Code.objects.select_related("owner"), slug=slug)
    version = selectors.version_for_reader(request.user, code)
    if version is None or not can_read_version(request.user, version):
        raise Http404("No version of this code is available to you.")
    return redirect(version)


def _preview_kinds(
    request: AuthenticatedHttpRequest, version: CodeVersion, *, may_preview: bool
) -> tuple[set[str] | None, str]:
    """Those who may preview (``can_preview_as``) read the text as a signer of one role sees it (?as=trustee)."""
    chosen = request.GET.get("as", "")
    if may_preview and chosen and chosen in version.code.audience:
        return {chosen}, chosen
    return selectors.reader_role_kinds(request.user, version.code), ""


def _version(slug: str, pk: int) -> CodeVersion:
    return get_object_or_404(CodeVersion.objects.select_related("code__owner", "based_on"), pk=pk, code__slug=slug)


def readable_version(request: AuthenticatedHttpRequest, slug: str, pk: int) -> CodeVersion:
    """The version, if this reader may read it; 404 otherwise (drafts and other organisations' codes)."""
    version = _version(slug, pk)
    if not can_read_version(request.user, version):
        raise Http404("No such version.")
    return version


def version_page_context(
    request: AuthenticatedHttpRequest, version: CodeVersion, *, data: QueryDict | None = None
) -> dict[str, Any]:
    """Everything the reading-and-signing page shows; ``data`` binds the signing form (a failed POST).

    Adopted text, its table of contents and the comparison with the reader's last signature come from the
    cache; the sections are loaded (once) only for what is not there yet.
    """
    may_preview = can_preview_as(request.user, version.code)
    role_kinds, preview_as = _preview_kinds(request, version, may_preview=may_preview)
    reading = reading_for(request.user, version, role_kinds=role_kinds, data=data, preview=bool(preview_as))
    sections = reading.sections or SectionsOnce(version)
    return {
        "code": version.code,
        "version": version,
        "sections": version_outline(version, sections),
        "body": reading.changes.body_html
        if reading.changes
        else version_body_html(version, role_kinds, show_role_tags=role_kinds is None, sections=sections),
        "role_kinds": sorted(role_label(k) for k in role_kinds) if role_kinds else [],
        "preview_as": preview_as,
        "preview_choices": [(kind, role_label(kind)) for kind in version.code.audience],
        "can_preview": may_preview,
        "reading": reading,
    }


@login_required
@require_safe
def version_detail(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Read a version (for the reader's roles) and, if they owe it, sign it: the page reminders link to.

    The first view is recorded once; a reload reads that it is on record (with the obligation) and takes no lock.
    """
    version = readable_version(request, slug, pk)
    context = version_page_context(request, version)
    reading = context["reading"]
    if reading.can_sign and not context["preview_as"] and not reading.first_viewed:
        event_first_view(person=request.user, version=version, request_meta=RequestMeta.from_request(request))
    return render(request, "acknowledgements/read_and_sign.html", context)
