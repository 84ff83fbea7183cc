"""benchmark_pages: its arithmetic, its table, its own section of the file, and the input it refuses.

The measurement itself needs gunicorn and the scale data on PostgreSQL (docs/benchmarks.md); these tests do not time
anything."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from devtools.benchmark_pages import END, START, Page, SizeResult, markdown, percentile, write_section


def result(label: str, floor: float, page: float, *, queries: int = 8) -> SizeResult:
    pages = [
        Page("floor", "Floor", "/benchmark-floor/", target_ms=None, queries=2, times=[floor] * 20),
        Page(
            "reading", "Reading page", "/codes/x/versions/1/", 30, queries=queries, times=[page] * 18 + [page * 3] * 2
        ),
    ]
    return SizeResult(
        label=label,
        people=5000,
        acknowledgements=15000,
        pages=pages,
        sign={"queries": 12, "median_ms": 9.0, "p95_ms": 14.0, "cpu_ms": 11.0},
    )


def test_percentile_is_the_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.95) == 95 and percentile(values, 0.05) == 6 and percentile([7.0], 0.95) == 7.0


def test_the_table_shows_each_size_the_ratio_to_the_floor_the_growth_and_the_targets():
    table = markdown(
        [result("5000", 2.0, 10.0), result("50000", 2.0, 12.0)],
        command="manage.py benchmark_pages …",
        when=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        title="Pages",
    )
    assert table.startswith(START) and table.endswith(END)
    reading = next(line for line in table.splitlines() if line.startswith("| Reading page"))
    # queries | median | p95 | × floor for each size, then the growth of the median.
    assert "| 8 | 10 | 30 ✓ | 5.0 |" in reading and "| 8 | 12 | 36 ✗ | 6.0 |" in reading
    assert reading.endswith("| 1.20 ✓ |")
    assert "| queries of one sign POST | ≤ 12 | 12 | 12 |" in table


def test_writing_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text(f"# Benchmarks\n\nothers' section\n\n{START}\nold figures\n{END}\n\nlater section\n")
    write_section(path, f"{START}\nnew figures\n{END}")
    text = path.read_text()
    assert "old figures" not in text and "new figures" in text
    assert text.index("others' section") < text.index("new figures") < text.index("later section")
    other = tmp_path / "new.md"
    write_section(other, f"{START}\nfirst\n{END}")
    assert other.read_text().strip().endswith(END)


@pytest.mark.django_db
def test_the_command_refuses_what_it_cannot_measure(settings):
    with pytest.raises(CommandError, match="LABEL=postgres"):
        call_command("benchmark_pages", "--database", "sqlite:///x.db")
    with pytest.raises(CommandError, match="port"):
        call_command("benchmark_pages", "--database", "a=postgres://h/db", "--port", "80")
    if connection.vendor != "postgresql":  # queries are counted in this process: it must be on PostgreSQL too
        with pytest.raises(CommandError, match="PostgreSQL"):
            call_command("benchmark_pages", "--database", "a=postgres://h/db")
