from django.contrib import admin
from django.http import HttpRequest

from reports.models import ReportJob


@admin.register(ReportJob)
class ReportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are made by the report pages and finished by their task."""

    list_display = (
        "kind",
        "organisation",
        "version",
        "requested_by",
        "status",
        "progress_done",
        "progress_total",
        "created_at",
        "finished_at",
    )
    list_filter = ("kind", "status")
    search_fields = ("requested_by__email", "organisation__name", "file_name")
    date_hierarchy = "created_at"
    list_select_related = ("organisation", "version__code", "requested_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReportJob | None = None) -> bool:
        return False
