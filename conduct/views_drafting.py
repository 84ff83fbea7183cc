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
from django.db.models import Q
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from conduct import drafting
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
from conduct.models import (
    Clause,
    Code,
    CodeVersion,
    OrganisationKind,
    Section,
    VersionStatus,
    role_label,
)
from conduct.permissions import Action, can, can_read_version, organisations_for
from conduct.rendering import render_sections
from core.forms import add_service_errors

OWNER_KINDS = (OrganisationKind.NETWORK, OrganisationKind.HUB, OrganisationKind.TRUST, OrganisationKind.SCHOOL)


# ---------------------------------------------------------------------------
# Lookups: each returns the object only if the user may draft for its owner, else 404
# ---------------------------------------------------------------------------


def _code(request: HttpRequest, slug: str) -> Code:
    code = get_object_or_404(Code.objects.select_related("owner", "derived_from__code__owner"), slug=slug)
    if not can(request.user, Action.DRAFT, code.owner):
        raise Http404("No such code.")
    return code


def _draft(request: HttpRequest, slug: str, pk: int) -> CodeVersion:
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
    def page(request: HttpRequest, slug: str, pk: int, **kwargs) -> HttpResponse:
        version = _draft(request, slug, pk)
        if version.status != VersionStatus.DRAFT:
            messages.info(request, f"Version {version.label} has been adopted; its text can no longer be changed.")
            return redirect(version)
        return view(request, version, **kwargs)

    return page


def _refresh_revision(form: Form, version: CodeVersion) -> None:
    """After a conflict, the form is shown again based on the revision now saved, so a deliberate resubmit works."""
    version.refresh_from_db(fields=["revision", "updated_at", "updated_by"])
    data = form.data.copy()
    data["revision"] = version.revision
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


def copyable_versions(user) -> QuerySet[CodeVersion]:  # noqa: F821
    """Adopted versions a user may copy: of codes offered as models, or of codes their organisations own."""
    own = organisations_for(user, Action.DRAFT).values("pk")
    return (
        CodeVersion.objects.exclude(status=VersionStatus.DRAFT)
        .filter(Q(code__offered_as_model=True) | Q(code__owner__in=own))
        .select_related("code__owner")
        .order_by("code__title", "-adopted_at")
    )


@login_required
def code_create(request: HttpRequest) -> HttpResponse:
    owners = organisations_for(request.user, Action.DRAFT).filter(kind__in=OWNER_KINDS).order_by("path")
    if not owners.exists():
        raise Http404("You do not look after any organisation's codes.")
    sources = copyable_versions(request.user)
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
def code_settings(request: HttpRequest, slug: str) -> HttpResponse:
    code = _code(request, slug)
    form = CodeDetailsForm(request.POST or None, initial=CodeDetailsForm.initial_for(code))
    if request.method == "POST" and form.is_valid():
        try:
            drafting.code_update(code=code, details=form.details())
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
def draft_start(request: HttpRequest, slug: str) -> HttpResponse:
    code = _code(request, slug)
    existing = drafting.open_draft(code)
    if existing:
        messages.info(request, f"A draft ({existing.label}) is already in progress; continue it here.")
        return redirect(_editor_url(existing))
    based_on = drafting.latest_locked_version(code)
    suggested = drafting.next_label(based_on.label) if based_on else drafting.default_new_label()
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
def draft_edit(request: HttpRequest, version: CodeVersion) -> HttpResponse:
    sections = version.ordered_sections()
    previous = version.based_on
    diff = diff_versions(previous, version) if previous else None
    change_by_clause = {c.new.pk: c for c in diff.changes if c.new is not None} if diff else {}
    removed_by_section: dict[str, list] = {}
    if diff:
        for change in diff.changes:
            if change.kind == "removed":
                removed_by_section.setdefault(change.section, []).append(change)
    for section in sections:
        for clause in section.clauses.all():
            clause.change = change_by_clause.get(clause.pk)
    context = {
        "code": version.code,
        "version": version,
        "sections": sections,
        "previous": previous,
        "diff": diff,
        "removed": [c for c in diff.changes if c.kind == "removed"] if diff else [],
        "unflagged": drafting.draft_changes_unflagged(version, diff.changes) if diff else [],
        "clause_count": sum(len(s.clauses.all()) for s in sections),
        "preview_choices": [(kind, role_label(kind)) for kind in version.code.audience],
    }
    return render(request, "conduct/draft_edit.html", context)


