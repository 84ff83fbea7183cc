"""Background report jobs: the bulk archive of signed PDFs and the detailed PDF, with progress,
claiming (a retried task does no harm), retries, downloads and retention."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, timedelta

import pytest
from celery.exceptions import Retry
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from pypdf import PdfReader

from acknowledgements.models import Acknowledgement, Obligation, SealedPdf
from reports import builders
from reports.archive import MANIFEST_HEADER
from reports.builders import job_run
from reports.jobs import JobLost, job_claim, job_progress, job_request, jobs_purge_expired
from reports.models import CLAIM_LEASE, JOB_RETENTION, JobKind, JobStatus, ReportJob
from reports.selectors import ReportFilters
from reports.tasks import (
    BUILD_MAX_RETRIES,
    STILL_FAILING,
    UNEXPECTED_ERROR,
    build_report_job,
    purge_expired_report_files,
)
from reports.tests.conftest import officer
from reports.tests.factories import days_ago, read_zip, sign
from reports.tests.helpers import status_on

pytestmark = pytest.mark.django_db


def oak_filters(scenario, **extra) -> ReportFilters:
    return ReportFilters(
        organisation=scenario.orgs["trust"],
        as_at=timezone.localdate(),
        code=scenario.code,
        version=scenario.version,
        **extra,
    )


def start(client, kind: str, scenario, **params):
    data = {
        "organisation": scenario.orgs["trust"].pk,
        "code": scenario.code.pk,
        "version": scenario.version.pk,
        **params,
    }
    return client.post(reverse("reports:job_start", args=[kind]), data)


def claimed(job: ReportJob) -> ReportJob:
    """Claim the job as a worker's attempt would, expecting there to be something to claim."""
    attempt = job_claim(job.pk)
    assert attempt is not None, f"job {job.pk} ({job.status}) could not be claimed"
    return attempt


def built(job: ReportJob) -> ReportJob:
    """Run the job as the task would, expecting this attempt to build it (not find it taken or finished)."""
    finished = job_run(job.pk)
    assert finished is not None, f"job {job.pk} was not built by this attempt"
    return finished


def download(client, job: ReportJob) -> bytes:
    response = client.get(reverse("reports:job_download", args=[job.public_id]))
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def manifest(archive) -> list[dict[str, str]]:
    text = archive.read("manifest.csv").decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_archive_holds_every_stored_pdf_byte_for_byte_with_a_manifest(
    oak, elm, client_for, django_capture_on_commit_callbacks
):
    client = client_for(oak.admin)
    unsigned_pdf_less = Obligation.objects.get(person=oak.people["south-2"], version=oak.version)
    no_pdf = sign(unsigned_pdf_less, at=days_ago(1))  # signed, PDF not issued yet
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, "archive", oak)
    job = ReportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.status == JobStatus.DONE and job.progress_done == job.progress_total == 9 and job.attempts == 1
    data = download(client, job)
    assert hashlib.sha256(data).hexdigest() == job.sha256 and len(data) == job.size
    archive = read_zip(data)
    acks = list(Acknowledgement.objects.filter(version=oak.version).select_related("person", "pdf"))
    assert len(acks) == 9
    rows = {row["Verification code"]: row for row in manifest(archive)}
    assert list(manifest(archive)[0]) == MANIFEST_HEADER
    assert set(rows) == {ack.verification_code for ack in acks}
    for ack in acks:
        row = rows[ack.verification_code]
        assert row["Person"] == ack.person.full_name and row["Email"] == ack.person.email
        assert row["Evidence hash"] == ack.evidence_hash
        assert row["Signed at (UTC)"] == ack.signed_at.astimezone(UTC).isoformat(timespec="seconds")
        assert row["Signed at (Europe/London)"] == timezone.localtime(ack.signed_at).isoformat(timespec="seconds")
        if ack.pk == no_pdf.pk:
            assert row["File"] == "" and row["PDF check"] == "no PDF issued yet"
            continue
        stored = ack.pdf.file.open("rb").read()
        assert archive.read(row["File"]) == stored
        assert row["PDF SHA-256"] == ack.pdf.sha256 == hashlib.sha256(stored).hexdigest()
        assert row["PDF check"] == "matches"
        assert row["Role"] in {"Employee (Teacher)", "Volunteer"}
    assert "README.txt" in archive.namelist()
    assert job.summary == {"acknowledgements": 9, "pdfs": 8, "mismatched": 0}
    assert not any("Elm" in name for name in archive.namelist())


