"""A report's filters, resolved to what the user may see: the permission check of every report page.

Any id the user may not see (organisation, code, version, school) is a 404, never a hint that
it exists. One they may see that does not apply to the organisation now chosen (they changed
the organisation in the form) is dropped, and ``ResolvedFilters.dropped`` names it, so the
page can say why. The first visit opens on the user's first organisation and its own (or
nearest) code, at the version in force. The access rules are ``conduct.permissions``' own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.http import Http404

from conduct.models import Code, CodeVersion, Organisation, Person, VersionStatus
from conduct.permissions import can_report_on_school, organisations_for_reports, reports_reach_path
from reports.forms import DashboardFilterForm
from reports.selectors import ReportFilters, SchoolMap, relevant_codes, reported_versions, school_map, today


@dataclass
class ResolvedFilters:
    organisation: Organisation  # the one chosen (or the user's first)
    form: DashboardFilterForm
    filters: ReportFilters | None  # None if the form is invalid (e.g. a day in the future)
    schools: SchoolMap
    dropped: list[str]  # "code", "school": choices that did not apply to the organisation and were let go

    @property
    def params(self) -> dict[str, str]:
        return self.filters.as_params() if self.filters else {}


def report_organisations(user: Person) -> list[Organisation]:
    """The organisations the user runs reports for, in tree order; a 404 if there are none."""
    organisations = list(organisations_for_reports(user))
    if not organisations:
        raise Http404("You do not run reports for any organisation.")
    return organisations


def report_filters_resolve(user: Person, params: Mapping[str, object]) -> ResolvedFilters:
    """The filter form (bound to ``params``, a query string or a POST) for what ``user`` may see."""
    data = {key: str(value) for key, value in params.items()}
    organisations = report_organisations(user)
    by_id = {str(org.pk): org for org in organisations}
    if data.get("organisation") and data["organisation"] not in by_id:
        raise Http404("No such organisation.")
    organisation = by_id.get(data.get("organisation") or "", organisations[0])
    data["organisation"] = str(organisation.pk)
    codes = list(relevant_codes(organisation))
    versions = list(reported_versions(relevant_codes(organisation)))
    dropped = _drop_codes_elsewhere(user, data, codes, versions)
    if "code" not in data and "version" not in data and codes:
        _open_on_own_code(data, codes, versions)
    data["as_at"] = data.get("as_at") or today().isoformat()
    schools = school_map(ReportFilters(organisation=organisation, as_at=_parse_day(data["as_at"])))
    if _drop_school_elsewhere(user, data, schools):
        dropped.append("school")
    form = DashboardFilterForm(
        data, organisations=organisations, codes=codes, versions=versions, school_choices=schools.choices()
    )
    return ResolvedFilters(
        organisation=organisation,
        form=form,
        filters=form.filters() if form.is_valid() else None,
        schools=schools,
        dropped=dropped,
    )


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value) if value else today()
    except ValueError:
        return today()  # the form reports the bad date; the school list is built as at today meanwhile


def _open_on_own_code(data: dict[str, str], codes: list[Code], versions: list[CodeVersion]) -> None:
    """First visit (or a new organisation): its own (or nearest) code, at its adopted version."""
    data["code"] = str(codes[0].pk)
    current = [version for version in versions if version.code_id == codes[0].pk]
    chosen = next((v for v in current if v.status == VersionStatus.ADOPTED), current[0] if current else None)
    data["version"] = str(chosen.pk) if chosen else ""


def _drop_codes_elsewhere(
    user: Person, data: dict[str, str], codes: list[Code], versions: list[CodeVersion]
) -> list[str]:
    """Code and version ids that do not apply to the chosen organisation: dropped if the user reports
    on the organisation that owns them (``reports_reach_path``), otherwise a 404. Returns what was dropped."""
    chosen = {"code": data.get("code") or "", "version": data.get("version") or ""}
    known = {"code": {str(code.pk) for code in codes}, "version": {str(version.pk) for version in versions}}
    if all(not value or value in known[name] for name, value in chosen.items()):
        return []
    owner_paths = {
        "code": Code.objects.values_list("owner__path", flat=True),
        "version": CodeVersion.objects.values_list("code__owner__path", flat=True),
    }
    paths = [
        owner_paths[name].filter(pk=value).first() if value.isdigit() else None
        for name, value in chosen.items()
        if value and value not in known[name]
    ]
    if not all(path and reports_reach_path(user, path) for path in paths):
        raise Http404("No such code here.")
    data.pop("code", None)
    data.pop("version", None)
    return ["code"]


def _drop_school_elsewhere(user: Person, data: dict[str, str], schools: SchoolMap) -> bool:
    """A school not on the chosen organisation's list: dropped (True) if the user reports on it, else a 404."""
    school = data.get("school")
    if not school or school in {value for value, _label in schools.choices()}:
        return False
    if not (school.isdigit() and can_report_on_school(user, int(school))):
        raise Http404("No such school here.")
    data.pop("school")
    return True
