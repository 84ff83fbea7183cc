"""Pages for signing, records, declarations, paper signatures, invitations and public verification.

Each view: a permission-scoped lookup (404 for what the user may not see), a
form, one call into a service, a redirect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from acknowledgements import forms
from acknowledgements.documents import sealed_pdf_bytes
from acknowledgements.evidence import RequestMeta, acknowledgement_evidence_hash
from acknowledgements.invitations import invitation_create, invitation_resend, people_import_csv
from acknowledgements.issuing import pdf_filename
from acknowledgements.models import Acknowledgement, AuditEvent, Declaration, Invitation, Obligation, SealedPdf
from acknowledgements.services import (
    academic_year_start,
    acknowledgement_correct,
    acknowledgement_record_on_behalf,
    acknowledgement_sign,
    declaration_make,
    declaration_organisations,
    event_pdf_downloaded,
    interests_still_held,
    latest_declaration,
)
from acknowledgements.verification import verify_code, verify_pdf
from conduct.models import GOVERNANCE_ROLE_KINDS, OFFICER_ROLE_KINDS, Role
from conduct.permissions import Action, can, organisations_for, scope_q
from conduct.views import readable_version, version_page_context

PAGE_SIZE = 25
# A PDF still missing this long after signing is issued on first need (demo data, a task that gave up).
PDF_GRACE = timedelta(minutes=10)


def _all_valid(*forms) -> bool:
    """Validate every form (so each shows its own errors), not only up to the first invalid one."""
    return all([form.is_valid() for form in forms if form is not None])


def _add_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: by field where the form has it, else on the form."""
    if hasattr(error, "error_dict"):
        for name, messages_ in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


# ---------------------------------------------------------------------------
# My codes
# ---------------------------------------------------------------------------


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
        "to_sign": [row for row in rows if row.status in ("due", "overdue")],
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


# ---------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------


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
    if _all_valid(signature, declaration):
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
            _add_errors(signature, exc)
        else:
            ack = result.acknowledgement
            if result.created:
                messages.success(
                    request, f"Signed. Thank you. Your signed PDF will be emailed to you and is available here."
                )
            else:
                messages.info(
                    request, f"You had already signed this version on {timezone.localtime(ack.signed_at):%-d %B %Y}."
                )
            return redirect(ack)
    return render(request, "acknowledgements/read_and_sign.html", context, status=400)


# ---------------------------------------------------------------------------
# One record and its PDF
# ---------------------------------------------------------------------------


def visible_acknowledgement(request: HttpRequest, pk: int) -> Acknowledgement:
    """The acknowledgement if it is the user's own or they may view records where it was made; else 404."""
    ack = get_object_or_404(
        Acknowledgement.objects.select_related(
            "person", "version__code__owner", "organisation", "recorded_by", "corrects"
        ),
        pk=pk,
    )
    if ack.person_id != request.user.pk and not can(request.user, Action.VIEW_RECORDS, ack.organisation):
        raise Http404("No such record.")
    return ack


def _issue_if_missing(ack: Acknowledgement, pdf: SealedPdf | None) -> None:
    """Records signed long ago without a PDF (demo data, a task that gave up) get one on first need."""
    if pdf is not None or timezone.now() - ack.signed_at < PDF_GRACE:
        return
    if cache.add(f"pdf-queued:{ack.pk}", True, timeout=300):
        from acknowledgements.signing_tasks import issue_acknowledgement_pdf

        transaction.on_commit(lambda: issue_acknowledgement_pdf.delay(ack.pk, send_receipt=False))


@login_required
@require_safe
def record(request: HttpRequest, pk: int) -> HttpResponse:
    ack = visible_acknowledgement(request, pk)
    pdf = SealedPdf.objects.filter(acknowledgement=ack).first()
    _issue_if_missing(ack, pdf)
    declaration = ack.declarations.prefetch_related("interests").first()
    context = {
        "ack": ack,
        "pdf": pdf,
        "declaration": declaration,
        "events": AuditEvent.objects.filter(
            Q(acknowledgement=ack)
            | Q(person_id=ack.person_id, version_id=ack.version_id, kind="first_viewed")
            | Q(person_id=ack.person_id, kind="invited", occurred_at__lte=ack.signed_at)
        ).select_related("actor"),
        "evidence_intact": acknowledgement_evidence_hash(ack) == ack.evidence_hash,
        "correction": ack.corrections.select_related("recorded_by").first(),
        "own": ack.person_id == request.user.pk,
        "may_correct": ack.on_behalf and can(request.user, Action.RECORD_ON_BEHALF, ack.organisation),
    }
    return render(request, "acknowledgements/record.html", context)


