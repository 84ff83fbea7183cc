"""Pages for preparing a code's next version: new codes, drafts, the editor, previews and comparisons.

Every view has one shape: a permission-scoped lookup (404 for what the user
may not see), a form, one call into ``conduct.drafting``, a redirect. Every
edit form carries the draft revision it was shown, so a stale edit comes back
with a conflict message instead of overwriting someone else's work.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from conduct import drafting, selectors
from conduct.diff import diff_versions
from conduct.forms import (
    ClauseForm,
    CodeCreateForm,
    CodeDetailsForm,
    ConfirmForm,
    DraftDetailsForm,
    LabelForm,
    MoveForm,
    SectionForm,
)
from conduct.http import AuthenticatedHttpRequest
from conduct.models import Clause, Code, CodeVersion, Section, VersionStatus, role_label
from conduct.permissions import (
    can_draft_code,
    owners_for_new_code,
    versions_copyable_by,
    versions_readable_by,
)
from conduct.rendering import render_sections
from core.forms import add_service_errors

# ---------------------------------------------------------------------------
# Lookups: each returns the object only if the user may draft for its owner, else 404
# ---------------------------------------------------------------------------


def _code(request: AuthenticatedHttpRequest, slug: str) -> Code:
    code = get_object_or_404(Code.objects.select_related("owner", "derived_from__code__owner"), slug=slug)
    if not can_draft_code(request.user, code):
        raise Http404("No such code.")
    return code


def _draft(request: AuthenticatedHttpRequest, slug: str, pk: int) -> CodeVersion:
    code = _code(request, slug)
    version = get_object_or_404(
        CodeVersion.objects.select_related("code__owner", "based_on", "updated_by"), pk=pk, code=code
    )
    version.code = code
    return version


def _section(version: CodeVersion, section_id: int) -> Section:
    return get_object_or_404(Section, pk=section_id, version=version)


def _clause(version: CodeVersion, clause_id: int) -> Clause:
    return get_object_or_404(Clause.objects.select_related("section"), pk=clause_id, section__version=version)


def _editor_url(version: CodeVersion, anchor: str = "") -> str:
    url = reverse("conduct:draft_edit", args=[version.code.slug, version.pk])
    return f"{url}#{anchor}" if anchor else url


def editing_draft(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page that edits a draft: signed in, the draft looked up with permission (else 404), and
    adopted text sent to its reading page instead, since it can no longer change."""

    @login_required
    @wraps(view)
    def page(request: AuthenticatedHttpRequest, slug: str, pk: int, **kwargs: int) -> HttpResponse:
        version = _draft(request, slug, pk)
        if version.status != VersionStatus.DRAFT:
            messages.info(request, f"Version {version.label} has been adopted; its text can no longer be changed.")
            return redirect(version)
        return view(request, version, **kwargs)

    return page


def _refresh_revision(form: Form, version: CodeVersion) -> None:
    """After a conflict, the form is shown again based on the revision now saved, so a deliberate resubmit works."""
    version.refresh_from_db(fields=["revision", "updated_at", "updated_by"])
    data = QueryDict(mutable=True)
    data.update(form.data)  # every value of every field, as the request sent them
    data["revision"] = str(version.revision)
    form.data = data


def _apply(form: Form, version: CodeVersion, action: Callable[[], object]) -> bool:
    """Run one draft service; on refusal put the reason on the form. Returns whether it was saved."""
    try:
        action()
    except drafting.DraftConflict as conflict:
        add_service_errors(form, conflict)
        _refresh_revision(form, version)
        return False
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    return True


# ---------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------


