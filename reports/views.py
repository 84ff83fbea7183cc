"""Report pages. Each view: resolve what the user may see (404 otherwise), one call into the read or
write side, then a render, a file or a redirect."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from conduct.http import AuthenticatedHttpRequest
from conduct.models import Organisation, role_label
from conduct.permissions import can_publish_register, can_view_report_job, may_remind_now, organisations_for_reports
from core.downloads import (
    StoredFileUnavailable,
    as_attachment,
    stored_file_download,
    stored_file_unavailable_response,
)
from reminders.remind_now import reminders_send_now
from reports.charts import school_bars, timeline_line
from reports.drilldown import drilldown_page
from reports.exports import (
    REGISTER_COLUMNS,
    TABLES,
    Sheet,
    column_docs,
    csv_chunks,
    people_csv_chunks,
    people_sheet,
    record_url_builder,
    register_rows,
    xlsx_file,
)
from reports.filters import ResolvedFilters, report_filters_resolve, report_organisations
from reports.forms import PublicationForm, RemindNowForm
from reports.jobs import job_request
from reports.models import JobKind, ReportJob
from reports.publication import register_publication_set
from reports.register import register_for, register_organisations, register_published
from reports.selectors import (
    STATUSES,
    ReportFilters,
    dashboard,
    dashboard_tables,
    owed_count,
    person_row,
    report_scopes,
    today,
)

PEOPLE_PER_PAGE = 50
PDF_IN_BACKGROUND = (
    "The PDF is being prepared in the background. This page shows its progress and the download link when it is ready."
)
XLSX_NOW_MAX_ROWS = (
    10_000  # a longer people spreadsheet is written in the background (it takes seconds per 10,000 rows)
)
JOBS_PER_PAGE = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JOB_CONTENT_TYPES: dict[str, str] = {JobKind.ARCHIVE: "application/zip", JobKind.SPREADSHEET: XLSX}  # else a PDF
EXPORTS = {
    ("schools", "csv"),
    ("schools", "xlsx"),
    ("roles", "csv"),
    ("roles", "xlsx"),
    ("timeline", "csv"),
    ("timeline", "xlsx"),
    ("people", "csv"),
    ("people", "xlsx"),
    ("dashboard", "xlsx"),
    ("summary", "pdf"),
}


# ---------------------------------------------------------------------------
# Resolving the filters (the permission check of every report view)
# ---------------------------------------------------------------------------


def _resolve(request: AuthenticatedHttpRequest, data: QueryDict | None = None) -> ResolvedFilters:
    """The filters asked for (the query string, or ``data``), resolved to what the user may see; 404 otherwise."""
    resolved = report_filters_resolve(request.user, data if data is not None else request.GET)
    if resolved.dropped:
        messages.info(
            request,
            f"The {' and '.join(resolved.dropped)} chosen before do not apply to {resolved.organisation.name}; "
            "showing all of it instead.",
        )
    return resolved


def _dashboard_url(params: Mapping[str, object]) -> str:
    query = urlencode({key: str(value) for key, value in params.items()})
    return f"{reverse('reports:dashboard')}?{query}" if query else reverse("reports:dashboard")


# ---------------------------------------------------------------------------
# Dashboard and drill-down
# ---------------------------------------------------------------------------


@login_required
def dashboard_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    resolved = _resolve(request)
    context: dict = {"form": resolved.form, "params": resolved.params, "columns": column_docs()}
    status = 200
    if resolved.filters:
        board = dashboard(request.user, resolved.filters, resolved.schools)
        context.update(
            board=board,
            school_chart=school_bars(board.by_school),
            timeline_chart=timeline_line(board.timeline),
            recent_jobs=list(
                ReportJob.objects.for_requester(request.user).select_related("organisation", "version__code")[:5]
            ),
        )
    else:
        status = 400
    return render(request, "reports/dashboard.html", context, status=status)


@login_required
def people_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    resolved = _resolve(request)
    if resolved.filters is None:
        return render(
            request,
            "reports/dashboard.html",
            {"form": resolved.form, "params": {}, "columns": column_docs()},
            status=400,
        )
    filters = resolved.filters
    page = drilldown_page(request.user, filters, resolved.schools, PEOPLE_PER_PAGE, request.GET)
    record_url = record_url_builder(absolute=False)
    rows = [person_row(values, filters, resolved.schools) for values in page.object_list]
    return render(
        request,
        "reports/people.html",
        {
            "form": resolved.form,
            "params": resolved.params,
            "page": page,
            "rows": [(row, record_url(row.acknowledgement_id)) for row in rows],
            "filters": filters,
            "school_label": resolved.schools.label(int(filters.school)) if filters.school.isdigit() else "",
            "role_label": role_label(filters.role),
            "status_label": STATUSES.get(filters.status, ""),
            "may_remind": may_remind_now(request.user),
            # The same page again, from the same bookmark: the remind-now form's way back.
            "back": urlencode({**resolved.params, **page.own_params}),
        },
    )


@login_required
@require_POST
def remind_now_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Remind the people chosen on the drill-down at once, then back to the same page with a message."""
    if not may_remind_now(request.user):
        raise Http404("Nothing to remind here.")
    form = RemindNowForm(request.POST, user=request.user)
    back = reverse("reports:people")
    if form.is_valid():
        # Only our own page, with its filters re-encoded: never a redirect elsewhere.
        query = QueryDict(form.cleaned_data["back"]).urlencode()
        back = f"{back}?{query}" if query else back
        result = reminders_send_now(
            actor=request.user, obligation_ids=[obligation.pk for obligation in form.cleaned_data["obligations"]]
        )
        messages.success(request, result.message)
    else:
        query = QueryDict(request.POST.get("back", "")[:2000]).urlencode()
        back = f"{back}?{query}" if query else back
        messages.error(request, " ".join(str(error) for error in form.errors.get("obligations", ["Nothing was sent."])))
    return redirect(back)


