"""Plan today's reminders and send them straight away, without waiting for beat (demo and checks)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from reminders.models import ReminderLog, ReminderStatus
from reminders.planning import reminders_plan
from reminders.sending import ReminderDeliveryError, SendResult, batches, reminders_ready, reminders_send
from reminders.tasks import reminders_queue


class Command(BaseCommand):
    help = (
        "Plan today's reminders and send every reminder waiting, here and now (no worker needed). "
        "Safe to run any number of times: nothing is sent twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be sent today, then undo the planning."
        )
        parser.add_argument(
            "--queue", action="store_true", help="Queue the sending for the Celery worker instead of sending here."
        )

    def handle(self, *args: object, dry_run: bool = False, queue: bool = False, **options: Any) -> None:
        if dry_run:
            self._dry_run()
            return
        planned = reminders_plan(today=timezone.localdate())
        self.stdout.write(
            f"Planned {planned.total} reminder(s): signing {planned.signing}, review {planned.review}, "
            f"declaration {planned.declaration}, escalation {planned.escalation}."
        )
        if queue:
            self.stdout.write(f"Queued {reminders_queue()} reminder(s) for the worker.")
            return
        self._send_here()

    def _send_here(self) -> None:
        total = SendResult()
        try:
            for batch in batches(reminders_ready()):
                result = reminders_send(reminder_ids=batch)
                total.sent += result.sent
                total.skipped += result.skipped
                total.failed += result.failed
        except ReminderDeliveryError as error:
            self.stderr.write(
                self.style.ERROR(f"{error}. The unsent reminders stay pending and go out at the next run.")
            )
        where = getattr(settings, "EMAIL_FILE_PATH", None)
        self.stdout.write(
            self.style.SUCCESS(f"Sent {total.sent}, not needed {total.skipped}, failed {total.failed}.")
            + (f" Mail is written to {where}/." if where else "")
        )

    def _dry_run(self) -> None:
        with transaction.atomic():
            reminders_plan(today=timezone.localdate())
            waiting = (
                ReminderLog.objects.filter(status=ReminderStatus.PENDING, planned_for__lte=timezone.localdate())
                .select_related("recipient", "code", "organisation")
                .order_by("kind", "recipient__full_name")
            )
            for reminder in waiting:
                about = _about(reminder)
                self.stdout.write(
                    f"{reminder.get_kind_display():<32} {reminder.step_label:<24} "
                    f"{reminder.recipient.full_name} <{reminder.recipient.email}>: {about}"
                )
            self.stdout.write(f"{waiting.count()} reminder(s) would be sent. Nothing was saved.")
            transaction.set_rollback(True)


def _about(reminder: ReminderLog) -> str:
    """What the reminder is about: its code, else (a digest or a declaration) its organisation."""
    if reminder.code:
        return reminder.code.title
    assert reminder.organisation is not None, "a reminder without a code is about an organisation"
    return reminder.organisation.name
