"""Report PDFs (PDF/A through the shared ``acknowledgements.documents.render_pdf``).

- The **summary** (rendered while the user waits): the headline numbers, the
  charts and the three tables, then a page per school with its numbers by role.
- The **detailed** report (a background job): the same, plus on each school's
  page the people behind the numbers.
- The **register** of interests.

Reports are not evidence, so they are not sealed; what they show can always
be recomputed from the evidence, and the dashboard says "as at" which day.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from conduct.models import role_label
from core.pdf import render_template_pdf
from reports.charts import school_bars, timeline_line
from reports.register import Register
from reports.selectors import (
    NO_SCHOOL,
    STATUSES,
    Dashboard,
    ReportFilters,
    SchoolMap,
    dashboard,
    people_rows,
)

ROWS_PER_PROGRESS = 200


def _describe(filters: ReportFilters, schools_label: str = "") -> list[tuple[str, str]]:
    """The filters, in words, printed at the top of every report."""
    return [
        ("Organisation", filters.organisation.name),
        ("Code", filters.code.title if filters.code else "All codes"),
        ("Version", filters.version.label if filters.version else "All versions"),
        ("School", schools_label or "All schools"),
        ("Role", role_label(filters.role) if filters.role else "All roles"),
        ("People listed", STATUSES.get(filters.status, "Every status")),
        ("As at", f"{filters.as_at:%-d %B %Y} (end of day, Europe/London)"),
    ]


def _context(user, board: Dashboard) -> dict:
    filters = board.filters
    school_label = ""
    if filters.school:
        school_label = board.schools.label(None if filters.school == NO_SCHOOL else int(filters.school))
    return {
        "board": board,
        "filters": _describe(filters, school_label),
        "school_chart": school_bars(board.by_school, chart_id="pdf-schools"),
        "timeline_chart": timeline_line(board.timeline, chart_id="pdf-timeline"),
        "generated_at": timezone.localtime(),
        "generated_by": user.full_name,
        "site_name": settings.SITE_NAME,
    }


def _render(context: dict, *, title: str, subject: str) -> bytes:
    return render_template_pdf(
        "pdf/report_dashboard.html", context, title=title, author=settings.SITE_NAME, subject=subject
    )


def summary_pdf(user, filters: ReportFilters, schools: SchoolMap | None = None) -> tuple[bytes, str]:
    """``schools``: the map the caller already built for these filters (it is worked out otherwise)."""
    board = dashboard(user, filters, schools)
    title = f"Compliance report: {filters.organisation.name}"
    content = _render(
        {**_context(user, board), "detailed": False}, title=title, subject="Code of conduct signatures: summary"
    )
    return content, f"{filters.basename('summary')}.pdf"


def detailed_pdf(user, board: Dashboard, *, progress: Callable[[int, int], None]) -> tuple[bytes, str, dict]:
    """The summary plus everyone behind the numbers, school by school. Reports progress as it goes."""
    filters = board.filters
    total_rows = board.listed  # the people of the status chosen: exactly the rows gathered below
    # Gathering rows is the first half of the bar; rendering is the second.
    total = 2 * total_rows + 1
    progress(0, total)
    by_school: dict[str, list] = {row.key: [] for row in board.by_school}
    done = 0
    for row in people_rows(user, filters, board.schools):
        by_school.setdefault(row.school_key, []).append(row)
        done += 1
        if done % ROWS_PER_PROGRESS == 0:
            progress(min(done, total_rows), total)
    progress(total_rows, total)
    title = f"Compliance report (detailed): {filters.organisation.name}"
    context = {**_context(user, board), "detailed": True, "people_by_school": by_school}
    content = _render(context, title=title, subject="Code of conduct signatures: everyone, school by school")
    progress(total, total)
    return content, f"{filters.basename('detailed')}.pdf", {"people": done, "schools": len(board.by_school)}


def register_pdf(register: Register) -> tuple[bytes, str]:
    title = f"Register of interests: {register.organisation.name}"
    content = render_template_pdf(
        "pdf/report_register.html",
        {"register": register, "generated_at": timezone.localtime(), "site_name": settings.SITE_NAME},
        title=title,
        author=settings.SITE_NAME,
        subject="Governance: who served in the last 12 months, their attendance and declared interests",
    )
    return content, f"{register.organisation.slug}-register-of-interests-{register.today.isoformat()}.pdf"
