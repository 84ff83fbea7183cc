"""People pages: the directory, a person's page and the changes to them, the audit page, the GIAS export.

Each view: a permission-scoped getter (404 for whoever may not see it, as elsewhere in the app), a form,
one call into ``conduct.people``, a redirect with a confirmation message. The services refuse bad
input by field and save nothing; ``add_service_errors`` puts each message beside its field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import Form
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from conduct import people as services
from conduct.http import AuthenticatedHttpRequest
from conduct.models import Organisation, Person, Role, role_label
from conduct.permissions import (
    audit_log_organisations,
    boards_for_gias,
    can_change_person,
    can_change_role,
    can_deactivate_person,
    can_export_gias,
    can_view_person,
    is_erased_person,
    manages_people,
    organisations_managed_by,
    people_directory_organisations,
    reads_audit_log,
    reviews_retention,
    role_kinds_grantable,
)
from core.downloads import as_attachment
from core.forms import add_service_errors
from people import forms
from people.exports import AUDIT_COLUMNS, DIRECTORY_COLUMNS, GIAS_COLUMNS
from people.selectors import (
    AuditFilters,
    DirectoryFilters,
    audit_entries,
    directory,
    directory_export_rows,
    directory_page,
    directory_rows,
    directory_walk,
    gias_rows,
    person_page,
)
from reminders.selectors import email_problems
from reports.exports import Sheet, csv_chunks, xlsx_file

PEOPLE_PER_PAGE = 50
AUDIT_PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---------------------------------------------------------------------------
# Permission-scoped getters
# ---------------------------------------------------------------------------


def _require_manages_people(request: AuthenticatedHttpRequest) -> None:
    if not manages_people(request.user):
        raise Http404("You do not manage people in any organisation.")


def _person(request: AuthenticatedHttpRequest, pk: int, allowed: Callable[[Person, Person], bool]) -> Person:
    """The person, if the user may do this to them; 404 otherwise (as if there were no such person)."""
    person = get_object_or_404(Person, pk=pk)
    if not allowed(request.user, person):
        raise Http404("No such person.")
    return person


def _role(request: AuthenticatedHttpRequest, pk: int, role_pk: int) -> Role:
    """One of the person's roles, if the user may change it; 404 otherwise."""
    role = get_object_or_404(Role.objects.select_related("person", "organisation"), pk=role_pk, person_id=pk)
    if not can_change_role(request.user, role):
        raise Http404("No such role.")
    return role


def _person_url(person: Person) -> str:
    return reverse("people:person", args=[person.pk])


def _render_form(request: AuthenticatedHttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, context, status=400 if request.method == "POST" else 200)


def _apply(form: Form, call: Callable[[], Any]) -> tuple[bool, Any]:
    """Run the service; its ValidationError goes on the form by field, PermissionDenied at the top."""
    try:
        return True, call()
    except ValidationError as error:
        add_service_errors(form, error)
    except PermissionDenied as error:
        form.add_error(None, str(error))
    return False, None


# ---------------------------------------------------------------------------
# The directory
# ---------------------------------------------------------------------------


def _directory_form(request: AuthenticatedHttpRequest) -> tuple[forms.DirectoryForm, QuerySet[Organisation]]:
    organisations = people_directory_organisations(request.user)
    return forms.DirectoryForm(request.GET or None, organisations=organisations), organisations


@login_required
@require_safe
def directory_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_manages_people(request)
    form, _organisations = _directory_form(request)
    filters = form.filters() if form.is_valid() else DirectoryFilters()
    page = directory_page(
        directory(request.user, filters),
        request.GET.get("page"),
        PEOPLE_PER_PAGE,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        sort=filters.sort,
        walked=lambda: directory_walk(request.user, filters),
    )
    rows = directory_rows(request.user, page.object_list, filters)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("after", None)
    query.pop("before", None)
    gias_form = forms.GiasForm(boards=boards_for_gias(request.user))
    return render(
        request,
        "people/directory.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "gias_form": gias_form,
            "has_boards": gias_form.has_boards,
            "reads_audit_log": reads_audit_log(request.user),
            "reviews_retention": reviews_retention(request.user),
            "today": timezone.localdate(),
        },
        status=200 if not form.is_bound or form.is_valid() else 400,
    )


@login_required
@require_safe
def directory_export(request: AuthenticatedHttpRequest, fmt: str) -> HttpResponseBase:
    _require_manages_people(request)
    if fmt not in ("csv", "xlsx"):
        raise Http404("No such export.")
    form, _organisations = _directory_form(request)
    if form.is_bound and not form.is_valid():
        messages.error(request, "Correct the filters before exporting.")
        return redirect(f"{reverse('people:directory')}?{request.GET.urlencode()}")
    filters = form.filters() if form.is_bound else DirectoryFilters()
    rows = directory_export_rows(request.user, filters)
    name = f"people-{timezone.localdate():%Y-%m-%d}"
    if fmt == "csv":
        response = StreamingHttpResponse(csv_chunks(DIRECTORY_COLUMNS, rows), content_type="text/csv; charset=utf-8")
        return as_attachment(response, f"{name}.csv")
    return as_attachment(
        FileResponse(xlsx_file([Sheet("People", DIRECTORY_COLUMNS, rows)]), content_type=XLSX), f"{name}.xlsx"
    )


