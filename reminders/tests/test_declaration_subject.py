"""A declaration reminder's subject names the top-level organisation and the academic year; it is read back one way."""

from __future__ import annotations

from datetime import date

from core.academic_year import academic_year_label, academic_year_start
from reminders.planning import declaration_subject, declaration_subject_parts


def test_the_subject_is_read_back_as_the_organisation_and_the_years_1_september():
    year_start = academic_year_start(date(2027, 8, 31))  # the last day of 2026–27
    subject = declaration_subject(12, year_start)
    assert subject == "declaration:12:2026"
    assert declaration_subject_parts(subject) == (12, date(2026, 9, 1))
    assert academic_year_label(declaration_subject_parts(subject)[1]) == "2026–27"