@login_required
def code_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    owners = owners_for_new_code(request.user)
    if not owners.exists():
        raise Http404("You do not look after any organisation's codes.")
    sources = versions_copyable_by(request.user)
    initial = {"label": drafting.default_new_label(), "signing_due_days": 30}
    if request.GET.get("copy"):
        initial["copy_of"] = request.GET["copy"]
    form = CodeCreateForm(request.POST or None, owners=owners, sources=sources, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            draft = drafting.code_create(
                owner=form.cleaned_data["owner"],
                details=form.details(),
                created_by=request.user,
                label=form.cleaned_data["label"],
                copy_of=form.cleaned_data["copy_of"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            source = form.cleaned_data["copy_of"]
            messages.success(
                request,
                f"{draft.code.title} created"
                + (f" from a copy of {source.code.title} {source.label}" if source else "")
                + f". Its first version, {draft.label}, is a draft: edit it, then a board adopts it.",
            )
            return redirect(_editor_url(draft))
    return render(request, "conduct/code_form.html", {"form": form, "creating": True})


@login_required
def code_settings(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    code = _code(request, slug)
    form = CodeDetailsForm(request.POST or None, initial=CodeDetailsForm.initial_for(code))
    if request.method == "POST" and form.is_valid():
        try:
            drafting.code_update(code=code, details=form.details(), by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Settings of {form.cleaned_data['title']} saved.")
            return redirect("conduct:code_history", code.slug)
    return render(request, "conduct/code_form.html", {"form": form, "code": code, "creating": False})


# ---------------------------------------------------------------------------
# Drafts
# ---------------------------------------------------------------------------


@login_required
def draft_start(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    code = _code(request, slug)
    existing = drafting.open_draft(code)
    if existing:
        messages.info(request, f"A draft ({existing.label}) is already in progress; continue it here.")
        return redirect(_editor_url(existing))
    based_on = drafting.latest_locked_version(code)
    suggested = drafting.default_new_label(after=based_on.label if based_on else "")
    form = LabelForm(request.POST or None, initial={"label": suggested})
    if request.method == "POST" and form.is_valid():
        try:
            draft = drafting.draft_start(code=code, created_by=request.user, label=form.cleaned_data["label"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Draft {draft.label} started"
                + (f" from {based_on.label}" if based_on else "")
                + ". Changes are saved as you make them; signers see nothing until a board adopts it.",
            )
            return redirect(_editor_url(draft))
    return render(request, "conduct/draft_start.html", {"code": code, "form": form, "based_on": based_on})


@editing_draft
def draft_edit(request: AuthenticatedHttpRequest, version: CodeVersion) -> HttpResponse:
    context = {
        "code": version.code,
        "version": version,
        "editor": selectors.draft_editor(version),
        "preview_choices": [(kind, role_label(kind)) for kind in version.code.audience],
    }
    return render(request, "conduct/draft_edit.html", context)


@login_required
def draft_preview(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    version = _draft(request, slug, pk)
    chosen = request.GET.get("as", "")
    role_kinds = {chosen} if chosen in version.code.audience else None
    sections = version.ordered_sections()
    context = {
        "code": version.code,
        "version": version,
        "sections": sections,
        "body": render_sections(sections, role_kinds=role_kinds, show_role_tags=role_kinds is None),
        "preview_as": chosen if role_kinds else "",
        "preview_label": role_label(chosen) if role_kinds else "",
        "preview_choices": [(kind, role_label(kind)) for kind in version.code.audience],
    }
    return render(request, "conduct/draft_preview.html", context)


@editing_draft
def draft_details(request: AuthenticatedHttpRequest, version: CodeVersion) -> HttpResponse:
    form = DraftDetailsForm(request.POST or None, initial={"label": version.label, "revision": version.revision})
    if request.method == "POST" and form.is_valid():
        label = form.cleaned_data["label"]
        if _apply(
            form,
            version,
            lambda: drafting.draft_update(
                version=version, revision=form.cleaned_data["revision"], label=label, by=request.user
            ),
        ):
            messages.success(request, f"The draft is now labelled {label}.")
            return redirect(_editor_url(version))
    discard = ConfirmForm(initial={"revision": version.revision})
    return render(
        request,
        "conduct/draft_details.html",
        {"code": version.code, "version": version, "form": form, "discard": discard},
    )


@editing_draft
def draft_discard(request: AuthenticatedHttpRequest, version: CodeVersion) -> HttpResponse:
    return _confirm(
        request,
        version,
        lambda revision: drafting.draft_discard(version=version, revision=revision, by=request.user),
        done=f"Draft {version.label} discarded.",
        then=reverse("conduct:code_history", args=[version.code.slug]),
        title=f"Discard draft {version.label}?",
        explanation="The draft and every change made in it will be deleted. Adopted versions are not affected.",
        button="Discard the draft",
        cancel_url=_editor_url(version),
    )


# ---------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------


@editing_draft
def section_add(request: AuthenticatedHttpRequest, version: CodeVersion) -> HttpResponse:
    after = _section(version, int(request.GET["after"])) if request.GET.get("after", "").isdigit() else None
    form = SectionForm(request.POST or None, initial={"revision": version.revision})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved: dict[str, Section] = {}
        if _apply(
            form,
            version,
            lambda: saved.update(
                section=drafting.section_add(
                    version=version,
                    revision=data["revision"],
                    by=request.user,
                    number=data["number"],
                    title=data["title"],
                    after=after,
                )
            ),
        ):
            messages.success(request, "Section added.")
            return redirect(_editor_url(version, f"s-{saved['section'].key}"))
    return render(
        request, "conduct/section_form.html", {"code": version.code, "version": version, "form": form, "after": after}
    )


@editing_draft
def section_edit(request: AuthenticatedHttpRequest, version: CodeVersion, section_id: int) -> HttpResponse:
    section = _section(version, section_id)
    form = SectionForm(
        request.POST or None, initial={"number": section.number, "title": section.title, "revision": version.revision}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _apply(
            form,
            version,
            lambda: drafting.section_update(
                section=section, revision=data["revision"], by=request.user, number=data["number"], title=data["title"]
            ),
        ):
            messages.success(request, "Section saved.")
            return redirect(_editor_url(version, f"s-{section.key}"))
    return render(
        request,
        "conduct/section_form.html",
        {"code": version.code, "version": version, "form": form, "section": section},
    )


@editing_draft
@require_POST
def section_move(request: AuthenticatedHttpRequest, version: CodeVersion, section_id: int) -> HttpResponse:
    section = _section(version, section_id)
    form = MoveForm(request.POST)
    if form.is_valid() and _apply(
        form,
        version,
        lambda: drafting.section_move(
            section=section, revision=form.cleaned_data["revision"], by=request.user, offset=form.offset
        ),
    ):
        messages.success(request, f"Section moved {form.cleaned_data['direction'] or 'down'}.")
    _flash_errors(request, form)
    return redirect(_editor_url(version, f"s-{section.key}"))


@editing_draft
def section_remove(request: AuthenticatedHttpRequest, version: CodeVersion, section_id: int) -> HttpResponse:
    section = _section(version, section_id)
    count = section.clauses.count()
    return _confirm(
        request,
        version,
        lambda revision: drafting.section_remove(section=section, revision=revision, by=request.user),
        done=f"“{section.display_name}” removed.",
        then=_editor_url(version),
        title=f"Remove the section “{section.display_name}”?",
        explanation=f"The section and its {count} clause{'s' if count != 1 else ''} will be removed from this draft.",
        button="Remove the section",
        cancel_url=_editor_url(version, f"s-{section.key}"),
    )


# ---------------------------------------------------------------------------
# Clauses
# ---------------------------------------------------------------------------


@editing_draft
def clause_add(request: AuthenticatedHttpRequest, version: CodeVersion, section_id: int) -> HttpResponse:
    section = _section(version, section_id)
    after_id = request.POST.get("after") or request.GET.get("after") or ""
    after = _clause(version, int(after_id)) if after_id.isdigit() else None
    form = ClauseForm(request.POST or None, code=version.code, initial={"revision": version.revision, "is_new": True})
    if request.method == "POST" and form.is_valid():
        saved: dict[str, Clause] = {}
        if _apply(
            form,
            version,
            lambda: saved.update(
                clause=drafting.clause_add(
                    section=section,
                    revision=form.cleaned_data["revision"],
                    by=request.user,
                    content=form.content(),
                    after=after,
                )
            ),
        ):
            messages.success(request, "Clause added.")
            return redirect(_editor_url(version, f"c-{saved['clause'].key}"))
    return render(
        request,
        "conduct/clause_form.html",
        {"code": version.code, "version": version, "section": section, "form": form, "after": after},
    )


@editing_draft
def clause_edit(request: AuthenticatedHttpRequest, version: CodeVersion, clause_id: int) -> HttpResponse:
    clause = _clause(version, clause_id)
    form = ClauseForm(
        request.POST or None,
        code=version.code,
        initial={**ClauseForm.initial_for(clause), "revision": version.revision},
    )
    if request.method == "POST" and form.is_valid():
        if _apply(
            form,
            version,
            lambda: drafting.clause_update(
                clause=clause, revision=form.cleaned_data["revision"], by=request.user, content=form.content()
            ),
        ):
            messages.success(request, "Clause saved.")
            return redirect(_editor_url(version, f"c-{clause.key}"))
        clause.refresh_from_db()  # show the wording as it is now saved, beside the user's own
    earlier = None
    if version.based_on_id:
        earlier = Clause.objects.filter(section__version_id=version.based_on_id, key=clause.key).first()
    return render(
        request,
        "conduct/clause_form.html",
        {
            "code": version.code,
            "version": version,
            "section": clause.section,
            "clause": clause,
            "form": form,
            "earlier": earlier,
        },
    )


@editing_draft
@require_POST
def clause_move(request: AuthenticatedHttpRequest, version: CodeVersion, clause_id: int) -> HttpResponse:
    clause = _clause(version, clause_id)
    form = MoveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        target = _section(version, data["to_section"]) if data.get("to_section") else None

        def move() -> None:
            if target is not None:
                drafting.clause_move_to(clause=clause, revision=data["revision"], by=request.user, section=target)
            else:
                drafting.clause_move(clause=clause, revision=data["revision"], by=request.user, offset=form.offset)

        if _apply(form, version, move):
            messages.success(
                request, f"Clause moved to “{target}”." if target is not None else f"Clause moved {data['direction']}."
            )
    _flash_errors(request, form)
    return redirect(_editor_url(version, f"c-{clause.key}"))


@editing_draft
def clause_remove(request: AuthenticatedHttpRequest, version: CodeVersion, clause_id: int) -> HttpResponse:
    clause = _clause(version, clause_id)
    return _confirm(
        request,
        version,
        lambda revision: drafting.clause_remove(clause=clause, revision=revision, by=request.user),
        done="Clause removed.",
        then=_editor_url(version, f"s-{clause.section.key}"),
        title="Remove this clause?",
        quote=clause.text,
        explanation="It will be removed from this draft. Earlier versions keep it.",
        button="Remove the clause",
        cancel_url=_editor_url(version, f"c-{clause.key}"),
    )


def _confirm(
    request: AuthenticatedHttpRequest,
    version: CodeVersion,
    action: Callable[[int], object],
    *,
    done: str,
    then: str,
    cancel_url: str,
    **page: str,
) -> HttpResponse:
    """A confirmation page for a removal: GET asks, POST runs ``action(revision)`` and redirects to ``then``."""
    form = ConfirmForm(request.POST or None, initial={"revision": version.revision})
    if (
        request.method == "POST"
        and form.is_valid()
        and _apply(form, version, lambda: action(form.cleaned_data["revision"]))
    ):
        messages.success(request, done)
        return redirect(then)
    context = {"code": version.code, "version": version, "form": form, "cancel_url": cancel_url, **page}
    return render(request, "conduct/confirm.html", context)


def _flash_errors(request: AuthenticatedHttpRequest, form: Form) -> None:
    """Move and similar one-click actions have no page of their own: their refusals become messages."""
    if form.is_bound and form.errors:
        for error in form.non_field_errors():
            messages.error(request, str(error))
        for name, errors in form.errors.items():
            if name != "__all__":
                for error in errors:
                    messages.error(request, str(error))


# ---------------------------------------------------------------------------
# Comparing versions
# ---------------------------------------------------------------------------


@login_required
def version_compare(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    code = get_object_or_404(Code.objects.select_related("owner"), slug=slug)
    versions = versions_readable_by(request.user, code)
    if not versions:
        raise Http404("No version of this code is available to you.")
    by_pk = {str(v.pk): v for v in versions}
    asked_to, asked_from = request.GET.get("to", ""), request.GET.get("from", "")
    if (asked_to and asked_to not in by_pk) or (asked_from and asked_from not in by_pk):
        raise Http404("No such version.")
    new = by_pk.get(asked_to) or versions[0]
    old = by_pk.get(asked_from) or new.previous(among=versions)
    chosen = request.GET.get("as", "")
    role_kinds = {chosen} if chosen in code.audience else None
    diff = diff_versions(old, new, role_kinds=role_kinds) if old and old.pk != new.pk else None
    context = {
        "code": code,
        "versions": versions,
        "old": old,
        "new": new,
        "diff": diff,
        "changes": diff.changes if diff and request.GET.get("all") else (diff.changed_only if diff else []),
        "show_all": bool(request.GET.get("all")),
        "preview_as": chosen if role_kinds else "",
        "preview_choices": [(kind, role_label(kind)) for kind in code.audience],
        "can_draft": can_draft_code(request.user, code),
    }
    return render(request, "conduct/version_compare.html", context)
