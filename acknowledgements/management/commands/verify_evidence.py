"""``manage.py verify_evidence``: check every chain, signature, record, stored PDF and adopted version.

Prints each broken item and exits 1 if there is any (0 when everything verifies); the run is saved
for admins to see. ``--no-save`` only prints.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from acknowledgements.integrity import evidence_check, integrity_check_run


class Command(BaseCommand):
    help = "Verify all evidence: chains, signatures, records, stored PDF files and adopted versions' text."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-save", action="store_true", help="Do not save the run.")

    def handle(self, *args, **options) -> None:
        if options["no_save"]:
            report = evidence_check()
            counts, problems, ok = dict(report.counts), [f.as_dict() for f in report.findings], report.ok
        else:
            run = integrity_check_run()
            counts, problems, ok = run.counts, run.problems, run.ok
        for name, number in sorted(counts.items()):
            self.stdout.write(f"checked {number} {name}")
        for problem in problems:
            self.stdout.write(f"BROKEN {problem['kind']}: {problem['item']}: {problem['problem']}")
        if not ok:
            raise CommandError(f"{len(problems)} broken item(s): the evidence does not verify.")
        self.stdout.write(self.style.SUCCESS("All evidence verifies."))