# ---------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------


@login_required
def export_view(request: AuthenticatedHttpRequest, table: str, fmt: str) -> HttpResponseBase:
    if (table, fmt) not in EXPORTS:
        raise Http404("No such export.")
    resolved = _resolve(request)
    if resolved.filters is None:
        return redirect(_dashboard_url(request.GET.dict()))
    filters, user = resolved.filters, request.user
    if table == "summary":  # drawn by a worker, never inside the request
        job, _created = job_request(user=user, kind=JobKind.SUMMARY_PDF, filters=filters)
        messages.info(request, PDF_IN_BACKGROUND)
        return redirect(job)
    if table == "people" and fmt == "xlsx":
        count = owed_count(user, filters, resolved.schools)
        if count > XLSX_NOW_MAX_ROWS:
            job, _created = job_request(user=user, kind=JobKind.SPREADSHEET, filters=filters)
            messages.info(
                request,
                f"This spreadsheet has {count:,} rows, so it is being prepared in the background. "
                "This page shows its progress and the download link when it is ready.",
            )
            return redirect(job)
    if table == "people" and fmt == "csv":
        response = StreamingHttpResponse(
            people_csv_chunks(user, filters, resolved.schools), content_type="text/csv; charset=utf-8"
        )
        return as_attachment(response, f"{filters.basename(table)}.csv")
    if table == "people":
        sheets = [people_sheet(user, filters, resolved.schools)]
    else:
        chosen = ["schools", "roles", "timeline"] if table == "dashboard" else [table]
        tables = dashboard_tables(user, filters, resolved.schools, chosen)
        sheets = [Sheet(TABLES[name][0], TABLES[name][1](), rows) for name, rows in tables.items()]
    name = filters.basename(table)
    if fmt == "csv":
        sheet = sheets[0]
        response = StreamingHttpResponse(csv_chunks(sheet.columns, sheet.rows), content_type="text/csv; charset=utf-8")
        return as_attachment(response, f"{name}.csv")
    response = FileResponse(xlsx_file(sheets), content_type=XLSX)
    return as_attachment(response, f"{name}.xlsx")


# ---------------------------------------------------------------------------
# Background jobs: bulk archive and detailed PDF
# ---------------------------------------------------------------------------


@login_required
@require_POST
def job_start(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    if kind not in JobKind.values:
        raise Http404("No such report.")
    resolved = _resolve(request, request.POST)
    if resolved.filters is None:
        messages.error(request, "Correct the filters before starting this report.")
        return redirect(_dashboard_url(request.POST.dict()))
    try:
        job, created = job_request(user=request.user, kind=kind, filters=resolved.filters)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_dashboard_url(resolved.params))
    except PermissionDenied:
        raise Http404("No such organisation.") from None
    if created:
        messages.success(
            request, f"{job.get_kind_display()} started. This page shows its progress; you can leave it and come back."
        )
    else:
        messages.info(request, "This report is already being prepared; here is its progress.")
    return redirect(job)


def _own_job(request: AuthenticatedHttpRequest, public_id: UUID) -> ReportJob:
    """Only the person who asked for a job sees it, and only while they may still see the organisation."""
    job = get_object_or_404(
        ReportJob.objects.select_related("organisation", "version__code", "code"), public_id=public_id
    )
    if not can_view_report_job(request.user, requested_by_id=job.requested_by_id, organisation=job.organisation):
        raise Http404("No such report.")
    return job