@login_required
@require_safe
def gias_export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """A board's governance for "Get information about schools", as CSV."""
    _require_manages_people(request)
    form = forms.GiasForm(request.GET or None, boards=boards_for_gias(request.user))
    if not form.is_valid():
        raise Http404("No such board.")
    board = form.cleaned_data["board"]
    if not can_export_gias(request.user, board):
        raise Http404("No such board.")
    response = HttpResponse("".join(csv_chunks(GIAS_COLUMNS, gias_rows(board))), content_type="text/csv; charset=utf-8")
    return as_attachment(response, f"gias-governance-{board.slug}-{timezone.localdate():%Y-%m-%d}.csv")


# ---------------------------------------------------------------------------
# A person's page
# ---------------------------------------------------------------------------


@login_required
@require_safe
def person_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk, can_view_person)
    data = person_page(request.user, person)
    changeable = can_change_person(request.user, person)
    roles = [(role, can_change_role(request.user, role)) for role in data.roles]
    return render(
        request,
        "people/person.html",
        {
            "person": person,
            "data": data,
            "roles": roles,
            "may_change": changeable,
            "may_deactivate": changeable and can_deactivate_person(request.user, person),
            "may_add_role": not is_erased_person(person)
            and bool(role_kinds_grantable(request.user, organisations_managed_by(request.user))),
            "may_record_leaver": any(may for _role, may in roles) and any(role.ends_on is None for role in data.roles),
            "reads_audit_log": reads_audit_log(request.user),
            "today": timezone.localdate(),
            # Receipts, invitations, reminders and digests to them that the mail server refused or that failed.
            "email_problems": email_problems(request.user, person=person),
        },
    )


@login_required
def person_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk, can_change_person)
    form = forms.PersonDetailsForm(
        request.POST if request.method == "POST" else None,
        initial={"full_name": person.full_name, "email": person.email},
    )
    if request.method == "POST" and form.is_valid():
        old_email = person.email
        done, updated = _apply(
            form,
            lambda: services.person_details_update(
                actor=request.user,
                person=person,
                full_name=form.cleaned_data["full_name"],
                email=form.cleaned_data["email"],
            ),
        )
        if done:
            note = (
                f" They will confirm {updated.email} the next time they sign in." if updated.email != old_email else ""
            )
            messages.success(request, f"Saved {updated.full_name}'s details.{note}")
            return redirect(_person_url(updated))
    return _render_form(request, "people/person_edit.html", {"person": person, "form": form})


@login_required
def person_account(request: AuthenticatedHttpRequest, pk: int, change: str) -> HttpResponse:
    """Deactivate or reactivate an account: a confirmation page, then the change."""
    if change not in ("deactivate", "reactivate"):
        raise Http404("No such change.")
    person = _person(request, pk, can_deactivate_person)
    form = forms.ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        service = services.person_deactivate if change == "deactivate" else services.person_reactivate
        done, _ = _apply(form, lambda: service(actor=request.user, person=person))
        if done:
            messages.success(
                request,
                f"{person.full_name} can no longer sign in; their roles, records and history stay."
                if change == "deactivate"
                else f"{person.full_name} can sign in again.",
            )
            return redirect(_person_url(person))
    return _render_form(request, "people/person_account.html", {"person": person, "form": form, "change": change})


