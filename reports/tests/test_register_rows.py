"""The register's rows as ``register_rows`` writes them: the markup of the template loop they replaced (kept
here as the reference), for every case a row shows, and escaped."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from django.template import Context, Template

from core.tests.test_quick_fields import normalised
from reports.register import Entry, InterestEntry

REFERENCE = Template((Path(__file__).parent / "register_rows_reference.html").read_text())
OURS = Template("{% load reports_tags %}{% register_rows body.entries %}")


def _entry(**changes) -> Entry:
    values = {
        "full_name": "Ada Lovelace",
        "category": "Parent governor",
        "appointed_by": "Elected by parents",
        "appointed_on": date(2023, 9, 1),
        "term_ends_on": date(2027, 8, 31),
        "stepped_down_on": None,
        "role_on_board": "Chair",
        "meetings_attended": 5,
        "meetings_held": 6,
    }
    return Entry(**{**values, **changes})


def _rendered(template: Template, entries: list[Entry]) -> str:
    return normalised(template.render(Context({"body": {"entries": entries}})))


def test_the_rows_are_the_template_loops_for_every_case():
    entries = [
        _entry(),  # no declaration on record
        _entry(
            full_name="Tom <b>O'Brien</b> & Sons",
            category="Co-opted <governor>",
            appointed_by='The board & its "members"',
            term_ends_on=None,
            stepped_down_on=date(2026, 3, 31),
            role_on_board="Vice-chair",
            meetings_attended=None,
            meetings_held=0,
            declared_on=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
            nothing_to_declare=True,
        ),
        _entry(
            declared_on=datetime(2025, 10, 2, 23, 30, tzinfo=UTC),
            interests=[
                InterestEntry("Acme <Ltd>", "Business", "Director & shareholder", date(2020, 1, 1), None),
                InterestEntry("St Mary's PCC", "Charity", "Trustee", date(2019, 5, 1), date(2026, 2, 28)),
            ],
        ),
    ]
    ours = _rendered(OURS, entries)
    assert ours == _rendered(REFERENCE, entries)
    assert "Tom &lt;b&gt;O&#x27;Brien&lt;/b&gt; &amp; Sons" in ours and "<b>" not in ours
    assert "31 March 2026" in ours and "28 February 2026" in ours and "No meetings while in office" in ours


def test_a_body_with_nobody_writes_no_rows():
    assert _rendered(OURS, []) == _rendered(REFERENCE, []) == ""
