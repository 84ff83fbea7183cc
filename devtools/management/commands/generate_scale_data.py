"""manage.py generate_scale_data: a large, realistic data set for measuring reports (see reports/scale.py)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.scale import ScaleDataExists, ScaleSpec, generate


class Command(BaseCommand):
    help = (
        "Generate a trust with academies, people, three codes, acknowledgements with their events, a network "
        "spanning three trusts and stored signed PDFs. Defaults: 40 academies, 50,000 people, 150,000 "
        "acknowledgements, 1,000 PDFs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = ScaleSpec()
        parser.add_argument(
            "--prefix", default=defaults.prefix, help="Slug prefix of everything generated (one data set per prefix)."
        )
        parser.add_argument("--academies", type=int, default=defaults.academies)
        parser.add_argument(
            "--people", type=int, default=defaults.people, help="People in the big trust, governors included."
        )
        parser.add_argument("--acknowledgements", type=int, default=defaults.acknowledgements)
        parser.add_argument(
            "--pdfs", type=int, default=defaults.pdfs, help="Stored signed PDFs (for the archive benchmark)."
        )
        parser.add_argument(
            "--small-trusts", type=int, default=defaults.small_trusts, help="Other trusts with schools in the network."
        )
        parser.add_argument("--small-trust-academies", type=int, default=defaults.small_trust_academies)
        parser.add_argument("--small-trust-people", type=int, default=defaults.small_trust_people)
        parser.add_argument("--chunk", type=int, default=defaults.chunk, help="Rows per bulk insert.")
        parser.add_argument("--seed", type=int, default=defaults.seed)

    def handle(self, *args: object, **options: Any) -> None:
        for name in ("academies", "people", "acknowledgements", "chunk"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")
        if options["pdfs"] < 0 or options["small_trusts"] < 0:
            raise CommandError("--pdfs and --small-trusts cannot be negative.")
        spec = ScaleSpec(
            prefix=options["prefix"],
            academies=options["academies"],
            people=options["people"],
            acknowledgements=options["acknowledgements"],
            pdfs=options["pdfs"],
            small_trusts=options["small_trusts"],
            small_trust_academies=options["small_trust_academies"],
            small_trust_people=options["small_trust_people"],
            chunk=options["chunk"],
            seed=options["seed"],
        )
        started = time.perf_counter()
        try:
            result = generate(spec, log=lambda message: self.stdout.write(f"  {message}"))
        except ScaleDataExists as error:
            raise CommandError(str(error)) from error
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{count:,} {what}" for what, count in result.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Generated in {elapsed:.0f} s: {summary}."))
        trust, pdf_academy, admin = result.trust, result.pdf_academy, result.admin
        assert trust and pdf_academy and admin, "generate() fills these in once the data set is built"
        self.stdout.write(f"Trust: {trust.name} (slug {trust.slug}); stored PDFs in {pdf_academy.name}.")
        self.stdout.write(f"Sign in as {admin.email} (password conduct-demo-2025) to see its reports.")
