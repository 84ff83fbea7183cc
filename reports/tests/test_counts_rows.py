"""The dashboard's tables by school and role as ``counts_rows`` writes them: the markup of the template loop they
replaced (kept here as the reference), with and without links, every kind of percentage, and escaped."""

from __future__ import annotations

from pathlib import Path

from django.template import Context, Template

from core.tests.test_quick_fields import normalised
from reports.selectors import Counts, Row

REFERENCE = Template((Path(__file__).parent / "counts_rows_reference.html").read_text())
OURS = Template("{% load reports_tags %}{% counts_rows rows drill_key links %}")
PARAMS = {"organisation": "3", "code": "", "version": "9", "school": "", "status": "overdue", "as_at": "2026-12-02"}

ROWS = [
    Row("41", "Northgate <Academy> & Sixth Form", Counts(owe=120, signed=80, overdue=25)),
    Row("none", "No school", Counts(owe=3, signed=3, overdue=0)),
    Row("42", "Southgate", Counts(owe=0, signed=0, overdue=0)),  # no percentage
    Row("43", "Westgate", Counts(owe=3, signed=1, overdue=1)),  # 33.3
    Row("44", "Eastgate", Counts(owe=12345, signed=6789, overdue=1000)),  # no thousands separator
]


def _rendered(template: Template, rows: list[Row], links: bool, drill_key: str = "school") -> str:
    context = {"rows": rows, "links": links, "drill_key": drill_key, "params": PARAMS}
    return normalised(template.render(Context(context)))


def test_the_rows_are_the_template_loops_with_links_and_without():
    for links in (True, False):
        ours = _rendered(OURS, ROWS, links)
        assert ours == _rendered(REFERENCE, ROWS, links)
        assert "Northgate &lt;Academy&gt; &amp; Sixth Form" in ours and "<Academy>" not in ours
        assert "33.3%" in ours and "—" in ours and ("school=41" in ours) == links


def test_the_rows_by_role_link_by_role():
    rows = [Row("local_governor", "Local governor", Counts(owe=4, signed=2, overdue=1))]
    ours = _rendered(OURS, rows, True, drill_key="role")
    assert ours == _rendered(REFERENCE, rows, True, drill_key="role") and "role=local_governor" in ours


def test_no_rows_says_so():
    assert _rendered(OURS, [], True) == _rendered(REFERENCE, [], True)
    assert "No one owes a signature for these filters." in _rendered(OURS, [], False)
