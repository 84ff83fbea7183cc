"""The PDF benchmark command runs and leaves the database as it found it (its figures go in docs/benchmarks.md)."""

import io

import pytest
from django.core.management import CommandError, call_command

from acknowledgements.models import AuditEvent, SealedPdf
from acknowledgements.tests.factories import sign
from devtools.management.commands import benchmark

pytestmark = pytest.mark.django_db


def test_the_benchmark_times_all_three_and_stores_nothing(staff):
    sign(staff, issue_pdf=False)
    events = AuditEvent.objects.count()
    out = io.StringIO()
    call_command("benchmark_pdf", "--runs", "1", "--code", staff.code.slug, "--markdown", stdout=out)
    text = out.getvalue()
    assert "bare WeasyPrint render" in text and "signed PDF" in text and "signed / bare" in text
    assert text.strip().splitlines()[-1].startswith("| ")
    assert not SealedPdf.objects.exists() and AuditEvent.objects.count() == events


def test_the_benchmark_explains_when_there_is_nothing_to_time(db):
    with pytest.raises(CommandError, match="No one has signed"):
        call_command("benchmark_pdf", "--runs", "1", "--code", "no-such-code")


def test_make_benchmark_runs_every_self_contained_benchmark_in_turn(db, monkeypatch):
    """`make benchmark` is `manage.py benchmark`: each benchmark command once, the reports one only on request."""

    ran: list[tuple[str, dict]] = []
    monkeypatch.setattr(benchmark, "call_command", lambda name, **kwargs: ran.append((name, kwargs)))
    out = io.StringIO()
    call_command("benchmark", stdout=out)
    assert [name for name, _ in ran] == [
        "benchmark_verify_upload",
        "benchmark_pdf",
        "benchmark_adoption",
        "benchmark_reminders",
    ]
    assert "benchmark_reports skipped" in out.getvalue()


def test_the_reports_benchmark_needs_the_scale_data(db, monkeypatch):

    monkeypatch.setattr(benchmark, "call_command", lambda name, **kwargs: None)
    with pytest.raises(CommandError, match="needs the scale data"):
        call_command("benchmark", "--with-reports", stdout=io.StringIO())
