from django.core.management.base import BaseCommand

from conduct.demo import demo_load
from conduct.models import Organisation


class Command(BaseCommand):
    help = "Load the demo organisations, people and the three codes. Loading twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database already has organisations."
        )

    def handle(self, *args, if_empty: bool = False, **options):
        if if_empty and Organisation.objects.exists():
            self.stdout.write("Demo data not loaded: the database already has data.")
            return
        created = demo_load()
        if created:
            summary = ", ".join(f"{count} {what}" for what, count in created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")