def test_archive_reports_a_stored_file_that_no_longer_matches_its_hash(
    oak, client_for, django_capture_on_commit_callbacks
):
    pdf = SealedPdf.objects.select_related("acknowledgement").filter(acknowledgement__version=oak.version).first()
    assert pdf is not None and pdf.file.name and pdf.acknowledgement is not None
    with pdf.file.storage.open(pdf.file.name, "wb") as handle:  # tampering on disk, below the application
        handle.write(b"%PDF-1.7 tampered")
    with django_capture_on_commit_callbacks(execute=True):
        start(client_for(oak.admin), "archive", oak)
    job = ReportJob.objects.get()
    rows = manifest(read_zip(download(client_for(oak.admin), job)))
    flagged = [row for row in rows if row["PDF check"] != "matches" and row["File"]]
    assert [row["Verification code"] for row in flagged] == [pdf.acknowledgement.verification_code]
    assert flagged[0]["PDF check"] == "DOES NOT MATCH the recorded SHA-256"
    assert job.summary["mismatched"] == 1


def test_archive_for_one_school_holds_only_its_pdfs(oak, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        start(client_for(oak.admin), "archive", oak, school=oak.orgs["south"].pk)
    rows = manifest(read_zip(download(client_for(oak.admin), ReportJob.objects.get())))
    assert {row["Organisation"] for row in rows} == {oak.orgs["south"].name} and len(rows) == 2


def test_an_archive_needs_one_version(oak, client_for):
    client = client_for(oak.admin)
    response = start(client, "archive", oak, version="")
    assert response.status_code == 302 and not ReportJob.objects.exists()
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert messages == ["Choose a code version: an archive holds the signed PDFs of one version."]
    with pytest.raises(ValidationError, match="Choose a code version"):
        job_request(
            user=oak.admin,
            kind=JobKind.ARCHIVE,
            filters=ReportFilters(organisation=oak.orgs["trust"], as_at=timezone.localdate(), code=oak.code),
        )


def test_a_double_click_starts_one_job(oak, client_for):
    client = client_for(oak.admin)
    start(client, "archive", oak)  # on-commit callbacks are not run: the job stays pending
    second = start(client, "archive", oak)
    job = ReportJob.objects.get()
    assert second["Location"] == job.get_absolute_url() and job.status == JobStatus.PENDING
    messages = [str(m) for m in client.get(second["Location"]).context["messages"]]
    assert "This report is already being prepared; here is its progress." in messages


def test_a_retried_or_duplicated_task_does_nothing_once_claimed(oak):
    job, created = job_request(user=oak.admin, kind=JobKind.ARCHIVE, filters=oak_filters(oak))
    assert created
    first = job_claim(job.pk)
    assert first is not None and first.status == JobStatus.RUNNING
    assert job_claim(job.pk) is None  # a second delivery finds nothing to claim
    assert job_run(job.pk) is None
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.attempts == 1 and not job.file


def test_a_job_whose_worker_vanished_is_claimed_again_and_the_old_attempt_loses_it(oak):
    job, _ = job_request(user=oak.admin, kind=JobKind.ARCHIVE, filters=oak_filters(oak))
    stale = claimed(job)
    ReportJob.objects.filter(pk=job.pk).update(claimed_at=timezone.now() - CLAIM_LEASE - timedelta(minutes=1))
    finished = built(job)
    assert finished.status == JobStatus.DONE and finished.attempts == 2
    with pytest.raises(JobLost):
        job_progress(stale, done=1, total=2)  # the stale attempt can no longer write to the row
    assert job_run(job.pk) is None  # and a finished job is never built again


def failing_builder(monkeypatch, error: Exception, *, times: int | None = None) -> list[int]:
    """Make the archive builder raise ``error`` (the first ``times`` calls, or always); returns each call's attempt."""
    calls: list[int] = []
    real = builders.BUILDERS[JobKind.ARCHIVE]

    def builder(job: ReportJob) -> None:
        calls.append(job.attempts)
        if times is None or len(calls) <= times:
            raise error
        real(job)

    monkeypatch.setitem(builders.BUILDERS, JobKind.ARCHIVE, builder)
    return calls


def test_a_transient_error_releases_the_job_and_the_task_retries_with_backoff(oak, monkeypatch):
    calls = failing_builder(monkeypatch, OSError("disk briefly unavailable"), times=1)
    job, _ = job_request(user=oak.admin, kind=JobKind.ARCHIVE, filters=oak_filters(oak), enqueue=False)
    with pytest.raises(Retry) as raised:
        build_report_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.error == ""  # handed back, to be claimed again
    when = raised.value.when
    assert isinstance(when, int) and 0 <= when <= 10  # the project's backoff: up to 10 s at first, with jitter
    assert isinstance(raised.value.exc, OSError)
    build_report_job.apply(args=[job.pk], retries=1)  # what the worker does when the countdown ends
    job.refresh_from_db()
    assert calls == [1, 2] and job.status == JobStatus.DONE and job.attempts == 2


def test_a_transient_error_at_the_last_retry_fails_the_job_with_a_message(oak, monkeypatch):
    calls = failing_builder(monkeypatch, OSError("disk still unavailable"))
    job, _ = job_request(user=oak.admin, kind=JobKind.ARCHIVE, filters=oak_filters(oak), enqueue=False)
    ReportJob.objects.filter(pk=job.pk).update(attempts=BUILD_MAX_RETRIES)  # the earlier deliveries' claims
    build_report_job.apply(args=[job.pk], retries=BUILD_MAX_RETRIES)  # no Retry raised: nothing is left to try
    job.refresh_from_db()
    assert calls == [BUILD_MAX_RETRIES + 1]
    assert job.status == JobStatus.FAILED and job.error == STILL_FAILING and job.finished_at is not None


@pytest.mark.parametrize(
    "error",
    [ValueError("unexpected"), IntegrityError("a bug, not a lost connection")],
    ids=["programming error", "integrity error"],
)
def test_an_error_no_retry_would_mend_fails_the_job_at_once_with_a_message(
    oak, monkeypatch, django_capture_on_commit_callbacks, error
):
    calls = failing_builder(monkeypatch, error)
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = job_request(user=oak.admin, kind=JobKind.ARCHIVE, filters=oak_filters(oak))
    job.refresh_from_db()
    assert calls == [1]  # not retried
    assert job.status == JobStatus.FAILED and job.error == UNEXPECTED_ERROR and job.finished_at is not None


def test_a_broker_that_cannot_be_reached_leaves_the_job_saved_and_the_page_working(
    oak, client_for, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    sent: list[tuple] = []

    def broker_away(args: tuple = (), kwargs: dict | None = None, **options: object) -> None:
        sent.append(args)
        raise KombuOperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(build_report_job, "apply_async", broker_away)
    monkeypatch.setattr("core.tasks._runs_here", lambda task: False)  # sent to a broker, as in production
    with django_capture_on_commit_callbacks(execute=True):
        job, created = job_request(user=oak.admin, kind=JobKind.ARCHIVE, filters=oak_filters(oak))
    assert created and sent == [(job.pk,)]
    assert ReportJob.objects.get().status == JobStatus.PENDING  # committed; it waits for the message to be sent again
    assert "Could not queue reports.tasks.build_report_job" in caplog.text
    ReportJob.objects.all().delete()
    client = client_for(oak.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, "archive", oak)
    job = ReportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.status == JobStatus.PENDING and len(sent) == 2
    assert client.get(response["Location"]).status_code == 200


def test_progress_is_shown_in_the_page_and_as_json(oak, client_for):
    client = client_for(oak.admin)
    start(client, "archive", oak)
    job = ReportJob.objects.get()
    attempt = claimed(job)
    job_progress(attempt, done=3, total=9)
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="job-progress" value="33" max="100"' in page and "In progress: 3 of 9" in page  # a <progress>
    assert f'data-status-url="{reverse("reports:job_status", args=[job.public_id])}"' in page
    assert "js/report-job.js" in page
    state = client.get(reverse("reports:job_status", args=[job.public_id])).json()
    assert state == {
        "status": "running",
        "status_label": "In progress",
        "percent": 33,
        "done": 3,
        "total": 9,
        "error": "",
        "download_url": "",
        "file_name": "",
        "size": 0,
    }
    assert client.get(reverse("reports:job_download", args=[job.public_id])).status_code == 404  # not ready yet
    job_run_after_release(attempt)
    state = client.get(reverse("reports:job_status", args=[job.public_id])).json()
    assert state["status"] == "done" and state["percent"] == 100
    assert state["download_url"] == reverse("reports:job_download", args=[job.public_id])


def job_run_after_release(job: ReportJob) -> ReportJob:
    ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.PENDING)
    return built(job)


def test_detailed_pdf_lists_everyone_school_by_school(oak, client_for, django_capture_on_commit_callbacks):
    client = client_for(oak.admin)
    with django_capture_on_commit_callbacks(execute=True):
        start(client, "detailed_pdf", oak, as_at=timezone.localdate().isoformat())
    job = ReportJob.objects.get()
    assert job.status == JobStatus.DONE and job.file_name.endswith(
        f"-detailed-as-at-{timezone.localdate().isoformat()}.pdf"
    )
    reader = PdfReader(io.BytesIO(download(client, job)))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]  # table cells wrap names
    text = " ".join(pages)
    today = timezone.localdate()
    for obligation in oak.obligations():
        status = status_on(obligation, today)
        if status:
            assert obligation.person.full_name in text
    north_page = next(page for page in pages if page.startswith(oak.orgs["north"].name))
    assert oak.people["north-0"].full_name in north_page and oak.people["south-0"].full_name not in north_page
    assert job.summary == {"people": 14, "schools": 3}