@login_required
def role_add_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk, can_view_person)
    organisations = organisations_managed_by(request.user)
    kinds = role_kinds_grantable(request.user, organisations)
    if not kinds or person.pk == request.user.pk and not request.user.is_superuser or is_erased_person(person):
        raise Http404("You cannot add roles to this person.")
    form = forms.RoleAddForm(
        request.POST if request.method == "POST" else None,
        organisations=organisations,
        kinds=kinds,
        initial={"starts_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done, role = _apply(
            form,
            lambda: services.role_add(
                actor=request.user,
                person=person,
                organisation=data["organisation"],
                kind=data["kind"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                title=data["title"],
                category=data["category"],
                appointed_by=data["appointed_by"],
                term_ends_on=data["term_ends_on"],
            ),
        )
        if done:
            messages.success(
                request, f"{person.full_name} is now {role_label(role.kind).lower()} at {role.organisation.name}."
            )
            return redirect(_person_url(person))
    return _render_form(request, "people/role_add.html", {"person": person, "form": form})


@login_required
def role_end_view(request: AuthenticatedHttpRequest, pk: int, role_pk: int) -> HttpResponse:
    role = _role(request, pk, role_pk)
    form = forms.RoleEndForm(
        request.POST if request.method == "POST" else None, initial={"ends_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        done, _ = _apply(
            form,
            lambda: services.role_end(
                actor=request.user, role=role, ends_on=form.cleaned_data["ends_on"], reason=form.cleaned_data["reason"]
            ),
        )
        if done:
            messages.success(
                request,
                f"{role.person.full_name}'s role as {role_label(role.kind).lower()} at {role.organisation.name} "
                f"ends on {form.cleaned_data['ends_on']:%-d %B %Y}.",
            )
            return redirect(_person_url(role.person))
    return _render_form(request, "people/role_end.html", {"person": role.person, "role": role, "form": form})


@login_required
def role_edit_view(request: AuthenticatedHttpRequest, pk: int, role_pk: int) -> HttpResponse:
    role = _role(request, pk, role_pk)
    form = forms.RoleGovernanceForm.for_role(role, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done, _ = _apply(
            form,
            lambda: services.role_update_governance(
                actor=request.user,
                role=role,
                category=data["category"],
                appointed_by=data["appointed_by"],
                starts_on=data["starts_on"],
                term_ends_on=data["term_ends_on"],
                title=data["title"],
            ),
        )
        if done:
            messages.success(request, f"Saved the details of {role.person.full_name}'s role.")
            return redirect(_person_url(role.person))
    return _render_form(request, "people/role_edit.html", {"person": role.person, "role": role, "form": form})


@login_required
def role_move_view(request: AuthenticatedHttpRequest, pk: int, role_pk: int) -> HttpResponse:
    role = _role(request, pk, role_pk)
    organisations = organisations_managed_by(request.user)
    kinds = role_kinds_grantable(request.user, organisations)
    form = forms.MoveForm(
        request.POST if request.method == "POST" else None,
        organisations=organisations,
        kinds=kinds,
        initial={"on": timezone.localdate(), "kind": role.kind, "title": role.title},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done, new_role = _apply(
            form,
            lambda: services.person_move(
                actor=request.user,
                role=role,
                organisation=data["organisation"],
                kind=data["kind"],
                on=data["on"],
                title=data["title"],
            ),
        )
        if done:
            messages.success(
                request,
                f"{role.person.full_name} moved to {role_label(new_role.kind).lower()} at "
                f"{new_role.organisation.name} from {new_role.starts_on:%-d %B %Y}.",
            )
            return redirect(_person_url(role.person))
    return _render_form(request, "people/role_move.html", {"person": role.person, "role": role, "form": form})


@login_required
def person_leaver_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk, can_view_person)
    if person.pk == request.user.pk and not request.user.is_superuser:
        raise Http404("You cannot record yourself leaving.")
    today = timezone.localdate()
    held_in = Role.objects.current(today).filter(person=person).values("organisation__path")
    organisations = organisations_managed_by(request.user)
    # Where the person holds a role today, and the organisations above those that the user manages.
    paths = list(held_in.values_list("organisation__path", flat=True))
    ids = {pk for path in paths for pk in Organisation(path=path).ancestor_ids()}
    organisations = organisations.filter(pk__in=ids)
    form = forms.LeaverForm(
        request.POST if request.method == "POST" else None, organisations=organisations, initial={"ends_on": today}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done, ended = _apply(
            form,
            lambda: services.person_record_leaver(
                actor=request.user, person=person, ends_on=data["ends_on"], reason=data["reason"], within=data["within"]
            ),
        )
        if done:
            messages.success(
                request,
                f"Recorded {person.full_name} leaving {data['within'].name} on {data['ends_on']:%-d %B %Y}: "
                f"{len(ended)} role(s) ended. What they signed stays; they owe nothing more there after that day.",
            )
            return redirect(_person_url(person))
    return _render_form(request, "people/person_leaver.html", {"person": person, "form": form})


# ---------------------------------------------------------------------------
# The audit page
# ---------------------------------------------------------------------------


def _audit(request: AuthenticatedHttpRequest) -> tuple[forms.AuditForm, QuerySet | None]:
    if not reads_audit_log(request.user):
        raise Http404("You do not read any audit log.")
    form = forms.AuditForm(request.GET or None, organisations=audit_log_organisations(request.user))
    if form.is_bound and not form.is_valid():
        return form, None
    filters = form.filters() if form.is_bound else AuditFilters()
    return form, audit_entries(request.user, filters)


@login_required
@require_safe
def audit_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    form, entries = _audit(request)
    page = Paginator(entries, AUDIT_PER_PAGE).get_page(request.GET.get("page")) if entries is not None else None
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "people/audit.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=200 if entries is not None else 400,
    )


@login_required
@require_safe
def audit_export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    form, entries = _audit(request)
    if entries is None:
        messages.error(request, "Correct the filters before exporting.")
        return redirect(f"{reverse('people:audit')}?{urlencode(request.GET.dict())}")
    response = StreamingHttpResponse(
        csv_chunks(AUDIT_COLUMNS, entries.iterator(chunk_size=1000)), content_type="text/csv; charset=utf-8"
    )
    return as_attachment(response, f"audit-log-{timezone.localdate():%Y-%m-%d}.csv")
