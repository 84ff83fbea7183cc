"""Trigram indexes for the people directory's search (PostgreSQL only; issue 10).

The directory searches with ``icontains`` (``UPPER(column) LIKE UPPER('%word%')``). Without an index on those
expressions PostgreSQL has no statistics for them and guesses that a word matches a handful of people, so a search
matching nearly everyone (a domain, "scale.example") was planned as a full scan and a sort of every match (370 ms on
50,000 people) instead of reading the name index until the page is full (under 1 ms). A GIN trigram index on each
expression gives the planner their statistics and answers rare words from the index.

SQLite has neither pg_trgm nor the problem: nothing is done there, and the models declare no index (so the
SQLite schema and the migration state stay as they were).
"""

from django.db import migrations

INDEXES = {
    "person_full_name_trigram": "full_name",
    "person_email_trigram": "email",
}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON conduct_person USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )
    schema_editor.execute("ANALYZE conduct_person")  # the expressions' statistics, for the planner at once


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("conduct", "0011_audit_action_retention_applied"),
    ]

    operations = [migrations.RunPython(create, drop)]
