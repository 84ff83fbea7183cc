"""A long sheet's rows written by helper processes, each cell by openpyxl as in its own write-only sheet.

openpyxl spends about 6 µs of Python on every cell it writes, one core's worth: 142,100 rows of 14 cells take it
longer than the 10 s a whole trust's export may take. The rows of a sheet do not depend on one another, so helper
processes write batches of rows side by side, each with openpyxl's own row writer (``WorksheetWriter.write_row``,
the code a write-only sheet runs for every ``append``), and the parent places their XML between the sheet's
``<sheetData>`` tags in order (``reports.exports.xlsx_file``). Nothing here writes a cell by hand.

A helper is ``python -m reports.xlsx_rows``: a fresh interpreter that imports openpyxl and nothing of Django (no
fork of a process holding database connections, and it works under Celery's prefork pool, whose daemonic
processes may not start ``multiprocessing`` children). It reads pickled ``(first row number, rows)`` batches on
stdin and answers each with the rows' XML on stdout; None ends it.

A cell's style is an index into the workbook's table of styles, numbered in the order styles are first used. The
parent and every helper number theirs the same way (``styles_registered``: the header's, then dates', then times')
and the helper says its table first, so the parent can refuse a file whose dates would point at the wrong style.
"""

from __future__ import annotations

import io
import pickle
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.xml.functions import xmlfile

PROTOCOL = pickle.HIGHEST_PROTOCOL
SHEET_DATA = "sheetData"


def header_cells(worksheet: WriteOnlyWorksheet, headers: Sequence[str]) -> list[WriteOnlyCell]:
    """The header row: bold on a light grey fill."""
    cells = []
    for header in headers:
        cell = WriteOnlyCell(worksheet, value=header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E9ECEF")
        cells.append(cell)
    return cells


def styles_registered(worksheet: WriteOnlyWorksheet, headers: Sequence[str]) -> tuple[list[str], list[Any]]:
    """Number the styles a people sheet uses in a fixed order (the header's, a date's, a time's) and return the
    workbook's tables of number formats and cell styles, which the parent and its helpers must share."""
    prototypes = [*header_cells(worksheet, headers), WriteOnlyCell(worksheet, date(2000, 1, 1))]
    prototypes.append(WriteOnlyCell(worksheet, datetime(2000, 1, 1, 12)))
    for cell in prototypes:
        cell.style_id  # noqa: B018 - reading it is what enters the style in the workbook's table
    workbook = worksheet.parent
    return list(workbook._number_formats), [tuple(style) for style in workbook._cell_styles]


class RowWriter:
    """openpyxl's row writer on a sheet of its own, turning batches of rows into ``<row>`` elements."""

    def __init__(self, headers: Sequence[str]) -> None:
        self.workbook = Workbook(write_only=True)
        self.worksheet = self.workbook.create_sheet("rows")
        self.styles = styles_registered(self.worksheet, headers)
        self.writer = WorksheetWriter(self.worksheet, out=io.BytesIO())  # only its write_row is used

    def rows_xml(self, first: int, rows: Iterable[Sequence[Any]]) -> bytes:
        """The rows as the XML of a write-only sheet's ``append``, numbered from ``first``."""
        out = io.BytesIO()
        with xmlfile(out) as xf, xf.element(SHEET_DATA):  # one root element: openpyxl's xmlfile writes one
            for number, values in enumerate(rows, first):
                self.writer.write_row(xf, self.worksheet._values_to_row(values, number), number)
        if len(self.workbook._cell_styles) != len(self.styles[1]):
            raise ValueError("A cell needed a style the parent does not have (a type other than text and dates).")
        return unwrapped(out.getvalue())


def unwrapped(xml: bytes) -> bytes:
    """What is inside the ``<sheetData>`` element the rows were written in."""
    start, end = f"<{SHEET_DATA}>".encode(), f"</{SHEET_DATA}>".encode()
    if not (xml.startswith(start) and xml.endswith(end)):
        raise ValueError("The rows' XML is not one sheetData element.")
    return xml[len(start) : -len(end)]


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """A helper's life: the headers, then batches until None; every answer is ``(ok, payload)``."""
    writer = RowWriter(pickle.load(stdin))
    pickle.dump((True, writer.styles), stdout, PROTOCOL)
    stdout.flush()
    while (batch := pickle.load(stdin)) is not None:
        try:
            answer: tuple[bool, Any] = (True, writer.rows_xml(*batch))
        except Exception as error:  # said to the parent, which raises it in the job
            answer = (False, f"{error.__class__.__name__}: {error}")
        pickle.dump(answer, stdout, PROTOCOL)
        stdout.flush()


if __name__ == "__main__":
    try:
        serve(sys.stdin.buffer, sys.stdout.buffer)
    except (EOFError, BrokenPipeError):  # the parent went away (killed, or it stopped us): nothing to say
        sys.exit(1)
