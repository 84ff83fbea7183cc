"""Pages for importing a code's text from a Word document or pasted text: read, check, correct, save.

An import is for a new code (of an organisation the user may create codes for) or for an existing
draft (whose whole text it replaces). Reading saves nothing: the review (``conduct.importing``) is
kept in the session, under a random id, until the drafter creates the draft or replaces the
draft's text; then it is forgotten, so a repeated submission finds nothing to save twice.

The session rather than a signed hidden field: the pages have a form for each correction, and a
proposal may hold about 200,000 characters (conduct.limits). Signed, it would travel to the browser
and back with every form; in the session it stays on the server, where the user cannot change it
either. An id that was used, pushed out by newer imports or started in another sign-in is simply
not in the session, and the page says so in words (404, never a 500).

Every page looks the import's target up again with the permission rules (404 for anyone who may
no longer create a code for its owner or draft its code), as the other drafting pages do.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from conduct import drafting, importing
from conduct.forms import (
    ConfirmForm,
    ImportedCodeForm,
    ImportMarksForm,
    ImportMergeForm,
    ImportSourceForm,
    ImportSplitForm,
    TextImportForm,
    WordImportForm,
)
from conduct.http import AuthenticatedHttpRequest
from conduct.importer import text as text_reader
from conduct.importer import word as word_reader
from conduct.models import Clause, CodeVersion, Organisation, RoleKind, VersionStatus
from conduct.permissions import can_draft_code, owners_for_new_code
from conduct.views_drafting import editing_draft
from core.forms import add_service_errors

SESSION_KEY = "conduct_imports"
# Imports kept per session, the newest: one for each tab in use is plenty, and each may be a few
# hundred KB of session data.
KEPT_IMPORTS = 3
WORD, TEXT = "word", "text"


@dataclass
class StoredImport:
    """An import being reviewed, with what it is for: a new code of ``owner``, or ``draft``."""

    id: str
    review: importing.ImportReview
    owner: Organisation | None
    draft: CodeVersion | None
    revision: int  # the draft's revision when the import was read (0 for a new code)

    @property
    def audience(self) -> list[str]:
        """Roles a clause may be limited to: the draft's code's audience; for a new code, which has no
        audience until its details are given with the draft, every role."""
        return list(self.draft.code.audience) if self.draft is not None else list(RoleKind.values)


# ---------------------------------------------------------------------------
# The session
# ---------------------------------------------------------------------------


def _imports(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    stored = request.session.get(SESSION_KEY)
    return stored if isinstance(stored, dict) else {}


def _store_new(
    request: AuthenticatedHttpRequest,
    review: importing.ImportReview,
    *,
    owner: Organisation | None = None,
    draft: CodeVersion | None = None,
    revision: int = 0,
) -> str:
    imports = _imports(request)
    import_id = secrets.token_urlsafe(16)
    imports[import_id] = {
        "person": request.user.pk,
        "owner": owner.pk if owner else None,
        "draft": draft.pk if draft else None,
        "revision": revision,
        "review": review.as_data(),
    }
    for old_id in list(imports)[:-KEPT_IMPORTS]:  # oldest first: the session keeps their order
        del imports[old_id]
    request.session[SESSION_KEY] = imports
    return import_id


def _store(request: AuthenticatedHttpRequest, current: StoredImport) -> None:
    imports = _imports(request)
    imports[current.id]["review"] = current.review.as_data()
    request.session[SESSION_KEY] = imports
    request.session.modified = True  # a nested dict changed


def _forget(request: AuthenticatedHttpRequest, current: StoredImport) -> None:
    imports = _imports(request)
    imports.pop(current.id, None)
    request.session[SESSION_KEY] = imports


def _target_draft(request: AuthenticatedHttpRequest, pk: int) -> CodeVersion:
    version = get_object_or_404(CodeVersion.objects.select_related("code__owner"), pk=pk)
    if not can_draft_code(request.user, version.code):
        raise Http404("No such draft.")
    return version


def _stored(request: AuthenticatedHttpRequest, import_id: str) -> StoredImport | None:
    """The import with this id in the user's session, its target looked up with permission (else 404);
    None if there is no such import (used, pushed out, or never this user's)."""
    data = _imports(request).get(import_id)
    if not isinstance(data, dict) or data.get("person") != request.user.pk:
        return None
    try:
        review = importing.ImportReview.from_data(data["review"])
    except (KeyError, TypeError, ValueError):  # stored by an earlier release in another shape
        return None
    owner = get_object_or_404(owners_for_new_code(request.user), pk=data["owner"]) if data.get("owner") else None
    draft = _target_draft(request, data["draft"]) if data.get("draft") else None
    if owner is None and draft is None:
        return None
    return StoredImport(import_id, review, owner, draft, int(data.get("revision") or 0))


def reviewing_import(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of an import under review: signed in, the import found in the session (else a page
    saying it is no longer available), its target allowed (else 404) and, for a draft, still a draft."""

    @login_required
    @wraps(view)
    def page(request: AuthenticatedHttpRequest, import_id: str, **kwargs: int) -> HttpResponse:
        current = _stored(request, import_id)
        if current is None:
            return render(request, "conduct/import_missing.html", status=404)
        if current.draft is not None and current.draft.status != VersionStatus.DRAFT:
            _forget(request, current)
            messages.info(
                request, f"Version {current.draft.label} has been adopted; its text can no longer be changed."
            )
            return redirect(current.draft)
        return view(request, current, **kwargs)

    return page


def _preview_url(current: StoredImport, anchor: str = "") -> str:
    url = reverse("conduct:import_preview", args=[current.id])
    return f"{url}#{anchor}" if anchor else url


def _editor_url(version: CodeVersion) -> str:
    return reverse("conduct:draft_edit", args=[version.code.slug, version.pk])


# ---------------------------------------------------------------------------
# Reading a document or pasted text
# ---------------------------------------------------------------------------


def _read(form: ImportSourceForm) -> importing.ImportReview:
    """The importer's reading of the upload or text (its ValidationError if it cannot be imported)."""
    if isinstance(form, WordImportForm):
        upload = form.cleaned_data["document"]
        return importing.review_from_docx(upload.read(), name=upload.name or "The document")
    return importing.review_from_text(form.cleaned_data["text"])


def _source_page(
    request: AuthenticatedHttpRequest,
    kind: str,
    *,
    owners: QuerySet[Organisation] | None = None,
    draft: CodeVersion | None = None,
) -> HttpResponse:
    """The upload (or paste) page: read the source and, if the importer accepts it, show the preview."""
    form_class = WordImportForm if kind == WORD else TextImportForm
    initial = {"revision": draft.revision} if draft is not None else {}
    form = form_class(request.POST or None, request.FILES or None, owners=owners, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            review = _read(form)
        except ValidationError as error:
            form.add_error("document" if kind == WORD else "text", error)
        else:
            import_id = _store_new(
                request,
                review,
                owner=form.cleaned_data.get("owner"),
                draft=draft,
                revision=form.cleaned_data.get("revision") or 0,
            )
            return redirect("conduct:import_preview", import_id)
    context = {
        "form": form,
        "kind": kind,
        "code": draft.code if draft is not None else None,
        "version": draft,
        "heading_hint": word_reader.HEADING_HINT if kind == WORD else text_reader.HEADING_HINT,
    }
    return render(request, "conduct/import_source.html", context)


def _owners(request: AuthenticatedHttpRequest) -> QuerySet[Organisation]:
    owners = owners_for_new_code(request.user)
    if not owners.exists():
        raise Http404("You do not look after any organisation's codes.")
    return owners


@login_required
def new_code_from_word(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _source_page(request, WORD, owners=_owners(request))


@login_required
def new_code_from_text(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _source_page(request, TEXT, owners=_owners(request))


@editing_draft
def draft_from_word(request: AuthenticatedHttpRequest, version: CodeVersion) -> HttpResponse:
    return _source_page(request, WORD, draft=version)


@editing_draft
def draft_from_text(request: AuthenticatedHttpRequest, version: CodeVersion) -> HttpResponse:
    return _source_page(request, TEXT, draft=version)


# ---------------------------------------------------------------------------
# The preview, and saving it
# ---------------------------------------------------------------------------


def _save_form(current: StoredImport) -> Form:
    """The form that saves the import: the new code's details, or a confirmation carrying the revision."""
    if current.owner is not None:
        proposal = current.review.proposal
        used = {kind for clause in proposal.clauses for kind in clause["roles"]}
        initial = {
            "title": proposal.title,
            "label": drafting.default_new_label(),
            "signing_due_days": 30,
            "audience": [
                kind for kind in RoleKind.values if kind in used
            ],  # a clause limited to a role needs it to sign
        }
        return ImportedCodeForm(initial=initial)
    return ConfirmForm(initial={"revision": current.revision})


def _preview(request: AuthenticatedHttpRequest, current: StoredImport, form: Form) -> HttpResponse:
    review = current.review
    rows = review.rows()
    context = {
        "current": current,
        "review": review,
        "rows": rows,
        "clause_count": sum(len(row.clauses) for row in rows),
        "form": form,
        "code": current.draft.code if current.draft is not None else None,
        "version": current.draft,
        "draft_counts": _draft_counts(current.draft) if current.draft is not None else None,
    }
    return render(request, "conduct/import_preview.html", context)


def _draft_counts(draft: CodeVersion) -> dict[str, int]:
    """What replacing the draft's text would replace."""
    return {"sections": draft.sections.count(), "clauses": Clause.objects.filter(section__version=draft).count()}


@reviewing_import
def import_preview(request: AuthenticatedHttpRequest, current: StoredImport) -> HttpResponse:
    return _preview(request, current, _save_form(current))


@reviewing_import
@require_POST
def import_create(request: AuthenticatedHttpRequest, current: StoredImport) -> HttpResponse:
    if current.owner is None:
        raise Http404("This import is for an existing draft.")
    form = ImportedCodeForm(request.POST)
    if form.is_valid():
        try:
            draft = importing.code_create_from_import(
                owner=current.owner,
                details=form.details(),
                proposal=current.review.proposal,
                created_by=request.user,
                label=form.cleaned_data["label"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            _forget(request, current)
            messages.success(
                request,
                f"{draft.code.title} created from {current.review.source}. Its first version, {draft.label}, "
                "is a draft: check it, edit it, then a board adopts it.",
            )
            return redirect(_editor_url(draft))
    return _preview(request, current, form)


@reviewing_import
@require_POST
def import_replace(request: AuthenticatedHttpRequest, current: StoredImport) -> HttpResponse:
    draft = current.draft
    if draft is None:
        raise Http404("This import is for a new code.")
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            importing.draft_replace_from_import(
                version=draft, revision=form.cleaned_data["revision"], proposal=current.review.proposal, by=request.user
            )
        except drafting.DraftConflict as conflict:
            add_service_errors(form, conflict)
            draft.refresh_from_db(fields=["revision"])
            _resend_with(form, "revision", draft.revision)  # so that replacing anyway is a deliberate second click
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            _forget(request, current)
            messages.success(request, f"The text of draft {draft.label} was replaced with {current.review.source}.")
            return redirect(_editor_url(draft))
    return _preview(request, current, form)


def _resend_with(form: Form, name: str, value: int) -> None:
    """After a conflict the form is shown again carrying the value now current, so a resubmit is deliberate."""
    data = QueryDict(mutable=True)
    data.update(form.data)  # every value of every field, as the request sent them
    data[form.add_prefix(name)] = str(value)
    form.data = data


# ---------------------------------------------------------------------------
# Correcting a clause before anything is saved
# ---------------------------------------------------------------------------


def _clause(current: StoredImport, section: int, position: int) -> importing.ReviewedClause:
    reviewed = current.review.clause_at(section, position)
    if reviewed is None:
        raise Http404("No such clause in this import.")
    return reviewed


def _clause_page(
    request: AuthenticatedHttpRequest,
    current: StoredImport,
    reviewed: importing.ReviewedClause,
    *,
    merge: ImportMergeForm | None = None,
    split: ImportSplitForm | None = None,
    mark: ImportMarksForm | None = None,
) -> HttpResponse:
    clause, initial = reviewed.clause, {"changes": current.review.changes}
    before = current.review.clause_at(reviewed.section, reviewed.position - 1) if reviewed.position > 1 else None
    context = {
        "current": current,
        "reviewed": reviewed,
        "before": before,
        "code": current.draft.code if current.draft is not None else None,
        "version": current.draft,
        "merge": merge or ImportMergeForm(initial=initial),
        "split": split or ImportSplitForm(initial=initial),
        "mark": mark
        or ImportMarksForm(
            audience=current.audience, initial={**initial, "roles": clause["roles"], "is_new": clause["new"]}
        ),
    }
    return render(request, "conduct/import_clause.html", context)


def _correct(request: AuthenticatedHttpRequest, form: Form, current: StoredImport, action: Callable[[], None]) -> bool:
    """Make one correction to the review and keep it; on refusal put the reason on the form."""
    try:
        action()
    except importing.ReviewChanged as changed:
        add_service_errors(form, changed)
        _resend_with(form, "changes", current.review.changes)
        return False
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    _store(request, current)
    return True


@reviewing_import
def import_clause(
    request: AuthenticatedHttpRequest, current: StoredImport, section: int, position: int
) -> HttpResponse:
    return _clause_page(request, current, _clause(current, section, position))


@reviewing_import
@require_POST
def import_clause_merge(
    request: AuthenticatedHttpRequest, current: StoredImport, section: int, position: int
) -> HttpResponse:
    reviewed = _clause(current, section, position)
    form = ImportMergeForm(request.POST)
    if form.is_valid() and _correct(
        request,
        form,
        current,
        lambda: importing.review_clause_merge(
            review=current.review, section=section, position=position, changes=form.cleaned_data["changes"]
        ),
    ):
        messages.success(request, "Clause merged into the one before it.")
        return redirect(_preview_url(current, f"c-{section}-{position - 1}"))
    return _clause_page(request, current, reviewed, merge=form)


@reviewing_import
@require_POST
def import_clause_split(
    request: AuthenticatedHttpRequest, current: StoredImport, section: int, position: int
) -> HttpResponse:
    reviewed = _clause(current, section, position)
    form = ImportSplitForm(request.POST)
    if form.is_valid() and _correct(
        request,
        form,
        current,
        lambda: importing.review_clause_split(
            review=current.review,
            section=section,
            position=position,
            before=form.cleaned_data["before"],
            changes=form.cleaned_data["changes"],
        ),
    ):
        messages.success(request, "Clause split in two.")
        return redirect(_preview_url(current, f"c-{section}-{position}"))
    return _clause_page(request, current, reviewed, split=form)


@reviewing_import
@require_POST
def import_clause_mark(
    request: AuthenticatedHttpRequest, current: StoredImport, section: int, position: int
) -> HttpResponse:
    reviewed = _clause(current, section, position)
    form = ImportMarksForm(request.POST, audience=current.audience)
    if form.is_valid() and _correct(
        request,
        form,
        current,
        lambda: importing.review_clause_mark(
            review=current.review,
            section=section,
            position=position,
            roles=form.cleaned_data["roles"],
            new=form.cleaned_data["is_new"],
            audience=current.audience,
            changes=form.cleaned_data["changes"],
        ),
    ):
        messages.success(request, "Clause corrected in the preview (nothing is saved until you confirm).")
        return redirect(_preview_url(current, f"c-{section}-{position}"))
    return _clause_page(request, current, reviewed, mark=form)
