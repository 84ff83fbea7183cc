"""A people sheet written by ``reports.xlsx_rows.RowWriter``, in this process or in helper processes, is the
workbook openpyxl writes through its own ``append``, byte for byte; a job uses helpers from
``XLSX_HELPERS_FROM_ROWS`` rows; a helper that fails, or a job lost halfway, ends them all and leaves no file
behind. On SQLite and on PostgreSQL (run with DATABASE_URL)."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import date, datetime, time

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.worksheet import _writer as openpyxl_writer

from conduct.models import Person
from reports import exports
from reports.builders import job_run
from reports.exports import RowHelpers, Sheet, people_columns, people_sheet, xlsx_file
from reports.jobs import JobLost, job_request
from reports.models import JobKind, JobStatus
from reports.selectors import ReportFilters, people_rows, school_map
from reports.tests.test_exports_sql import add_staff, filter_variants, hostile, on_the_edges
from reports.xlsx_rows import styles_registered

pytestmark = pytest.mark.django_db

SHEET_XML = "xl/worksheets/sheet1.xml"


@pytest.fixture
def started(monkeypatch) -> list[RowHelpers]:
    """Every ``RowHelpers`` started during the test; batches of 3 rows, so a few rows make many batches."""
    helpers: list[RowHelpers] = []
    original = RowHelpers.__init__

    def recorded(self, *args, **kwargs):
        helpers.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(RowHelpers, "__init__", recorded)
    monkeypatch.setattr(exports, "XLSX_HELPER_BATCH", 3)
    return helpers


def parts(handle) -> dict[str, bytes]:
    with zipfile.ZipFile(handle) as archive:
        names = archive.namelist()
        assert len(names) == len(set(names)), names  # each part once (a long sheet is not added twice)
        return {name: archive.read(name) for name in names}


def values(handle) -> list[tuple]:
    handle.seek(0)
    return list(load_workbook(handle)["People"].iter_rows(values_only=True))


def leftover_sheet_files(before: set[str]) -> list[str]:
    return [path for path in openpyxl_writer.ALL_TEMP_FILES if path not in before and os.path.exists(path)]


def all_ended(helpers: list[RowHelpers]) -> bool:
    return bool(helpers) and all(process.poll() is not None for each in helpers for process in each.processes)


def test_this_process_and_the_helpers_write_the_workbook_openpyxl_writes_byte_for_byte(oak, elm, started):
    hostile(oak)
    on_the_edges(oak)
    add_staff(oak, 15)  # 31 rows: 11 batches of 3, the last one short, shared by both helpers
    filters = filter_variants(oak)["whole trust, every code"]
    schools = school_map(filters)
    by_openpyxl = people_sheet(oak.admin, filters, schools)
    by_openpyxl.by_openpyxl = True  # every row through openpyxl's own append: the reference
    reference_parts = parts(xlsx_file([by_openpyxl]))
    alone = xlsx_file([people_sheet(oak.admin, filters, schools)])  # RowWriter in this process
    helped = xlsx_file([people_sheet(oak.admin, filters, schools, helpers=2)])
    assert len(started) == 1 and all_ended(started)
    for written in (parts(alone), parts(helped)):
        assert written.keys() == reference_parts.keys()
        for name in reference_parts:
            if name != "docProps/core.xml":  # it holds the time it was saved
                assert written[name] == reference_parts[name], name
    helped_parts = parts(helped)
    sheet_xml = helped_parts[SHEET_XML]
    assert b'r="N2"' in sheet_xml and b"<is><t></t></is>" not in sheet_xml  # a blank is no cell, not an empty one
    assert b'inlineStr"/>' not in sheet_xml and b'inlineStr"></c>' not in sheet_xml
    rows = values(helped)
    assert any(row[9] != "Signed" and row[10:] == (None,) * 4 for row in rows[1:])  # and the unsigned have blanks
    reference = xlsx_file([Sheet("People", people_columns(), people_rows(oak.admin, filters, schools))])
    assert rows == values(reference) and len(rows) > 3 * 10
    assert any(isinstance(row[10], datetime) for row in rows[1:]) and all(
        isinstance(row[7], datetime) for row in rows[1:]
    )
    helped.seek(0)
    sheet = load_workbook(helped)["People"]
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["A"].width == 28
    assert sheet["A1"].font.b and sheet["A1"].fill.fgColor.rgb == "00E9ECEF"
    assert sheet["H2"].number_format == "yyyy-mm-dd" and sheet["H2"].is_date
    signed = next(row for row in sheet.iter_rows(min_row=2) if row[10].value is not None)
    assert signed[10].number_format == "yyyy-mm-dd h:mm:ss"
    hostile_name = next(row[0] for row in sheet.iter_rows(min_row=2) if row[0].value == "'=HYPERLINK(1)")
    assert hostile_name.data_type == "s"  # text, never a formula


def test_the_file_is_deflated_at_the_fast_level_and_opens(oak):
    filters = filter_variants(oak)["whole trust, every code"]
    handle = xlsx_file([people_sheet(oak.admin, filters, school_map(filters))])
    with zipfile.ZipFile(handle) as archive:
        info = archive.getinfo(SHEET_XML)
        assert archive.testzip() is None
    assert info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size < info.file_size / 3


@pytest.mark.parametrize(("beyond", "helpers"), [(0, 1), (1, 0)])
def test_a_spreadsheet_job_uses_helpers_from_so_many_rows(oak, started, monkeypatch, beyond, helpers):
    monkeypatch.setattr(exports, "XLSX_HELPERS", 1)
    filters = ReportFilters(
        organisation=oak.orgs["trust"], as_at=timezone.localdate(), code=oak.code, version=oak.version
    )
    expected = values(xlsx_file([people_sheet(oak.admin, filters, school_map(filters))]))
    rows = len(expected) - 1
    monkeypatch.setattr(exports, "XLSX_HELPERS_FROM_ROWS", rows + beyond)
    job, _created = job_request(user=oak.admin, kind=JobKind.SPREADSHEET, filters=filters, enqueue=False)
    finished = job_run(job.pk)
    assert finished is not None and finished.status == JobStatus.DONE and finished.summary == {"rows": rows}
    assert finished.progress_done == finished.progress_total == rows > 3
    assert len(started) == helpers and (not helpers or all_ended(started))
    with finished.file.open("rb") as stored:
        assert values(io.BytesIO(stored.read())) == expected


def test_a_helper_that_fails_ends_them_all_and_leaves_no_file(started):
    before = set(openpyxl_writer.ALL_TEMP_FILES)
    rows = [("Ann", date(2026, 9, 1))] * 7 + [("Bea", time(9, 30))]  # a time of day: a style the parent lacks
    columns = people_columns()[:2]
    with pytest.raises(RuntimeError, match="A spreadsheet helper failed: ValueError: A cell needed a style"):
        xlsx_file([Sheet("People", columns, rows, cells=True, helpers=2)])
    assert all_ended(started)
    assert leftover_sheet_files(before) == []


def test_a_job_lost_halfway_ends_the_helpers_and_leaves_no_file(oak, started):
    add_staff(oak, 10)
    filters = filter_variants(oak)["whole trust, every code"]
    before = set(openpyxl_writer.ALL_TEMP_FILES)

    def progress(done: int) -> None:
        if done >= 6:
            raise JobLost("taken over")

    sheet = people_sheet(oak.admin, filters, school_map(filters), progress, every=3, helpers=2)
    with pytest.raises(JobLost):
        xlsx_file([sheet])
    assert all_ended(started)
    assert leftover_sheet_files(before) == []
    assert Person.objects.filter(pk=oak.admin.pk).exists()  # the connection is usable after the cursor it left


def test_helpers_numbering_styles_otherwise_are_refused(started):
    from openpyxl import Workbook

    worksheet = Workbook(write_only=True).create_sheet("People")
    headers = ["Name", "Owed from"]
    number_formats, cell_styles = styles_registered(worksheet, headers)
    with (
        pytest.raises(RuntimeError, match="numbers its styles differently"),
        RowHelpers(1, headers, (number_formats[::-1], cell_styles)) as helpers,
    ):
        list(helpers.written(iter([(2, [("Ann", date(2026, 9, 1))])])))
    assert all_ended(started)


def test_a_people_sheet_written_while_you_wait_goes_through_the_row_writer(oak, monkeypatch):
    from reports.xlsx_rows import RowWriter

    written: list[int] = []
    original = RowWriter.rows_xml

    def counted(self, first, rows):
        rows = list(rows)
        written.append(len(rows))
        return original(self, first, rows)

    monkeypatch.setattr(RowWriter, "rows_xml", counted)
    filters = filter_variants(oak)["whole trust, every code"]
    handle = xlsx_file([people_sheet(oak.admin, filters, school_map(filters))])  # no helpers: this process
    assert sum(written) == len(values(handle)) - 1 > 3  # every row but the header
