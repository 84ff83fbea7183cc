"""Shared pieces of the benchmark commands: a throwaway database and a timer that counts queries.

Benchmarks build large data sets; they never touch the configured database:
each runs in a test database created next to it and dropped afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar
from unittest import mock

from django.core.management.base import OutputWrapper
from django.db import connection
from django.test.utils import CaptureQueriesContext

T = TypeVar("T")


@contextmanager
def throwaway_database(suffix: str, stdout: OutputWrapper) -> Iterator[None]:
    """Create a fresh database (``<name>_<suffix>`` on PostgreSQL), use it, then drop it."""
    settings_dict = connection.settings_dict
    original_name = settings_dict["NAME"]
    if connection.vendor == "postgresql":
        settings_dict.setdefault("TEST", {})["NAME"] = f"{original_name}_{suffix}"
    stdout.write(f"Creating a throwaway {connection.vendor} database …")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        # Work the services queue (a certificate, a PDF) names rows of this database only: a worker
        # must never receive it. Benchmarks time the services, not the tasks.
        with mock.patch("core.tasks._send"):
            yield
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)


def analyse(*tables: str) -> None:
    """Refresh PostgreSQL's statistics after a bulk load, as autovacuum would have done by now.

    Name ``tables`` to refresh only those (quicker midway through a load); none means every table.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(map(connection.ops.quote_name, tables))}" if tables else "ANALYZE")


@contextmanager
def captured() -> Iterator[CaptureQueriesContext]:
    with CaptureQueriesContext(connection) as queries:
        yield queries


def timed(
    stdout: OutputWrapper, label: str, action: Callable[[], T], *, width: int = 46, places: int = 2
) -> tuple[T, float, CaptureQueriesContext]:
    """Run ``action``, print its time and query count on one line, and return (result, seconds, queries)."""
    with captured() as queries:
        started = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - started
    stdout.write(f"  {label:<{width}} {elapsed:8.{places}f} s  {len(queries):6d} queries  {result}")
    return result, elapsed, queries
