"""Reading and signing: the home page, My codes, a code's version as its reader sees it, and the signature."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from acknowledgements.declarations import (
    declaration_organisations,
)
from acknowledgements.events import event_first_view
from acknowledgements.issuing import version_body_html
from acknowledgements.models import (
    Acknowledgement,
    Declaration,
    Obligation,
    ObligationStatus,
)
from acknowledgements.reading import reading_for
from acknowledgements.selectors import codes_owed, reader_role_kinds, version_for_reader
from acknowledgements.signing import acknowledgement_sign
from conduct.models import GOVERNANCE_ROLE_KINDS, Code, CodeVersion, Role, RoleKind
from conduct.permissions import Action, can, can_read_version, is_officer
from conduct.rendering import render_sections
from conduct.reviews import reviews_due
from conduct.selectors import codes_administered
from core.academic_year import academic_year_start
from core.forms import add_service_errors, all_valid
from core.request_meta import RequestMeta


@dataclass
class OwedRow:
    obligation: Obligation
    status: str
    acknowledgement: Acknowledgement | None


@login_required
@require_safe
def my_codes(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    person = request.user
    signed = list(
        Acknowledgement.objects.filter(person=person, corrections__isnull=True)
        .select_related("version__code__owner", "organisation", "pdf", "recorded_by")
        .order_by("-signed_at")
    )
    by_version = {ack.version_id: ack for ack in signed}
    obligations = (
        Obligation.objects.filter(person=person, superseded_at__isnull=True)
        .for_current_roles(today)
        .select_related("code__owner", "version", "organisation", "role")
        .order_by("acknowledged_at", "due_on")
    )
    rows = [OwedRow(o, o.status(today), by_version.get(o.version_id)) for o in obligations]
    declarations = list(
        Declaration.objects.filter(person=person)
        .select_related("organisation")
        .prefetch_related("interests")
        .order_by("-made_at")[:10]
    )
    this_year = academic_year_start(today)
    governs = Role.objects.current(today).filter(person=person, kind__in=GOVERNANCE_ROLE_KINDS).exists()
    context = {
        "to_sign": [row for row in rows if row.status in (ObligationStatus.OUTSTANDING, ObligationStatus.OVERDUE)],
        "signed": signed,
        "declarations": declarations,
        "may_declare": bool(declaration_organisations(person, today)),
        # Governors confirm their declaration every academic year; last year's lapses on 1 September.
        "declaration_lapsed": governs and not any(d.academic_year_start >= this_year for d in declarations),
        "academic_year": this_year,
        "academic_year_label": f"{this_year.year}–{(this_year.year + 1) % 100:02d}",
        "today": today,
    }
    return render(request, "acknowledgements/my_codes.html", context)


@login_required
@require_POST
def sign(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    version = readable_version(request, slug, pk)
    context = version_page_context(request, version, data=request.POST)
    reading = context["reading"]
    if reading.acknowledgement:
        messages.info(
            request,
            f"You had already signed this version on {timezone.localtime(reading.acknowledgement.signed_at):%-d %B %Y}.",
        )
        return redirect(reading.acknowledgement)
    if not reading.can_sign or reading.signature is None:
        messages.error(request, "You do not need to sign this version.")
        return redirect(version)
    signature, declaration = reading.signature, reading.declaration
    if all_valid(signature, declaration):
        try:
            result = acknowledgement_sign(
                person=request.user,
                version=version,
                typed_name=signature.cleaned_data["typed_name"],
                statement=reading.statement,
                declaration=declaration.data() if declaration else None,
                request_meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
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
    return render(request, "acknowledgements/read_and_sign.html", context, status=400)


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
    version = readable_version(request, slug, pk)
    context = version_page_context(request, version)
    reading = context["reading"]
    if reading.can_sign and not context["preview_as"]:
        event_first_view(person=request.user, version=version, request_meta=RequestMeta.from_request(request))
    return render(request, "acknowledgements/read_and_sign.html", context)
