"""Pages for reading codes. Each view: a permission-scoped lookup, then a render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_safe

from conduct.models import Code, CodeVersion, RoleKind
from conduct.permissions import Action, can, can_read_version, is_officer
from conduct.rendering import render_sections
from conduct.reviews import reviews_due
from conduct.selectors import codes_administered, codes_owed, reader_role_kinds, version_for_reader


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "home_anonymous.html")
    officer = is_officer(request.user)
    context = {
        "owed": codes_owed(request.user),
        "administered": list(codes_administered(request.user)) if officer else [],
        "officer": officer,
        # Issue 4: reviews due within 60 days or overdue, for boards the officer adopts for.
        "reviews": reviews_due(request.user) if officer else [],
    }
    return render(request, "home.html", context)


@login_required
def code_detail(request: HttpRequest, slug: str) -> HttpResponse:
    code = get_object_or_404(Code.objects.select_related("owner"), slug=slug)
    version = version_for_reader(request.user, code)
    if version is None or not can_read_version(request.user, version):
        raise Http404("No version of this code is available to you.")
    return redirect(version)


def _preview_kinds(request: HttpRequest, version: CodeVersion) -> tuple[set[str] | None, str]:
    """Officers may preview the text as a signer of one role sees it (?as=trustee)."""
    chosen = request.GET.get("as", "")
    if (
        chosen
        and chosen in version.code.audience
        and (
            can(request.user, Action.DRAFT, version.code.owner)
            or can(request.user, Action.VIEW_RECORDS, version.code.owner)
        )
    ):
        return {chosen}, chosen
    return reader_role_kinds(request.user, version.code), ""


def readable_version(request: HttpRequest, slug: str, pk: int) -> CodeVersion:
    """The version, if this reader may read it; 404 otherwise (drafts and other organisations' codes)."""
    version = get_object_or_404(CodeVersion.objects.select_related("code__owner", "based_on"), pk=pk, code__slug=slug)
    if not can_read_version(request.user, version):
        raise Http404("No such version.")
    return version


def version_page_context(request: HttpRequest, version: CodeVersion, *, data=None) -> dict:
    """Everything the reading-and-signing page shows; ``data`` binds the signing form (a failed POST)."""
    from acknowledgements.issuing import version_body_html
    from acknowledgements.reading import reading_for

    role_kinds, preview_as = _preview_kinds(request, version)
    sections = version.ordered_sections()
    labels = dict(RoleKind.choices)
    reading = reading_for(request.user, version, role_kinds=role_kinds, data=data, preview=bool(preview_as))
    return {
        "code": version.code,
        "version": version,
        "sections": sections,
        "body": render_sections(
            sections, role_kinds=role_kinds, show_role_tags=role_kinds is None, annotate=reading.annotate
        )
        if reading.changes
        else version_body_html(version, role_kinds, show_role_tags=role_kinds is None, sections=sections),
        "role_kinds": sorted(labels.get(k, k) for k in role_kinds) if role_kinds else [],
        "preview_as": preview_as,
        "preview_choices": [(kind, labels.get(kind, kind)) for kind in version.code.audience],
        "can_preview": can(request.user, Action.DRAFT, version.code.owner)
        or can(request.user, Action.VIEW_RECORDS, version.code.owner),
        "reading": reading,
    }


@login_required
@require_safe
def version_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Read a version (for the reader's roles) and, if they owe it, sign it: the page reminders link to."""
    from acknowledgements.evidence import RequestMeta
    from acknowledgements.services import event_first_view

    version = readable_version(request, slug, pk)
    context = version_page_context(request, version)
    reading = context["reading"]
    if reading.can_sign and not context["preview_as"]:
        event_first_view(person=request.user, version=version, request_meta=RequestMeta.from_request(request))
    return render(request, "acknowledgements/read_and_sign.html", context)
