"""``manage.py tally_check``: compare the obligation tally with the obligations; ``--repair`` fixes it.

Prints each key that differs and exits 1 if any did (even when repaired: the triggers missed a change, which
someone should look into); 0 when the tally is right.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from acknowledgements.tally import tally_check


class Command(BaseCommand):
    help = "Check the obligation tally the dashboard reads against the obligations (and repair it with --repair)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--repair", action="store_true", help="Add the differences to the tally.")

    def handle(self, *args, **options) -> None:
        differences = tally_check(repair=options["repair"])
        for difference in differences:
            self.stdout.write(f"DIFFERS {difference.key}: {difference.missing:+d} obligations")
        if differences:
            done = "repaired" if options["repair"] else "not repaired (run with --repair)"
            raise CommandError(f"{len(differences)} tally rows differed from the obligations: {done}.")
        self.stdout.write("The obligation tally matches the obligations.")
