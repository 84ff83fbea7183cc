"""Exports parse back to the dashboard's numbers: CSV (streamed), XLSX (openpyxl) and PDF (pypdf)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from openpyxl import load_workbook
from pypdf import PdfReader

from acknowledgements.models import Obligation
from conduct.models import Person
from reports.exports import TABLES, Column, csv_chunks, neutralise, people_columns
from reports.models import JobKind
from reports.selectors import NO_SCHOOL
from reports.tests.factories import days_ago, sign
from reports.tests.helpers import (
    as_numbers,
    built_in_background,
    counter_numbers,
    expected,
    query_count,
    status_on,
)

pytestmark = pytest.mark.django_db

STATUS_LABELS = {"Signed": "signed", "Outstanding (not yet due)": "outstanding", "Overdue": "overdue"}


def export(client, table: str, fmt: str, **params):
    return client.get(f"{reverse('reports:export', args=[table, fmt])}?{urlencode(params)}")


def csv_rows(response) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = response.getvalue().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def filters(scenario, **extra) -> dict:
    return {"organisation": scenario.orgs["trust"].pk, "version": scenario.version.pk, **extra}


def test_people_csv_streams_every_person_with_the_dashboard_numbers(oak, elm, client_for):
    client = client_for(oak.admin)
    board = client.get(reverse("reports:dashboard"), filters(oak)).context["board"]
    response = export(client, "people", "csv", **filters(oak))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    name = f"oak-trust-{oak.code.slug}-2026-2027-people-as-at-{timezone.localdate().isoformat()}.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    rows = csv_rows(response)
    assert list(rows[0]) == [column.header for column in people_columns()]
    statuses = Counter(STATUS_LABELS[row["Status"]] for row in rows)
    assert {"owe": len(rows), **{k: statuses[k] for k in ("signed", "outstanding", "overdue")}} == as_numbers(
        board.totals
    )
    today = timezone.localdate()
    by_email = {o.person.email: o for o in oak.obligations()}
    for row in rows:
        obligation = by_email[row["Email"]]
        assert STATUS_LABELS[row["Status"]] == status_on(obligation, today)
        assert row["Owed from"] == obligation.owed_from.isoformat() and row["Due on"] == obligation.due_on.isoformat()
        if row["Status"] == "Signed":
            ack = obligation.person.acknowledgements.get(version=oak.version)
            assert row["Verification code"] == ack.verification_code
            assert row["Record"] == "http://testserver" + reverse("acknowledgements:record", args=[ack.pk])
            assert datetime.fromisoformat(row["Signed at (Europe/London)"]) == ack.signed_at.replace(microsecond=0)
        else:
            assert row["Signed at (Europe/London)"] == row["Record"] == row["Verification code"] == ""
    assert not any("Elm" in row["Name"] for row in rows)


def test_people_csv_honours_status_school_and_as_at(oak, client_for):
    client = client_for(oak.admin)
    day = timezone.localdate().replace(day=1) if timezone.localdate().day > 1 else timezone.localdate()
    rows = csv_rows(
        export(
            client,
            "people",
            "csv",
            **filters(oak, status="overdue", school=oak.orgs["south"].pk, as_at=day.isoformat()),
        )
    )
    independent = {
        o.person.full_name
        for o in oak.obligations()
        if o.organisation_id == oak.orgs["south"].pk and status_on(o, day) == "overdue"
    }
    assert {row["Name"] for row in rows} == independent
    assert {row["School"] for row in rows} <= {oak.orgs["south"].name}


@pytest.mark.parametrize("table", ["schools", "roles", "timeline"])
def test_summary_tables_in_csv_equal_the_dashboard(oak, client_for, table):
    client = client_for(oak.admin)
    board = client.get(reverse("reports:dashboard"), filters(oak)).context["board"]
    rows = csv_rows(export(client, table, "csv", **filters(oak)))
    source = {"schools": board.by_school, "roles": board.by_role, "timeline": board.timeline}[table]
    assert len(rows) == len(source)
    first = list(rows[0])[0]
    for row, item in zip(rows, source, strict=True):
        label = item.day.isoformat() if table == "timeline" else item.label
        assert row[first] == label
        numbers = {
            key: int(row[header])
            for key, header in (
                ("owe", "Owe"),
                ("signed", "Signed"),
                ("outstanding", "Outstanding"),
                ("overdue", "Overdue"),
            )
        }
        assert numbers == as_numbers(item.counts)
        assert row["% signed"] == ("" if item.counts.percent is None else str(item.counts.percent))


def test_a_single_table_export_runs_the_one_scan_the_whole_dashboard_runs(oak, client_for):
    client = client_for(oak.admin)
    link = lambda table, fmt: f"{reverse('reports:export', args=[table, fmt])}?{urlencode(filters(oak))}"  # noqa: E731
    everything = query_count(client, link("dashboard", "xlsx"))
    for table in ("schools", "roles", "timeline"):
        assert query_count(client, link(table, "csv")) == everything  # one grouped scan serves all three tables


def test_schools_csv_matches_independent_counts(oak, client_for):
    rows = csv_rows(export(client_for(oak.admin), "schools", "csv", **filters(oak)))
    independent = expected(
        oak.obligations(),
        timezone.localdate(),
        lambda o: {oak.orgs["north"].pk: oak.orgs["north"].name, oak.orgs["south"].pk: oak.orgs["south"].name}.get(
            o.organisation_id, "No school"
        ),
    )
    assert {
        row["School"]: {
            k: int(row[h])
            for k, h in (("owe", "Owe"), ("signed", "Signed"), ("outstanding", "Outstanding"), ("overdue", "Overdue"))
        }
        for row in rows
    } == {name: counter_numbers(counter) for name, counter in independent.items()}


def test_people_xlsx_has_a_bold_frozen_header_widths_and_the_same_numbers(oak, client_for):
    client = client_for(oak.admin)
    board = client.get(reverse("reports:dashboard"), filters(oak)).context["board"]
    response = export(client, "people", "xlsx", **filters(oak))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook["People"]
    columns = people_columns()
    header = [cell.value for cell in sheet[1]]
    assert header == [column.header for column in columns]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    for index, column in enumerate(columns, start=1):
        assert sheet.column_dimensions[sheet.cell(1, index).column_letter].width == column.width
    rows = [dict(zip(header, (cell.value for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    statuses = Counter(STATUS_LABELS[row["Status"]] for row in rows)
    assert {"owe": len(rows), **{k: statuses[k] for k in ("signed", "outstanding", "overdue")}} == as_numbers(
        board.totals
    )
    signed = [row for row in rows if row["Status"] == "Signed"]
    assert all(isinstance(row["Signed at (Europe/London)"], datetime) for row in signed)
    assert all(isinstance(row["Owed from"], datetime) for row in rows)  # dates are real date cells
    ack = Person.objects.get(full_name=signed[0]["Name"]).acknowledgements.get()
    london = timezone.localtime(ack.signed_at).replace(tzinfo=None)
    assert abs((signed[0]["Signed at (Europe/London)"] - london).total_seconds()) < 1


def test_dashboard_workbook_holds_the_three_tables(oak, client_for):
    client = client_for(oak.admin)
    board = client.get(reverse("reports:dashboard"), filters(oak)).context["board"]
    workbook = load_workbook(
        io.BytesIO(b"".join(export(client, "dashboard", "xlsx", **filters(oak)).streaming_content))
    )
    assert workbook.sheetnames == ["By school", "By role", "Over time"]
    schools = list(workbook["By school"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[2], row[3], row[4]) for row in schools] == [
        (row.label, row.counts.owe, row.counts.signed, row.counts.outstanding, row.counts.overdue)
        for row in board.by_school
    ]
    timeline = list(workbook["Over time"].iter_rows(min_row=2, values_only=True))
    assert [(row[0].date(), row[2]) for row in timeline] == [
        (point.day, point.counts.signed) for point in board.timeline
    ]
    assert workbook["By role"].freeze_panes == "A2"


@pytest.mark.parametrize(
    "dangerous", ['=HYPERLINK("http://evil.example","x")', "+1+2", "-3+4", "@SUM(A1)", "\tsneaky", "\rsneaky"]
)
def test_cells_that_would_run_as_formulas_are_neutralised(oak, client_for, dangerous):
    person = oak.people["north-5"]
    Person.objects.filter(pk=person.pk).update(full_name=dangerous)
    client = client_for(oak.admin)
    rows = csv_rows(export(client, "people", "csv", **filters(oak)))
    assert any(row["Name"] == "'" + dangerous for row in rows)
    assert not any(row["Name"] == dangerous for row in rows)
    sheet = load_workbook(io.BytesIO(b"".join(export(client, "people", "xlsx", **filters(oak)).streaming_content)))[
        "People"
    ]
    cells = [row[0] for row in sheet.iter_rows(min_row=2) if str(row[0].value).endswith(dangerous[1:])]
    assert cells and all(cell.data_type == "s" and cell.value == "'" + dangerous for cell in cells)


def test_neutralise_leaves_ordinary_values_alone():
    assert neutralise("Ada Lovelace") == "Ada Lovelace"
    assert neutralise(-3) == -3 and neutralise(None) is None
    assert neutralise("=1+1") == "'=1+1"
    column = Column("When", "", 10, lambda row: row)
    assert column.for_csv(date(2026, 9, 1)) == "2026-09-01" and column.for_xlsx(date(2026, 9, 1)) == date(2026, 9, 1)


def test_csv_is_produced_lazily_in_batches():
    """Streaming: the first chunk is sent before later rows are even read (memory holds one batch)."""
    read = []

    def rows():
        for index in range(10_000):
            read.append(index)
            yield index

    chunks = csv_chunks([Column("N", "", 5, lambda row: row)], rows(), batch=100)
    assert next(chunks).startswith("\ufeffN\r\n") and read == []
    assert next(chunks).count("\r\n") == 100 and len(read) == 100


def test_summary_pdf_is_made_in_the_background_with_the_charts_and_a_page_per_school(oak, client_for):
    client = client_for(oak.admin)
    board = client.get(reverse("reports:dashboard"), filters(oak)).context["board"]
    response = export(client, "summary", "pdf", **filters(oak))
    reader = PdfReader(io.BytesIO(built_in_background(client, response, JobKind.SUMMARY_PDF)))
    assert reader.metadata is not None and reader.metadata.title == f"Compliance report: {oak.orgs['trust'].name}"
    pages = [page.extract_text() for page in reader.pages]
    summary = "\n".join(pages[: len(pages) - len(board.by_school)])
    assert "Signed Outstanding Overdue" in summary  # the bar chart's legend, drawn as text
    assert f"{board.totals.percent}%" in summary and "100%" in summary  # the headline and the line chart's axis
    for row in board.by_school:
        assert f"{row.counts.percent:.1f}% of {row.counts.owe}" in summary  # each school's bar label
    school_pages = pages[-len(board.by_school) :]
    for row, text in zip(board.by_school, school_pages, strict=True):
        assert text.startswith(row.label) or row.label in text.splitlines()[0:3]
        assert "By role" in text
        numbers = f"{row.counts.owe} {row.counts.signed} {row.counts.outstanding} {row.counts.overdue}"
        assert numbers in text.replace("\n", " ")


def test_people_export_query_count_does_not_grow(oak, client_for):
    client = client_for(oak.admin)
    link = f"{reverse('reports:export', args=['people', 'csv'])}?{urlencode(filters(oak))}"
    small = query_count(client, link)
    for obligation in Obligation.objects.filter(version=oak.version, acknowledged_at__isnull=True).select_related(
        "role", "organisation", "person", "version"
    ):
        if obligation.role.ends_on is None:
            sign(obligation, at=days_ago(1))
    assert query_count(client, link) == small


def test_every_table_documents_its_columns():
    for title, factory in TABLES.values():
        columns = factory()
        assert columns and all(column.header and len(column.meaning) > 10 for column in columns), title
    assert NO_SCHOOL == "none"


def test_docs_describe_every_export_column_as_the_page_does():
    from pathlib import Path

    from django.conf import settings

    docs = (Path(settings.BASE_DIR) / "docs" / "reports.md").read_text(encoding="utf-8")
    for column in people_columns():
        assert f"| {column.header} | {column.meaning} |" in docs, column.header
    for column in TABLES["schools"][1]()[1:]:
        assert f"| {column.header} | {column.meaning} |" in docs, column.header
