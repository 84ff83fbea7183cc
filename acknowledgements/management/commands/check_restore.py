"""``manage.py check_restore``: after restoring a backup, is everything there and intact?

Prints what it checked and each problem in plain words, then one verdict line; exits 1 on any problem.
See README ("Backups and restore") and ``acknowledgements.restore``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from acknowledgements.restore import restore_check


class Command(BaseCommand):
    help = "Check a restored instance: every stored PDF's bytes against its SHA-256, every record, chain and seal."

    def handle(self, *args, **options) -> None:
        report = restore_check()
        for name, number in sorted(report.counts.items()):
            self.stdout.write(f"checked {number} {name}")
        for warning in report.warnings:
            self.stdout.write(f"WARNING {warning}")
        for finding in report.findings:
            self.stdout.write(f"PROBLEM {finding.kind}: {finding.item}: {finding.problem}")
        if report.missing_files:
            self.stdout.write(
                f"{report.missing_files} stored file(s) are missing: restore the file storage (MEDIA_ROOT, or the "
                "object storage bucket) from the same backup as the database, then run check_restore again."
            )
        if not report.ok:
            raise CommandError(f"The restore is NOT complete: {len(report.findings)} problem(s), listed above.")
        self.stdout.write(self.style.SUCCESS("The restore is complete: every record, file, chain and seal checks out."))