@login_required
def draft_preview(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
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
def draft_details(request: HttpRequest, version: CodeVersion) -> HttpResponse:
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
def draft_discard(request: HttpRequest, version: CodeVersion) -> HttpResponse:
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
def section_add(request: HttpRequest, version: CodeVersion) -> HttpResponse:
    after = _section(version, int(request.GET["after"])) if request.GET.get("after", "").isdigit() else None
    form = SectionForm(request.POST or None, initial={"revision": version.revision})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = {}
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
def section_edit(request: HttpRequest, version: CodeVersion, section_id: int) -> HttpResponse:
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
def section_move(request: HttpRequest, version: CodeVersion, section_id: int) -> HttpResponse:
    section = _section(version, section_id)
    form = MoveForm(request.POST)
    if form.is_valid():
        if _apply(
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
def section_remove(request: HttpRequest, version: CodeVersion, section_id: int) -> HttpResponse:
    section = _section(version, section_id)
    count = section.clauses.count()
    return _confirm(
        request,
        version,
        lambda revision: drafting.section_remove(section=section, revision=revision, by=request.user),
        done=f"Section “{section}” removed.",
        then=_editor_url(version),
        title=f"Remove the section “{section}”?",
        explanation=f"The section and its {count} clause{'s' if count != 1 else ''} will be removed from this draft.",
        button="Remove the section",
        cancel_url=_editor_url(version, f"s-{section.key}"),
    )


# ---------------------------------------------------------------------------
# Clauses
# ---------------------------------------------------------------------------


@editing_draft
def clause_add(request: HttpRequest, version: CodeVersion, section_id: int) -> HttpResponse:
    section = _section(version, section_id)
    after_id = request.POST.get("after") or request.GET.get("after") or ""
    after = _clause(version, int(after_id)) if after_id.isdigit() else None
    form = ClauseForm(request.POST or None, code=version.code, initial={"revision": version.revision, "is_new": True})
    if request.method == "POST" and form.is_valid():
        saved = {}
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
def clause_edit(request: HttpRequest, version: CodeVersion, clause_id: int) -> HttpResponse:
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
def clause_move(request: HttpRequest, version: CodeVersion, clause_id: int) -> HttpResponse:
    clause = _clause(version, clause_id)
    form = MoveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("to_section"):
            target = _section(version, data["to_section"])
            action = lambda: drafting.clause_move_to(
                clause=clause, revision=data["revision"], by=request.user, section=target
            )  # noqa: E731
            done = f"Clause moved to “{target}”."
        else:
            action = lambda: drafting.clause_move(
                clause=clause, revision=data["revision"], by=request.user, offset=form.offset
            )  # noqa: E731
            done = f"Clause moved {data['direction']}."
        if _apply(form, version, action):
            messages.success(request, done)
    _flash_errors(request, form)
    return redirect(_editor_url(version, f"c-{clause.key}"))


@editing_draft
def clause_remove(request: HttpRequest, version: CodeVersion, clause_id: int) -> HttpResponse:
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
    request: HttpRequest,
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
    if request.method == "POST" and form.is_valid():
        if _apply(form, version, lambda: action(form.cleaned_data["revision"])):
            messages.success(request, done)
            return redirect(then)
    context = {"code": version.code, "version": version, "form": form, "cancel_url": cancel_url, **page}
    return render(request, "conduct/confirm.html", context)


def readable_versions(user, code: Code) -> list[CodeVersion]:
    """The code's versions the user may read, newest first: adopted text if it concerns them, drafts if they draft.

    Readability is the same for every adopted version of a code, so it is asked once, not per version.
    """
    versions = list(code.versions.select_related("code__owner", "based_on").order_by("-created_at"))
    adopted = next((v for v in versions if v.status != VersionStatus.DRAFT), None)
    reads_adopted = adopted is not None and can_read_version(user, adopted)
    drafts = can(user, Action.DRAFT, code.owner)
    return [v for v in versions if (drafts if v.status == VersionStatus.DRAFT else reads_adopted)]


def _previous_readable(version: CodeVersion, versions: list[CodeVersion]) -> CodeVersion | None:
    """What ``version`` is compared with by default: the version it was drafted from, else the adopted one before it."""
    readable = {v.pk for v in versions}
    if version.based_on_id in readable:
        return version.based_on
    return next((v for v in versions if v.pk < version.pk and v.status != VersionStatus.DRAFT), None)


def _flash_errors(request: HttpRequest, form: Form) -> None:
    """Move and similar one-click actions have no page of their own: their refusals become messages."""
    if form.is_bound and form.errors:
        for error in form.non_field_errors():
            messages.error(request, error)
        for name, errors in form.errors.items():
            if name != "__all__":
                for error in errors:
                    messages.error(request, error)


# ---------------------------------------------------------------------------
# Comparing versions
# ---------------------------------------------------------------------------


@login_required
def version_compare(request: HttpRequest, slug: str) -> HttpResponse:
    code = get_object_or_404(Code.objects.select_related("owner"), slug=slug)
    versions = readable_versions(request.user, code)
    if not versions:
        raise Http404("No version of this code is available to you.")
    by_pk = {str(v.pk): v for v in versions}
    asked_to, asked_from = request.GET.get("to", ""), request.GET.get("from", "")
    if (asked_to and asked_to not in by_pk) or (asked_from and asked_from not in by_pk):
        raise Http404("No such version.")
    new = by_pk.get(asked_to) or versions[0]
    old = by_pk.get(asked_from) or _previous_readable(new, versions)
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
        "can_draft": can(request.user, Action.DRAFT, code.owner),
    }
    return render(request, "conduct/version_compare.html", context)
