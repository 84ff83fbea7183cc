"""Report pages. Each view: resolve what the user may see (404 otherwise), one call into the read or
write side, then a render, a file or a redirect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from conduct.models import (
    Code,
    CodeVersion,
    NetworkMembership,
    Organisation,
    VersionStatus,
    role_label,
)
from conduct.permissions import Action, can, organisations_for
from core.downloads import as_attachment
from reports.charts import school_bars, timeline_line
from reports.documents import register_pdf, summary_pdf
from reports.exports import (
    REGISTER_COLUMNS,
    TABLES,
    Sheet,
    column_docs,
    csv_chunks,
    people_columns,
    record_url_builder,
    register_rows,
    xlsx_file,
)
from reports.forms import DashboardFilterForm, PublicationForm
from reports.jobs import job_request
from reports.models import JobKind, ReportJob
from reports.publication import register_publication_set
from reports.register import register_for, register_organisations, register_published
from reports.selectors import (
    STATUSES,
    ReportFilters,
    SchoolMap,
    dashboard,
    dashboard_tables,
    people,
    people_rows,
    person_row,
    relevant_codes,
    reported_versions,
    school_map,
    today,
)

PEOPLE_PER_PAGE = 50
XLSX_NOW_MAX_ROWS = (
    10_000  # a longer people spreadsheet is written in the background (it takes seconds per 10,000 rows)
)
JOBS_PER_PAGE = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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


@dataclass
class Resolved:
    form: DashboardFilterForm
    filters: ReportFilters | None
    schools: SchoolMap

    @property
    def params(self) -> dict[str, str]:
        return self.filters.as_params() if self.filters else {}


def _reachable(user) -> list[Organisation]:
    organisations = list(organisations_for(user, Action.VIEW_REPORTS).order_by("path"))
    if not organisations:
        raise Http404("You do not run reports for any organisation.")
    return organisations


def _parse_day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else today()
    except ValueError:
        return today()


def _resolve(request: HttpRequest, data: QueryDict | None = None) -> Resolved:
    """The filter form for what the user may see. Any id they may not see (organisation, code,
    version, school) is a 404, never a hint that it exists. One they may see but that does not
    apply to the organisation now chosen (the organisation was changed in the form) is dropped."""
    data = (data if data is not None else request.GET).copy()
    organisations = _reachable(request.user)
    by_id = {str(org.pk): org for org in organisations}
    if data.get("organisation") and data["organisation"] not in by_id:
        raise Http404("No such organisation.")
    organisation = by_id.get(data.get("organisation") or "", organisations[0])
    data["organisation"] = str(organisation.pk)
    codes = list(relevant_codes(organisation))
    versions = list(reported_versions(relevant_codes(organisation)))
    stale = _drop_stale_choices(data, organisations, codes, versions)
    if "code" not in data and "version" not in data and codes:
        # First visit (or a new organisation): its own (or nearest) code, at its current version.
        data["code"] = str(codes[0].pk)
        current = [v for v in versions if v.code_id == codes[0].pk]
        chosen = next((v for v in current if v.status == VersionStatus.ADOPTED), current[0] if current else None)
        data["version"] = str(chosen.pk) if chosen else ""
    if not data.get("as_at"):
        data["as_at"] = today().isoformat()
    schools = school_map(ReportFilters(organisation=organisation, as_at=_parse_day(data.get("as_at"))))
    if data.get("school") and data["school"] not in {value for value, _ in schools.choices()}:
        if not _school_known(data["school"], organisations):
            raise Http404("No such school here.")
        data.pop("school")
        stale.append("school")
    if stale:
        messages.info(
            request,
            f"The {' and '.join(stale)} chosen before do not apply to {organisation.name}; showing all of it instead.",
        )
    form = DashboardFilterForm(
        data, organisations=organisations, codes=codes, versions=versions, school_choices=schools.choices()
    )
    return Resolved(form=form, filters=form.filters() if form.is_valid() else None, schools=schools)


def _drop_stale_choices(data: QueryDict, organisations, codes, versions) -> list[str]:
    """Code and version ids that do not apply to the chosen organisation: dropped if the user may see
    them under another of their organisations, otherwise a 404. Returns what was dropped."""
    chosen = {"code": data.get("code") or "", "version": data.get("version") or ""}
    known = {"code": {str(code.pk) for code in codes}, "version": {str(version.pk) for version in versions}}
    if all(not value or value in known[name] for name, value in chosen.items()):
        return []
    lookups = {
        "code": Code.objects.values_list("owner__path", flat=True),
        "version": CodeVersion.objects.values_list("code__owner__path", flat=True),
    }
    paths = [
        lookups[name].filter(pk=value).first() if value.isdigit() else None
        for name, value in chosen.items()
        if value and value not in known[name]
    ]
    if not all(
        path and any(org.path.startswith(path) or path.startswith(org.path) for org in organisations) for path in paths
    ):
        raise Http404("No such code here.")
    data.pop("code", None)
    data.pop("version", None)
    return ["code"]


def _school_known(school_id: str, organisations) -> bool:
    """A school the user reaches, or a member school of a network they reach."""
    if not school_id.isdigit():
        return False
    if any(str(org.pk) == school_id for org in organisations):
        return True
    networks = [org.pk for org in organisations if org.kind in ("network", "hub")]
    return NetworkMembership.objects.filter(school_id=school_id, network_id__in=networks).exists()


def _dashboard_url(params: dict[str, str]) -> str:
    return f"{reverse('reports:dashboard')}?{urlencode(params)}" if params else reverse("reports:dashboard")


# ---------------------------------------------------------------------------
# Dashboard and drill-down
# ---------------------------------------------------------------------------


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
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
def people_view(request: HttpRequest) -> HttpResponse:
    resolved = _resolve(request)
    if resolved.filters is None:
        return render(
            request,
            "reports/dashboard.html",
            {"form": resolved.form, "params": {}, "columns": column_docs()},
            status=400,
        )
    filters = resolved.filters
    paginator = Paginator(people(request.user, filters, resolved.schools), PEOPLE_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
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
        },
    )


# ---------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------


@login_required
def export_view(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    if (table, fmt) not in EXPORTS:
        raise Http404("No such export.")
    resolved = _resolve(request)
    if resolved.filters is None:
        return redirect(_dashboard_url(request.GET.dict()))
    filters, user = resolved.filters, request.user
    if table == "summary":
        content, name = summary_pdf(user, filters, resolved.schools)
        return as_attachment(HttpResponse(content, content_type="application/pdf"), name)
    if table == "people" and fmt == "xlsx":
        count = people(user, filters, resolved.schools).count()
        if count > XLSX_NOW_MAX_ROWS:
            job, _created = job_request(user=user, kind=JobKind.SPREADSHEET, filters=filters)
            messages.info(
                request,
                f"This spreadsheet has {count:,} rows, so it is being prepared in the background. "
                "This page shows its progress and the download link when it is ready.",
            )
            return redirect(job)
    if table == "people":
        sheets = [Sheet("People", people_columns(), people_rows(user, filters, resolved.schools))]
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
def job_start(request: HttpRequest, kind: str) -> HttpResponse:
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
        raise Http404("No such organisation.")
    if created:
        messages.success(
            request, f"{job.get_kind_display()} started. This page shows its progress; you can leave it and come back."
        )
    else:
        messages.info(request, "This report is already being prepared; here is its progress.")
    return redirect(job)


def _own_job(request: HttpRequest, public_id) -> ReportJob:
    """Only the person who asked for a job sees it, and only while they may still see the organisation."""
    job = get_object_or_404(
        ReportJob.objects.select_related("organisation", "version__code", "code"),
        public_id=public_id,
        requested_by=request.user,
    )
    if not can(request.user, Action.VIEW_REPORTS, job.organisation):
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
def job_detail(request: HttpRequest, public_id) -> HttpResponse:
    job = _own_job(request, public_id)
    return render(request, "reports/job_detail.html", {"job": job, "state": _job_state(job)})


@login_required
def job_status(request: HttpRequest, public_id) -> JsonResponse:
    response = JsonResponse(_job_state(_own_job(request, public_id)))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def job_download(request: HttpRequest, public_id) -> FileResponse:
    job = _own_job(request, public_id)
    if job.status != "done" or not job.file:
        raise Http404("This file is not ready.")
    content_type = {JobKind.ARCHIVE: "application/zip", JobKind.SPREADSHEET: XLSX}.get(job.kind, "application/pdf")
    response = FileResponse(job.file.open("rb"), content_type=content_type)
    as_attachment(response, job.file_name)
    return response


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    _reachable(request.user)
    jobs = ReportJob.objects.for_requester(request.user).select_related("organisation", "version__code")
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "reports/jobs.html", {"page": page})


# ---------------------------------------------------------------------------
# Register of interests
# ---------------------------------------------------------------------------


def _register_organisation(request: HttpRequest) -> tuple[Organisation, list[Organisation]]:
    options = register_organisations(organisations_for(request.user, Action.VIEW_REPORTS))
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
def register_view(request: HttpRequest) -> HttpResponse:
    organisation, options = _register_organisation(request)
    may_publish = can(request.user, Action.PUBLISH_REGISTER, organisation)
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
def register_export(request: HttpRequest, fmt: str) -> HttpResponse:
    organisation, _options = _register_organisation(request)
    register = register_for(organisation, today())
    if fmt == "pdf":
        content, name = register_pdf(register)
        return as_attachment(HttpResponse(content, content_type="application/pdf"), name)
    if fmt != "csv":
        raise Http404("No such export.")
    name = f"{organisation.slug}-register-of-interests-{register.today.isoformat()}.csv"
    response = StreamingHttpResponse(
        csv_chunks(REGISTER_COLUMNS, register_rows(register)), content_type="text/csv; charset=utf-8"
    )
    return as_attachment(response, name)


@login_required
@require_POST
def register_publication(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=pk)
    if not can(request.user, Action.PUBLISH_REGISTER, organisation):
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
        {"organisation": organisation, "register": register_for(organisation, today())},
    )
