"""Independent arithmetic for report tests: counts worked out in Python from the rows themselves,
with calendar dates in London rather than the selectors' SQL conditions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acknowledgements.models import Obligation


def status_on(obligation: Obligation, day: date) -> str | None:
    """None if not owed on ``day``; else signed / outstanding / overdue."""
    if obligation.owed_from > day:
        return None
    if obligation.role.ends_on is not None and obligation.role.ends_on < day:
        return None
    if obligation.superseded_at is not None and timezone.localtime(obligation.superseded_at).date() <= day:
        return None
    if obligation.acknowledged_at is not None and timezone.localtime(obligation.acknowledged_at).date() <= day:
        return "signed"
    return "overdue" if obligation.due_on < day else "outstanding"


def expected(obligations: Iterable[Obligation], day: date, key: Callable[[Obligation], str] | None = None) -> dict:
    """{key: Counter(owe=…, signed=…, outstanding=…, overdue=…)}; key None groups everything under "all"."""
    result: dict[str, Counter] = {}
    for obligation in obligations:
        status = status_on(obligation, day)
        if status is None:
            continue
        counter = result.setdefault(key(obligation) if key else "all", Counter())
        counter["owe"] += 1
        counter[status] += 1
    return result


def as_numbers(counts) -> dict[str, int]:
    """A selectors.Counts as the same dictionary shape as ``expected``."""
    return {"owe": counts.owe, "signed": counts.signed, "outstanding": counts.outstanding, "overdue": counts.overdue}


def counter_numbers(counter: Counter) -> dict[str, int]:
    return {name: counter.get(name, 0) for name in ("owe", "signed", "outstanding", "overdue")}


def query_count(client, url: str, **kwargs) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, **kwargs)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    assert response.status_code == 200, response.status_code
    return len(context.captured_queries)


def built_in_background(client, response, kind: str) -> bytes:
    """A PDF asked for by a download link: the request only queued a job (nothing drawn in it) and sent the user to
    its page; build it as the worker would and return what the job's download link then serves."""
    from django.urls import reverse

    from reports.builders import job_run
    from reports.models import JobStatus, ReportJob

    job = ReportJob.objects.get(kind=kind)
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.status == JobStatus.PENDING and not job.file  # nothing rendered in the request
    assert job_run(job.pk) is not None
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    download = client.get(reverse("reports:job_download", args=[job.public_id]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    return b"".join(download.streaming_content)
