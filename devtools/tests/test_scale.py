"""The scale data generator and the benchmark command, run at a tiny size (figures are not asserted)."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from acknowledgements.models import Acknowledgement, AuditEvent, Obligation, SealedPdf
from conduct.models import Code, NetworkMembership, Organisation, Person
from reports.tests.helpers import as_numbers, counter_numbers, expected

pytestmark = pytest.mark.django_db

TINY = {
    "prefix": "tiny",
    "academies": 3,
    "people": 120,
    "acknowledgements": 300,
    "pdfs": 6,
    "small_trusts": 2,
    "small_trust_academies": 1,
    "small_trust_people": 15,
}


@pytest.fixture
def tiny(db):
    out = io.StringIO()
    call_command("generate_scale_data", stdout=out, **TINY)
    return out.getvalue()


def test_generates_the_requested_sizes_with_events_and_distinct_pdfs(tiny):
    trust = Organisation.objects.get(slug="tiny-trust-0")
    assert trust.children.filter(kind="school").count() == 3
    generated = Person.objects.filter(email__endswith="@tiny.example").exclude(email="admin@tiny.example")
    assert generated.count() + Person.objects.filter(email__endswith="@tiny-gov.example").count() == 120
    acks = Acknowledgement.objects.filter(version__code__slug__startswith="tiny-")
    assert acks.count() == 300
    assert AuditEvent.objects.filter(acknowledgement__in=acks, kind="signed").count() == 300
    assert AuditEvent.objects.filter(version__code__slug__startswith="tiny-", kind="first_viewed").count() == 300
    assert {a.version.code.slug for a in acks.select_related("version__code")} == {
        "tiny-staff-code",
        "tiny-governance-code",
        "tiny-network-code",
    }
    # Every acknowledgement is reflected on its obligation, as the signing service does.
    assert (
        Obligation.objects.filter(version__code__slug__startswith="tiny-", acknowledged_at__isnull=False).count() == 300
    )
    pdfs = list(SealedPdf.objects.filter(acknowledgement__in=acks))
    assert len(pdfs) == 6 and len({pdf.sha256 for pdf in pdfs}) == 6
    for pdf in pdfs:
        content = pdf.file.open("rb").read()
        assert hashlib.sha256(content).hexdigest() == pdf.sha256 and len(content) == pdf.size
        assert "Scale data" in PdfReader(io.BytesIO(content)).pages[0].extract_text()
    trusts = {membership.school.path.split("/")[1] for membership in NetworkMembership.objects.select_related("school")}
    assert len(trusts) == 3  # the network spans three trusts
    assert "Generated in" in tiny and "300 acknowledgements" in tiny


def test_a_second_run_with_the_same_prefix_is_refused(tiny):
    with pytest.raises(CommandError, match="already exists"):
        call_command("generate_scale_data", stdout=io.StringIO(), **TINY)


def test_bad_sizes_are_refused_with_a_message(db):
    with pytest.raises(CommandError, match="--people must be at least 1"):
        call_command("generate_scale_data", people=0, stdout=io.StringIO())


def test_the_dashboard_on_generated_data_equals_independent_counts(tiny):
    admin = Person.objects.get(email="admin@tiny.example")
    client = Client()
    client.force_login(admin)
    staff = Code.objects.get(slug="tiny-staff-code")
    this_year = staff.versions.order_by("-adopted_at").first()
    assert this_year is not None
    board = client.get(reverse("reports:dashboard"), {"code": staff.pk, "version": this_year.pk}).context["board"]
    assert board.filters.organisation.slug == "tiny-trust-0"
    obligations = list(Obligation.objects.filter(version=board.filters.version).select_related("role"))
    assert as_numbers(board.totals) == counter_numbers(expected(obligations, timezone.localdate())["all"])
    assert board.totals.signed > 0 and board.totals.owe > board.totals.signed


def test_benchmark_writes_its_table_into_its_own_section(tiny, tmp_path):
    target = tmp_path / "benchmarks.md"
    target.write_text("# Benchmarks\n\n## Signing\n\nSomeone else's figures.\n")
    out = io.StringIO()
    call_command("benchmark_reports", prefix="tiny", runs=1, write=str(target), stdout=out, stderr=io.StringIO())
    text = target.read_text()
    assert "Someone else's figures." in text
    assert text.count("<!-- reports-benchmark:start -->") == 1
    for row in (
        "| Dashboard, whole trust",
        "| CSV export, every signature owed",
        "| Memory while streaming",
        "| XLSX of the same list",
        "| Bulk archive of stored signed PDFs",
    ):
        assert row in text
    assert "manage.py benchmark_reports" in text
    call_command(
        "benchmark_reports", prefix="tiny", runs=1, write=str(target), stdout=io.StringIO(), stderr=io.StringIO()
    )
    assert target.read_text().count("<!-- reports-benchmark:start -->") == 1  # replaced, not appended


def test_benchmark_without_data_says_what_to_do(db):
    with pytest.raises(CommandError, match="run manage.py generate_scale_data first"):
        call_command("benchmark_reports", prefix="nothing", stdout=io.StringIO(), stderr=io.StringIO())
