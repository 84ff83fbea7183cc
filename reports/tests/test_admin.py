"""Report jobs in the Django admin: listed and searchable, never added or edited there."""

import pytest
from django.urls import reverse

from conduct.tests.factories import PersonFactory
from reports.jobs import job_request
from reports.models import JobKind
from reports.selectors import ReportFilters

pytestmark = pytest.mark.django_db


def test_report_jobs_are_listed_read_only(oak, client_for):
    from django.utils import timezone

    job, _ = job_request(
        user=oak.admin,
        kind=JobKind.ARCHIVE,
        filters=ReportFilters(
            organisation=oak.orgs["trust"], as_at=timezone.localdate(), code=oak.code, version=oak.version
        ),
    )
    operator = client_for(PersonFactory.create(is_staff=True, is_superuser=True))
    listing = operator.get(reverse("admin:reports_reportjob_changelist") + "?q=" + oak.admin.email)
    assert listing.status_code == 200 and oak.orgs["trust"].name in listing.content.decode()
    assert operator.get(reverse("admin:reports_reportjob_add")).status_code == 403
    change = operator.get(reverse("admin:reports_reportjob_change", args=[job.pk])).content.decode()
    assert 'name="_save"' not in change