def test_detailed_pdf_progress_counts_towards_the_people_of_the_chosen_status(oak, monkeypatch):
    """With a status filter the bar counts the people listed, not everyone owing (it used to stop short, then jump)."""
    calls = []
    real_progress = builders.job_progress

    def recorded(job, *, done, total):
        calls.append((done, total))
        real_progress(job, done=done, total=total)

    monkeypatch.setattr(builders, "job_progress", recorded)
    job, _ = job_request(
        user=oak.admin, kind=JobKind.DETAILED_PDF, filters=oak_filters(oak, status="signed"), enqueue=False
    )
    finished = built(job)
    signed = sum(status_on(obligation, timezone.localdate()) == "signed" for obligation in oak.obligations())
    assert finished.summary["people"] == signed < 14
    assert {total for _done, total in calls} == {2 * signed + 1}
    assert (signed, 2 * signed + 1) in calls  # every row gathered: half the bar, before rendering


def test_a_detailed_pdf_too_big_to_read_is_refused_with_advice(oak, client_for, monkeypatch):
    monkeypatch.setattr("reports.jobs.DETAILED_PDF_MAX_ROWS", 10)
    client = client_for(oak.admin)
    response = start(client, "detailed_pdf", oak)
    assert not ReportJob.objects.exists()
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert any(
        "lists 14 people, more than a PDF can usefully hold (10)" in m and "export CSV or XLSX" in m for m in messages
    )


