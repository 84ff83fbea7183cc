"""The reminder log: one row per reminder to one person about one thing at one step."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ReminderKind(models.TextChoices):
    REVIEW = "review", "Review due"
    SIGNING = "signing", "Signature owed"
    ESCALATION = "escalation", "Outstanding digest"
    DECLARATION = "declaration", "Declaration of interests lapsed"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Refused by the mail server"
    GIVEN_UP = "given_up", "Given up after repeated errors"
    SKIPPED = "skipped", "Not needed"


# What officers are shown as a delivery problem (the reminder log, the person's page).
PROBLEM_STATUSES = (ReminderStatus.FAILED, ReminderStatus.GIVEN_UP)


class ReminderLog(models.Model):
    """One reminder to one person about one thing at one step; claimed before it is sent.

    The unique key (recipient, subject, step) is what makes planning idempotent:
    a second planner, a retried task or a rerun of the day inserts nothing new.
    Sending claims a row with a conditional UPDATE (pending → sending) before
    the message leaves, so two workers never send the same row
    (``reminders.sending``).
    """

    # No index of its own: the unique key (recipient, subject, step) starts with it and serves every lookup.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders", db_index=False
    )
    kind = models.CharField(max_length=12, choices=ReminderKind.choices)
    subject = models.CharField(max_length=120, help_text='What it is about, e.g. "obligation:42".')
    step = models.CharField(max_length=40, help_text='Which step, e.g. "before-7", "due", "overdue-2".')
    organisation = models.ForeignKey(
        "conduct.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # No index: a code with reminders has adopted versions, which protect it from deletion, and nothing
    # looks reminders up by code; an index would only slow the planner's inserts.
    code = models.ForeignKey(
        "conduct.Code", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # What the reminder is about, so sending can check it is still needed and say what is owed.
    obligation = models.ForeignKey(
        "acknowledgements.Obligation", null=True, blank=True, on_delete=models.SET_NULL, related_name="reminders"
    )
    adoption = models.ForeignKey("conduct.Adoption", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_on = models.DateField(null=True, blank=True, help_text="When what it is about is (or was) due.")
    planned_for = models.DateField()
    status = models.CharField(max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="Why it was not needed, when skipped.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-planned_for", "-created_at"]
        # Few indexes on purpose: the daily planner may insert 100,000 rows at once. Lookups by
        # (recipient, subject) use the unique key; by obligation or adoption, their foreign-key indexes.
        indexes = [models.Index(fields=["status", "planned_for"], name="reminder_status_planned")]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "subject", "step"], name="reminder_once_per_step"),
            models.CheckConstraint(
                condition=(Q(status="sent") & Q(sent_at__isnull=False)) | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="reminder_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(claimed_at__isnull=False), name="reminder_sending_is_claimed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient.email} ({self.step})"

    @property
    def step_label(self) -> str:
        """The step in words, e.g. "7 days before", "On the due date", "Overdue (reminder 2)"."""
        if self.kind == ReminderKind.ESCALATION:
            return "Digest"
        if self.step == "owed":
            return "First owed (invitation)" if self.kind != ReminderKind.REVIEW else "Review opened"
        if self.step == "due":
            return "On the due date"
        if self.step.startswith("now-"):
            return "Sent now by an officer"
        prefix, _, number = self.step.partition("-")
        if prefix == "before" and number.isdigit():
            return f"{number} day{'s' if number != '1' else ''} before"
        if prefix == "overdue" and number.isdigit():
            return f"Overdue (reminder {number})"
        return self.step