@login_required
@require_safe
def pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored bytes, exactly as issued; never a re-render."""
    ack = visible_acknowledgement(request, pk)
    stored = SealedPdf.objects.filter(acknowledgement=ack).first()
    if stored is None:
        raise Http404("The signed PDF is still being prepared.")
    event_pdf_downloaded(acknowledgement=ack, by=request.user, request_meta=RequestMeta.from_request(request))
    response = HttpResponse(sealed_pdf_bytes(stored), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(ack)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def pdf_status(request: HttpRequest, pk: int) -> JsonResponse:
    ack = visible_acknowledgement(request, pk)
    stored = SealedPdf.objects.filter(acknowledgement=ack).first()
    return JsonResponse(
        {"ready": stored is not None, "url": reverse("acknowledgements:pdf", args=[ack.pk]) if stored else None},
        headers={"Cache-Control": "no-store"},
    )


@login_required
@require_safe
def scan(request: HttpRequest, pk: int) -> HttpResponse:
    ack = visible_acknowledgement(request, pk)
    if not ack.paper_scan:
        raise Http404("No scan was attached.")
    with ack.paper_scan.open("rb") as handle:
        content = handle.read()
    kind = {b"%PDF": "application/pdf", b"\x89PNG": "image/png"}.get(content[:4], "image/jpeg")
    response = HttpResponse(content, content_type=kind)
    response["Content-Disposition"] = (
        f'attachment; filename="paper-form-{ack.verification_code}{ack.paper_scan.name[-4:]}"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------
# Paper signatures recorded on someone's behalf
# ---------------------------------------------------------------------------


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
    if request.method == "POST" and _all_valid(form, declaration):
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
            _add_errors(form, exc)
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
            _add_errors(form, exc)
        else:
            messages.success(request, "Corrected. The original record is kept unchanged and points to this one.")
            return redirect(correction)
    return render(request, "acknowledgements/correct.html", {"ack": ack, "form": form})


# ---------------------------------------------------------------------------
# Declarations of interest outside signing
# ---------------------------------------------------------------------------


@login_required
def declare(request: HttpRequest) -> HttpResponse:
    person = request.user
    organisations = declaration_organisations(person)
    if not organisations:
        messages.info(request, "You hold no current role, so there is nothing to declare interests for.")
        return redirect("acknowledgements:my_codes")
    data = request.POST if request.method == "POST" else None
    form = forms.DeclareForm(data, organisations=organisations)
    earlier = latest_declaration(person, organisations[0])
    declaration = forms.DeclarationInput(data, initial_interests=interests_still_held(earlier))
    if request.method == "POST" and _all_valid(form, declaration):
        try:
            made = declaration_make(
                person=person, organisation=form.cleaned_data["organisation"], declaration=declaration.data()
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            what = "nothing to declare" if made.nothing_to_declare else f"{made.interests.count()} interest(s)"
            messages.success(request, f"Declaration recorded for {made.organisation.name}: {what}.")
            return redirect("acknowledgements:my_codes")
    history = (
        Declaration.objects.filter(person=person).select_related("organisation").prefetch_related("interests")[:10]
    )
    context = {"form": form, "declaration": declaration, "earlier": earlier, "history": history}
    return render(request, "acknowledgements/declare.html", context, status=400 if request.method == "POST" else 200)


# ---------------------------------------------------------------------------
# Inviting people
# ---------------------------------------------------------------------------


def _manageable(request: HttpRequest):
    organisations = organisations_for(request.user, Action.MANAGE_PEOPLE).order_by("path")
    if not organisations.exists():
        raise Http404("You do not manage people in any organisation.")
    return organisations


@login_required
def invite(request: HttpRequest) -> HttpResponse:
    organisations = _manageable(request)
    may_grant = organisations_for(request.user, Action.GRANT_OFFICER_ROLES).exists()
    form = forms.InviteForm(request.POST or None, organisations=organisations, may_grant_officer_roles=may_grant)
    if request.method == "POST" and form.is_valid():
        try:
            result = invitation_create(invited_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("kind" if form.cleaned_data["kind"] in OFFICER_ROLE_KINDS else "organisation", str(exc))
        else:
            person = result.person
            if result.person_created:
                messages.success(request, f"Invitation sent to {person.full_name} <{person.email}>.")
            elif result.role_created:
                messages.success(
                    request,
                    f"{person.full_name} already has an account; the new role was added and they have been told.",
                )
            else:
                messages.info(request, f"{person.full_name} already has this role from that date; nothing was changed.")
            return redirect("acknowledgements:invitations")
    return render(
        request, "acknowledgements/invite.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


@login_required
def import_people(request: HttpRequest) -> HttpResponse:
    _manageable(request)
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = people_import_csv(data=form.cleaned_data["file"].read(), invited_by=request.user)
    return render(request, "acknowledgements/import.html", {"form": form, "report": report})


@login_required
@require_safe
def invitations(request: HttpRequest) -> HttpResponse:
    _manageable(request)
    rows = (
        Invitation.objects.filter(scope_q(request.user, Action.MANAGE_PEOPLE, "role__organisation"))
        .select_related("person", "role__organisation", "invited_by")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "acknowledgements/invitations.html", {"page": page})


@login_required
@require_POST
def invitation_resend_view(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(
        Invitation.objects.filter(scope_q(request.user, Action.MANAGE_PEOPLE, "role__organisation")).select_related(
            "person", "role__organisation"
        ),
        pk=pk,
    )
    invitation_resend(invitation=invitation, invited_by=request.user)
    messages.success(request, f"A new invitation is on its way to {invitation.person.email}.")
    return redirect("acknowledgements:invitations")


# ---------------------------------------------------------------------------
# Public verification
# ---------------------------------------------------------------------------


class CappedUploadHandler(FileUploadHandler):
    """Stops reading an upload as soon as it passes the verification limit (nothing large reaches disk)."""

    def __init__(self, request=None, limit: int = 0):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


@csrf_exempt
def verify(request: HttpRequest) -> HttpResponse:
    """Public: anyone may check a PDF or a verification code.

    CSRF is checked (in ``_verify``) only after the size cap is in place, because
    the check reads the body; an oversized upload is refused unread.
    """
    handler = None
    if request.method == "POST":
        limit = settings.VERIFICATION_UPLOAD_MAX_BYTES
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 64 * 1024:
            return _verify_refused(request)
        handler = CappedUploadHandler(request, limit)
        request.upload_handlers.insert(0, handler)
    return _verify(request, handler)


def _verify_refused(request: HttpRequest) -> HttpResponse:
    limit = settings.VERIFICATION_UPLOAD_MAX_BYTES // 1024
    refused = f"The file is too large to be one we issued (the limit is {limit:,} KB)."
    return render(request, "acknowledgements/verify.html", {"form": forms.VerifyForm(), "refused": refused}, status=413)


@csrf_protect
def _verify(request: HttpRequest, handler: CappedUploadHandler | None) -> HttpResponse:
    result = None
    if request.method == "POST":
        form = forms.VerifyForm(request.POST, request.FILES)
        if handler is not None and handler.exceeded:
            return _verify_refused(request)
        if form.is_valid():
            upload = form.cleaned_data.get("file")
            result = verify_pdf(upload.read()) if upload else verify_code(form.cleaned_data["code"])
    elif request.GET.get("code"):
        form = forms.VerifyForm(initial={"code": request.GET["code"]})
        result = verify_code(request.GET["code"])
    else:
        form = forms.VerifyForm()
    return render(
        request, "acknowledgements/verify.html", {"form": form, "result": result}, status=400 if form.errors else 200
    )
