"""Apply the retention schedule now (what the nightly beat entry ``apply-retention`` does), or show what it would do."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from privacy.retention import RetentionResult, retention_apply, retention_schedule


class Command(BaseCommand):
    help = (
        "Apply the retention schedule (docs/retention.md): delete email and reminder rows past their period, "
        "flag for review (or, with RETENTION_AUTO_ERASE, erase) the people whose retention has ended. "
        "Once a day: a second run the same day does nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Say what would be done now; change nothing.")

    def handle(self, *args: object, dry_run: bool = False, **options: Any) -> None:
        for rule in retention_schedule():
            self.stdout.write(f"{rule.record}: {rule.period} from {rule.runs_from} ({rule.setting}).")
        result = retention_apply(dry_run=dry_run)
        if not result.ran:
            self.stdout.write("Retention was already applied today: nothing more to do.")
            return
        self.stdout.write(self._summary(result))

    @staticmethod
    def _summary(result: RetentionResult) -> str:
        verb = "Would delete" if result.dry_run else "Deleted"
        people = "would be erased" if result.dry_run else "erased"
        if not result.auto_erase:
            people = "would be flagged for review" if result.dry_run else "flagged for review"
        count = "erased" if result.auto_erase else "flagged"
        return (
            f"{verb} {result.rows('email_rows')} email row(s) and {result.rows('reminder_rows')} reminder row(s). "
            f"{len(result.people(count))} person(s) {people}; {len(result.people('held'))} on legal hold; "
            f"{len(result.people('refused'))} erasure(s) refused."
        )
