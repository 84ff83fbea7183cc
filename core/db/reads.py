"""Reads that need a word with the database's planner."""

from __future__ import annotations

from typing import Any

from django.db import connections, transaction
from django.db.models import QuerySet

SETTING = "max_parallel_workers_per_gather"


def first_in_one_pass(rows: QuerySet[Any]) -> Any | None:
    """The first row of ``rows`` (usually sliced past an OFFSET), or None, read on PostgreSQL without parallel
    workers: a walk along an index in the query's order is one ordered pass, which workers only split and merge back
    (on two CPUs shared with the web workers that doubled the directory's walk, and made the drill-down's 13 ms
    against 3). The setting lasts for this read only: to the end of its own transaction, or, inside a caller's,
    until it is put back."""
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return next(iter(rows), None)
    nested = connection.in_atomic_block  # SET LOCAL would outlive a savepoint, to the end of the caller's transaction
    with transaction.atomic(using=rows.db), connection.cursor() as cursor:
        if nested:
            cursor.execute("SELECT current_setting(%s)", [SETTING])
            previous = cursor.fetchone()[0]
        cursor.execute(f"SET LOCAL {SETTING} = 0")
        try:
            return next(iter(rows), None)
        finally:
            if nested:
                cursor.execute("SELECT set_config(%s, %s, true)", [SETTING, previous])