def test_only_the_requester_can_see_or_download_a_job(oak, elm, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        start(client_for(oak.admin), "archive", oak)
    job = ReportJob.objects.get()
    colleague = client_for(officer(oak.orgs["trust"]))
    for name in ("reports:job", "reports:job_status", "reports:job_download"):
        link = reverse(name, args=[job.public_id])
        assert client_for(oak.admin).get(link).status_code == 200
        assert colleague.get(link).status_code == 404
        assert client_for(elm.admin).get(link).status_code == 404
        assert client_for(oak.teacher).get(link).status_code == 404
    # Someone whose admin role ends loses the download too.
    oak.admin.roles.update(ends_on=timezone.localdate() - timedelta(days=1))
    assert client_for(oak.admin).get(reverse("reports:job_download", args=[job.public_id])).status_code == 404


def test_job_list_shows_only_my_jobs(oak, elm, client_for):
    job_request(user=oak.admin, kind=JobKind.ARCHIVE, filters=oak_filters(oak))
    job_request(user=elm.admin, kind=JobKind.ARCHIVE, filters=oak_filters(elm))
    page = client_for(oak.admin).get(reverse("reports:jobs"))
    assert [job.organisation for job in page.context["page"].object_list] == [oak.orgs["trust"]]
    assert "Elm Trust" not in page.content.decode()


def test_finished_files_are_deleted_after_the_retention_period(oak):
    job, _ = job_request(user=oak.admin, kind=JobKind.ARCHIVE, filters=oak_filters(oak))
    finished = built(job)
    storage, name = finished.file.storage, finished.file.name
    assert name and storage.exists(name)
    assert jobs_purge_expired(now=timezone.now() + JOB_RETENTION - timedelta(hours=1)) == 0
    assert jobs_purge_expired(now=timezone.now() + JOB_RETENTION + timedelta(hours=1)) == 1
    assert not storage.exists(name) and not ReportJob.objects.exists()


def test_the_daily_task_purges_expired_files_and_keeps_recent_ones(oak, elm):
    expired = built(job_request(user=oak.admin, kind=JobKind.ARCHIVE, filters=oak_filters(oak))[0])
    recent = built(job_request(user=elm.admin, kind=JobKind.ARCHIVE, filters=oak_filters(elm))[0])
    ReportJob.objects.filter(pk=expired.pk).update(finished_at=timezone.now() - JOB_RETENTION - timedelta(minutes=1))
    assert purge_expired_report_files.apply().get() == 1
    assert expired.file.name and not expired.file.storage.exists(expired.file.name)
    assert list(ReportJob.objects.all()) == [recent]
    assert recent.file.name and recent.file.storage.exists(recent.file.name)


def test_a_job_row_refuses_inconsistent_states(oak):
    job, _ = job_request(user=oak.admin, kind=JobKind.ARCHIVE, filters=oak_filters(oak))
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE)  # done without a file
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportJob.objects.filter(pk=job.pk).update(progress_done=5, progress_total=4)
    job.file.save("x.zip", ContentFile(b"x"), save=False)
    assert ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE, file=job.file.name) == 1


def test_a_long_people_spreadsheet_is_prepared_in_the_background(
    oak, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    from openpyxl import load_workbook

    monkeypatch.setattr("reports.views.XLSX_NOW_MAX_ROWS", 5)
    client = client_for(oak.admin)
    link = (
        reverse("reports:export", args=["people", "xlsx"])
        + f"?organisation={oak.orgs['trust'].pk}&version={oak.version.pk}"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(link)
    job = ReportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.kind == JobKind.SPREADSHEET and job.status == JobStatus.DONE and job.summary == {"rows": 14}
    page = client.get(job.get_absolute_url())
    assert any("has 14 rows, so it is being prepared in the background" in str(m) for m in page.context["messages"])
    assert "14 rows." in page.content.decode()
    download = client.get(reverse("reports:job_download", args=[job.public_id]))
    assert download["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content)))["People"]
    assert sheet.max_row == 15 and sheet.freeze_panes == "A2"
    monkeypatch.setattr("reports.views.XLSX_NOW_MAX_ROWS", 100)
    assert client.get(link)["Content-Type"].startswith("application/vnd.openxmlformats")  # short lists come at once
