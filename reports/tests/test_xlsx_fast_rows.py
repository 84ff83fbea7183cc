"""``FastRows`` writes the bytes openpyxl's own row writer writes for the same row, or hands the row to it.

Each case is compared with ``RowWriter.openpyxl_rows_xml`` (openpyxl's ``WorksheetWriter.write_row`` in a
write-only sheet, the code every ``append`` runs): text that lxml escapes or keeps, white space at either end,
dates across Excel's 1900 leap-year bug, times to the microsecond, blanks, and every value openpyxl writes
otherwise or refuses. No database.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from openpyxl.utils.exceptions import IllegalCharacterError

from reports.xlsx_rows import RowWriter

FAST = [
    "Ann Smith",
    "",
    "x & <y> \"quoted\" 'single'",
    "line\r\nbreaks\nand\ttabs",
    " leading",
    "trailing ",
    "   ",
    "\u00a0non-breaking",
    "ideographic\u3000",
    "Zoë Brontë, €5, 😀, \u2028, \u0085, \x7f",
    "'=HYPERLINK(1)",
    "=",
    "#",
    "x" * 32767,
    date(1900, 1, 1),
    date(1900, 2, 28),
    date(1900, 3, 1),
    date(2026, 9, 1),
    datetime(2026, 10, 25, 1, 59, 59, 999999),
    datetime(1899, 12, 30, 0, 0, 0, 1),
]
# openpyxl writes these otherwise (a formula, an error, a number, a cut text) or refuses them (a time zone)
OTHERWISE = ["=SUM(1)", "#N/A", "#DIV/0!", 7, 2.5, True, "x" * 32768, datetime(2026, 9, 1, tzinfo=UTC)]
REFUSED = ["bell\x07", "form\x0cfeed", "\x1f", "\ufffe", "\uffff"]


@pytest.fixture
def writer() -> RowWriter:
    return RowWriter(["Name", "Owed from"])


def openpyxl_or_error(writer: RowWriter, first: int, rows: list[list]) -> bytes | str:
    try:
        return writer.openpyxl_rows_xml(first, rows)
    except Exception as error:
        return f"{error.__class__.__name__}: {error}"


def ours_or_error(writer: RowWriter, first: int, rows: list[list]) -> bytes | str:
    try:
        return writer.rows_xml(first, rows)
    except Exception as error:
        return f"{error.__class__.__name__}: {error}"


@pytest.mark.parametrize("value", FAST, ids=range(len(FAST)))
def test_a_value_of_a_people_sheet_is_written_by_the_template_as_openpyxl_writes_it(writer, value):
    row = ["first", value, None, value]
    assert writer.fast.row(7, row) is not None  # the template wrote it, not openpyxl
    assert writer.rows_xml(7, [row]) == writer.openpyxl_rows_xml(7, [row])


@pytest.mark.parametrize("value", OTHERWISE + REFUSED, ids=range(len(OTHERWISE + REFUSED)))
def test_any_other_value_is_written_or_refused_by_openpyxl_itself(writer, value):
    row = ["first", value]
    assert writer.fast.row(3, row) is None
    expected = openpyxl_or_error(writer, 3, [row])
    assert ours_or_error(writer, 3, [row]) == expected
    if value in REFUSED[:3]:
        with pytest.raises(IllegalCharacterError):
            writer.rows_xml(3, [row])


def test_a_batch_mixing_both_is_one_sheet_of_rows_in_order(writer):
    rows = [["Ann", date(2026, 9, 1)], ["Bea", 7], [None, None], ["Cy", None, datetime(2026, 9, 2, 8)]]
    assert writer.rows_xml(41, rows) == writer.openpyxl_rows_xml(41, rows)
    assert writer.rows_xml(41, rows).startswith(b'<row r="41"><c r="A41" t="inlineStr"><is><t>Ann</t>')


def test_random_rows_are_written_as_openpyxl_writes_them(writer):
    pieces = [*"abc XYZ&<>\"'\r\n\t=#/!?-é€😀\u00a0\u3000\u2028\x85\x7f", "#N/A", "=x", "\x01", "\ufffe"]
    chance = random.Random(2026)

    def value() -> object:
        roll = chance.random()
        if roll < 0.1:
            return None
        if roll < 0.2:
            return date(1899, 12, 31) + timedelta(days=chance.randrange(80_000))
        if roll < 0.3:
            moment = timedelta(seconds=chance.randrange(4_000_000_000), microseconds=chance.randrange(10**6))
            return datetime(1900, 1, 1) + moment
        if roll < 0.32:
            return chance.choice([1, 2.5, True, ""])
        return "".join(chance.choice(pieces) for _ in range(chance.randrange(5)))

    fast = 0
    for number in range(2, 3002):
        row = [value() for _ in range(chance.choice([1, 2, 14]))]
        fast += writer.fast.row(number, row) is not None
        assert ours_or_error(writer, number, [row]) == openpyxl_or_error(writer, number, [row]), row
    assert 1000 < fast < 2900  # both ways were compared, many times


def test_without_lxml_openpyxl_writes_every_row(monkeypatch):
    monkeypatch.setattr(openpyxl, "LXML", False)
    writer = RowWriter(["Name"])
    assert writer.fast.row(2, ["Ann"]) is None