def _job_state(job: ReportJob) -> dict:
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "percent": job.percent,
        "done": job.progress_done,
        "total": job.progress_total,
        "error": job.error,
        "download_url": reverse("reports:job_download", args=[job.public_id]) if job.status == "done" else "",
        "file_name": job.file_name,
        "size": job.size,
    }


@login_required
def job_detail(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    job = _own_job(request, public_id)
    scope = report_scopes([job])[job.pk]
    return render(request, "reports/job_detail.html", {"job": job, "state": _job_state(job), "scope": scope})


@login_required
def job_status(request: AuthenticatedHttpRequest, public_id: UUID) -> JsonResponse:
    response = JsonResponse(_job_state(_own_job(request, public_id)))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def job_download(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse | StreamingHttpResponse:
    """The finished file, streamed from file storage (the file system or object storage) in chunks."""
    job = _own_job(request, public_id)
    if job.status != "done" or not job.file:
        raise Http404("This file is not ready.")
    content_type = JOB_CONTENT_TYPES.get(job.kind, "application/pdf")
    try:
        return stored_file_download(job.file, filename=job.file_name, content_type=content_type)
    except StoredFileUnavailable as problem:
        return stored_file_unavailable_response(request, problem, what="the report file")


@login_required
def job_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    report_organisations(request.user)  # a 404 for someone who runs no reports
    jobs = ReportJob.objects.for_requester(request.user).select_related("organisation", "version__code")
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "reports/jobs.html", {"page": page, "scopes": report_scopes(page.object_list)})


# ---------------------------------------------------------------------------
# Register of interests
# ---------------------------------------------------------------------------


def _register_organisation(request: AuthenticatedHttpRequest) -> tuple[Organisation, list[Organisation]]:
    options = register_organisations(organisations_for_reports(request.user))
    if not options:
        raise Http404("You do not keep a register for any organisation.")
    wanted = request.GET.get("organisation")
    if wanted:
        organisation = next((org for org in options if str(org.pk) == wanted), None)
        if organisation is None:
            raise Http404("No such organisation.")
        return organisation, options
    return options[0], options


@login_required
def register_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    organisation, options = _register_organisation(request)
    may_publish = can_publish_register(request.user, organisation)
    context = {
        "organisation": organisation,
        "options": options,
        "register": register_for(organisation, today()),
        "publication_form": PublicationForm(instance=organisation) if may_publish else None,
        "public_url": request.build_absolute_uri(reverse("public_governance", args=[organisation.slug])),
        "columns": REGISTER_COLUMNS,
    }
    return render(request, "reports/register.html", context)


@login_required
def register_export(request: AuthenticatedHttpRequest, fmt: str) -> HttpResponseBase:
    organisation, _options = _register_organisation(request)
    if fmt == "pdf":  # drawn by a worker, never inside the request
        filters = ReportFilters(organisation=organisation, as_at=today())
        job, _created = job_request(user=request.user, kind=JobKind.REGISTER_PDF, filters=filters)
        messages.info(request, PDF_IN_BACKGROUND)
        return redirect(job)
    if fmt != "csv":
        raise Http404("No such export.")
    register = register_for(organisation, today())
    name = f"{organisation.slug}-register-of-interests-{register.today.isoformat()}.csv"
    response = StreamingHttpResponse(
        csv_chunks(REGISTER_COLUMNS, register_rows(register)), content_type="text/csv; charset=utf-8"
    )
    return as_attachment(response, name)


@login_required
@require_POST
def register_publication(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=pk)
    if not can_publish_register(request.user, organisation):
        raise Http404("No such organisation.")
    form = PublicationForm(request.POST, instance=organisation)
    if form.is_valid():
        change = register_publication_set(
            organisation=organisation, publish=form.cleaned_data["publish_register"], by=request.user
        )
        if change.published:
            messages.success(request, f"The register of {organisation.name} is now public.")
        else:
            messages.success(
                request, f"The register of {organisation.name} is no longer public; its page now says “not found”."
            )
    return redirect(f"{reverse('reports:register')}?{urlencode({'organisation': organisation.pk})}")


def governance_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The public page: only the published fields, only when the organisation's admin has switched it on."""
    organisation = register_published(slug)
    if organisation is None:
        raise Http404("No published register here.")
    return render(
        request,
        "reports/governance_public.html",
        {"organisation": organisation, "register": register_for(organisation, today(), public=True)},
    )
