"""``manage.py evidence_chain_backfill``: sign and chain evidence rows made before signing existed (idempotent).

Run once after upgrading to signed evidence (docs/evidence.md); rows are chained oldest first. A
migration cannot do it: migrations never run project code (core/tests/test_migrations_frozen.py).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from acknowledgements.integrity import evidence_chain_backfill


class Command(BaseCommand):
    help = "Sign and chain every evidence record not yet in a chain, oldest first."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"chained {evidence_chain_backfill()} record(s)")
