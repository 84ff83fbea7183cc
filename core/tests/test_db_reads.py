"""core.db.reads.first_in_one_pass: the first row or None, parallel workers off for that read only."""

from __future__ import annotations

import pytest
from django.db import connection

from conduct.models import Person
from conduct.tests.factories import PersonFactory
from core.db.reads import first_in_one_pass

pytestmark = pytest.mark.django_db


def _workers() -> str | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        return cursor.fetchone()[0]


def test_it_reads_the_first_row_past_an_offset_and_none_past_the_end():
    people = [PersonFactory.create(full_name=f"Person {n}") for n in range(3)]
    ordered = Person.objects.order_by("pk").values_list("pk", flat=True)
    assert first_in_one_pass(ordered[1:2]) == people[1].pk
    assert first_in_one_pass(ordered[3:4]) is None


def test_the_setting_lasts_only_for_that_read():
    before = _workers()
    first_in_one_pass(Person.objects.values_list("pk", flat=True)[:1])
    assert _workers() == before
