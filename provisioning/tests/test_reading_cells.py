"""The readings of a file's cells shared by the CSV import, the roster sync and SCIM: role names and dates."""

from __future__ import annotations

from datetime import date

from conduct.models import role_kind_from_text
from core.dates import date_from_text


def test_role_kind_from_text_reads_labels_plurals_and_stored_kinds():
    assert role_kind_from_text("Local governor") == "local_governor"
    assert role_kind_from_text("  local_governors ") == "local_governor"
    assert role_kind_from_text("LOCAL-GOVERNOR") == "local_governor"
    assert role_kind_from_text("Employee") == "employee"
    assert role_kind_from_text("Head wizard") is None


def test_date_from_text_reads_iso_and_day_first_forms_and_guesses_nothing():
    assert date_from_text("2026-09-01") == date(2026, 9, 1)
    assert date_from_text(" 01/09/2026 ") == date(2026, 9, 1)
    assert date_from_text("01/09/26") == date(2026, 9, 1)
    assert date_from_text("01.09.2026") == date(2026, 9, 1)
    assert date_from_text("09/31/2026") is None  # month first is not read as a date
    assert date_from_text("next Monday") is None
