"""Background report jobs: bulk archives of signed PDFs and detailed PDF reports.

A job is created by a request, built by a Celery task and downloaded by the
person who asked for it. Its row is the single source of truth for progress:
the task claims it with a conditional UPDATE (so a retried or duplicated task
does nothing), reports progress on it and attaches the finished file.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from conduct.models import Person


class JobKind(models.TextChoices):
    ARCHIVE = "archive", "Archive of signed PDFs"
    DETAILED_PDF = "detailed_pdf", "Detailed PDF report"
    SPREADSHEET = "spreadsheet", "Spreadsheet of people (XLSX)"
    # PDFs are never drawn inside a web request (seconds of a worker each): these too are jobs.
    SUMMARY_PDF = "summary_pdf", "Summary PDF report"
    REGISTER_PDF = "register_pdf", "Register of interests (PDF)"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Waiting to start"
    RUNNING = "running", "In progress"
    DONE = "done", "Ready to download"
    FAILED = "failed", "Failed"


ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING)
# A running job whose worker vanished (killed, redeployed) may be claimed again after this long.
CLAIM_LEASE = timedelta(minutes=15)
# Finished files hold personal data; they are deleted after this long (see reports.jobs.jobs_purge_expired).
JOB_RETENTION = timedelta(days=7)


class ReportJobQuerySet(models.QuerySet):
    def for_requester(self, user: Person) -> ReportJobQuerySet:
        return self.filter(requested_by=user)

    def claimable(self, now: datetime | None = None) -> ReportJobQuerySet:
        now = now or timezone.now()
        return self.filter(Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, claimed_at__lt=now - CLAIM_LEASE))


class ReportJob(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=JobKind.choices)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_jobs")
    organisation = models.ForeignKey("conduct.Organisation", on_delete=models.CASCADE, related_name="report_jobs")
    code = models.ForeignKey("conduct.Code", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(
        "conduct.CodeVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    parameters = models.JSONField(
        default=dict, blank=True, help_text="The report filters (school, role, status, as at)."
    )
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of kind, organisation and filters: one active job per request."
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True, max_length=255)
    file_name = models.CharField(max_length=200, blank=True, help_text="The name the download is saved under.")
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True, help_text="What the file holds, e.g. how many PDFs.")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ReportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requested_by", "-created_at"]), models.Index(fields=["status", "finished_at"])]
        constraints = [
            # A double click or a second tab finds the job already under way instead of starting another.
            models.UniqueConstraint(
                fields=["requested_by", "fingerprint"],
                condition=Q(status__in=["pending", "running"]),
                name="report_job_one_active_per_request",
            ),
            models.CheckConstraint(
                condition=Q(progress_done__lte=F("progress_total")) | Q(progress_total=0),
                name="report_job_progress_within_total",
            ),
            models.CheckConstraint(condition=~Q(status="done") | ~Q(file=""), name="report_job_done_has_file"),
            models.CheckConstraint(
                condition=~Q(kind="archive") | Q(version__isnull=False), name="report_job_archive_has_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.organisation} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("reports:job", args=[self.public_id])

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def as_at(self) -> date | None:
        value = (self.parameters or {}).get("as_at")
        return date.fromisoformat(value) if value else None

    @property
    def expires_at(self) -> datetime | None:
        return (self.finished_at + JOB_RETENTION) if self.finished_at else None
