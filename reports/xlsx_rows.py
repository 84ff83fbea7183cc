"""A people sheet's rows, each cell as openpyxl's write-only sheet writes it, in this process or in helpers.

openpyxl spends 6–14 µs of Python on every cell it writes (lxml's incremental writer, an element at a time):
142,100 rows of 14 cells take it 14–50 s, beyond the 10 s a whole trust's export may take. ``RowWriter`` writes the
cells a people sheet holds (text, dates and London times, blanks) from templates of exactly the bytes openpyxl's
row writer gives them (``FastRows``: about 1 µs a cell), and hands any row holding anything else (a number, a
formula, an error word, a character a sheet cannot hold, a text too long for a cell) to openpyxl's own row writer
(``WorksheetWriter.write_row``, the code a write-only sheet runs for every ``append``), which writes or refuses it
as it always would. reports/tests/test_xlsx_fast_rows.py compares the two byte for byte, and
reports/tests/test_xlsx_helpers.py the workbooks with the one openpyxl writes alone.

The rows of a sheet do not depend on one another, so for a long sheet helper processes write batches of rows side
by side, and the parent places their XML between the sheet's ``<sheetData>`` tags in order
(``reports.exports.xlsx_file``); a short one is written by the process writing the workbook.

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
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any, BinaryIO

import openpyxl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
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


# A text openpyxl writes otherwise, or refuses: a character a sheet cannot hold (openpyxl's own list), or one XML
# cannot (a surrogate, U+FFFE, U+FFFF), which lxml refuses.
OPENPYXL_TEXT = re.compile(f"{ILLEGAL_CHARACTERS_RE.pattern}|[\ud800-\udfff\ufffe\uffff]")
TEXT_ESCAPED = re.compile(r"[&<>\r]|[^\x00-\x7f]")  # what lxml writes as an entity (it writes ASCII)
LONGEST_TEXT = 32767  # openpyxl cuts a longer text to this


def escaped(text: str) -> str:
    """``text`` as lxml writes it in an element: ``&``, ``<``, ``>`` and a carriage return as entities (a line feed
    and a tab as they are), anything beyond ASCII as a numeric character reference."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


class FastRows:
    """A people sheet's rows as openpyxl's row writer writes them (``lxml_write_cell`` for each cell, in a write-only
    sheet), byte for byte, for rows of text, naive dates and times, and blanks; None for any other row.

    ``date_style`` and ``time_style`` are the style numbers openpyxl gives a date's and a time's cell in this
    workbook (``styles_registered`` numbers them first)."""

    def __init__(self, workbook: Workbook, date_style: int, time_style: int) -> None:
        # openpyxl without lxml (OPENPYXL_LXML=False) writes other bytes, and ISO dates other cells: openpyxl then
        # writes every row itself.
        self.enabled = openpyxl.LXML and not workbook.iso_dates
        self.epoch = workbook.epoch
        self.date_style, self.time_style = date_style, time_style
        self.letters = [get_column_letter(index) for index in range(1, 200)]
        self.day = lru_cache(maxsize=4096)(self._day)  # a sheet's dates are few: due dates, start dates

    def _day(self, day: date) -> str:
        return "%.16g" % to_excel(day, self.epoch)  # noqa: UP031 - openpyxl's own format (``safe_string``)

    def row(self, number: int, values: Sequence[Any]) -> str | None:
        if not self.enabled or len(values) > len(self.letters):
            return None
        n = str(number)
        cells = [f'<row r="{n}">']
        for letter, value in zip(self.letters, values, strict=False):
            kind = value.__class__
            if value is None:
                continue
            if kind is str:
                cell = self._text(f"{letter}{n}", value)
            elif kind is date:
                cell = f'<c r="{letter}{n}" s="{self.date_style}" t="n"><v>{self.day(value)}</v></c>'
            elif kind is datetime and value.tzinfo is None:
                serial = "%.16g" % to_excel(value, self.epoch)  # noqa: UP031 - as ``_day``
                cell = f'<c r="{letter}{n}" s="{self.time_style}" t="n"><v>{serial}</v></c>'
            else:
                return None
            if cell is None:
                return None
            cells.append(cell)
        cells.append("</row>")
        return "".join(cells)

    @staticmethod
    def _text(reference: str, value: str) -> str | None:
        if not value:
            return f'<c r="{reference}" t="inlineStr"></c>'
        if (
            (len(value) > 1 and value[0] == "=")  # a formula
            or len(value) > LONGEST_TEXT
            or value in ERROR_CODES
            or OPENPYXL_TEXT.search(value)
        ):
            return None
        space = ' xml:space="preserve"' if value != value.strip() else ""
        text = escaped(value) if TEXT_ESCAPED.search(value) else value
        return f'<c r="{reference}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


class RowWriter:
    """Batches of rows as ``<row>`` elements (in a helper, or in the process writing a sheet while you wait):
    ``FastRows``, and openpyxl's row writer on a sheet of its own for the rest."""

    def __init__(self, headers: Sequence[str]) -> None:
        self.workbook = Workbook(write_only=True)
        self.worksheet = self.workbook.create_sheet("rows")
        self.styles = styles_registered(self.worksheet, headers)
        self.writer = WorksheetWriter(self.worksheet, out=io.BytesIO())  # only its write_row is used
        day, moment = (
            WriteOnlyCell(self.worksheet, date(2000, 1, 1)),
            WriteOnlyCell(self.worksheet, datetime(2000, 1, 1)),
        )
        self.fast = FastRows(self.workbook, day.style_id, moment.style_id)

    def rows_xml(self, first: int, rows: Iterable[Sequence[Any]]) -> bytes:
        """The rows as the XML of a write-only sheet's ``append``, numbered from ``first``."""
        written = []
        for number, values in enumerate(rows, first):
            xml = self.fast.row(number, values)
            written.append(xml.encode("ascii") if xml is not None else self.openpyxl_rows_xml(number, [values]))
        if len(self.workbook._cell_styles) != len(self.styles[1]):
            raise ValueError("A cell needed a style the parent does not have (a type other than text and dates).")
        return b"".join(written)

    def openpyxl_rows_xml(self, first: int, rows: Iterable[Sequence[Any]]) -> bytes:
        """The rows as openpyxl's own row writer writes them, numbered from ``first``."""
        out = io.BytesIO()
        with xmlfile(out) as xf, xf.element(SHEET_DATA):  # one root element: openpyxl's xmlfile writes one
            for number, values in enumerate(rows, first):
                self.writer.write_row(xf, self.worksheet._values_to_row(values, number), number)
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
