# ReminderLog moves from acknowledgements to its own app. The table and every row stay where
# they are: this migration changes only Django's state; 0002 renames the table and its index.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("acknowledgements", "0007_reminder_log_no_code_index"),
        ("conduct", "0004_reminder_steps_may_be_empty"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ReminderLog",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("review", "Review due"),
                                    ("signing", "Signature owed"),
                                    ("escalation", "Outstanding digest"),
                                    ("declaration", "Declaration of interests lapsed"),
                                ],
                                max_length=12,
                            ),
                        ),
                        (
                            "subject",
                            models.CharField(help_text='What it is about, e.g. "obligation:42".', max_length=120),
                        ),
                        (
                            "step",
                            models.CharField(
                                help_text='Which step, e.g. "before-7", "due", "overdue-2".', max_length=40
                            ),
                        ),
                        (
                            "due_on",
                            models.DateField(blank=True, help_text="When what it is about is (or was) due.", null=True),
                        ),
                        ("planned_for", models.DateField()),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("sending", "Sending"),
                                    ("sent", "Sent"),
                                    ("failed", "Failed"),
                                    ("skipped", "Not needed"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("claimed_at", models.DateTimeField(blank=True, null=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("last_error", models.TextField(blank=True)),
                        (
                            "note",
                            models.CharField(
                                blank=True, help_text="Why it was not needed, when skipped.", max_length=200
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "adoption",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="conduct.adoption",
                            ),
                        ),
                        (
                            "code",
                            models.ForeignKey(
                                blank=True,
                                db_index=False,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="conduct.code",
                            ),
                        ),
                        (
                            "obligation",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="reminders",
                                to="acknowledgements.obligation",
                            ),
                        ),
                        (
                            "organisation",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="conduct.organisation",
                            ),
                        ),
                        (
                            "recipient",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reminders",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "acknowledgements_reminderlog",
                        "ordering": ["-planned_for", "-created_at"],
                        "indexes": [
                            models.Index(fields=["status", "planned_for"], name="acknowledge_status_9720e0_idx")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("recipient", "subject", "step"), name="reminder_once_per_step"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("status", "sent"), ("sent_at__isnull", False)),
                                    models.Q(models.Q(("status", "sent"), _negated=True), ("sent_at__isnull", True)),
                                    _connector="OR",
                                ),
                                name="reminder_sent_has_time",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("status", "sending"), _negated=True),
                                    ("claimed_at__isnull", False),
                                    _connector="OR",
                                ),
                                name="reminder_sending_is_claimed",
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
