"""Aggregates Django has only for one database, written for both that the product runs on."""

from __future__ import annotations

from django.db.models import Aggregate, JSONField


class JSONArrayAgg(Aggregate):
    """The group's values as one JSON array (``JSONB_AGG`` on PostgreSQL, ``JSON_GROUP_ARRAY`` on SQLite).

    ``django.contrib.postgres``'s ``JSONBAgg`` is PostgreSQL's only; SQLite returns the array as text, which
    ``JSONField`` decodes when the value comes through the ORM (a raw statement leaves it to the caller)."""

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)
