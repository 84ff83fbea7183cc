from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from acknowledgements.models import Acknowledgement
from acknowledgements.tasks import issue_acknowledgement_pdf
from conduct.models import Organisation
from core.tasks import enqueue_on_commit
from devtools.demo_conduct import demo_load


def queue_missing_demo_pdfs() -> int:
    """Queue the signed PDFs of demo signatures that have none yet.

    The loader signs through the real services but does not render (that keeps
    the test fixture quick). Under ``make run`` these messages wait in the
    embedded broker and the worker issues them within a minute of starting, so
    the demo's records, archives and verification by code are complete.
    """
    missing = list(Acknowledgement.objects.filter(pdf__isnull=True).values_list("pk", flat=True))
    for pk in missing:
        enqueue_on_commit(issue_acknowledgement_pdf, pk, send_receipt=False)
    return len(missing)


class Command(BaseCommand):
    help = "Load the demo organisations, people, the three codes and a signing history. Loading twice changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database already has organisations."
        )
        parser.add_argument(
            "--no-pdfs", action="store_true", help="Do not queue the demo signatures' PDFs for the worker."
        )

    def handle(self, *args: object, if_empty: bool = False, no_pdfs: bool = False, **options: Any) -> None:
        if if_empty and Organisation.objects.exists():
            self.stdout.write("Demo data not loaded: the database already has data.")
            return
        with transaction.atomic():
            created = demo_load()
            queued = 0 if no_pdfs else queue_missing_demo_pdfs()
        if created:
            summary = ", ".join(f"{count} {what}" for what, count in created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        if queued:
            self.stdout.write(f"{queued} signed PDFs queued for the worker.")
