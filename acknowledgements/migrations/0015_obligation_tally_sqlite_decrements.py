"""On SQLite, an obligation deleted or moved takes 1 from its tally row with an UPDATE: a decrement never creates one.

Migration 0013's SQLite triggers took the 1 away with the same upsert that adds one, so an obligation deleted
after its tally row had gone wrote a row of -1. The test suite's flush deletes every table row by row (SQLite has
no TRUNCATE), in an order set by Python's string hashing, so in some processes the tally went first, the
obligations' deletions wrote rows of -1 pointing at versions the flush then deleted, and the flush's commit failed
its foreign keys. A decrement of a row that is not there now changes nothing; ``tally_check`` still finds the
drift a missing row means. PostgreSQL is unchanged: its flush truncates, which fires no delete trigger.

The SQL is written out here, frozen, as in 0013 (the insert and role triggers are 0013's and stay).
"""

from django.conf import settings
from django.db import migrations

NEVER = "9999-12-31"
TALLY = "acknowledgements_obligationtally"
OBLIGATIONS = "acknowledgements_obligation"
KEY = (
    "version_id, organisation_id, role_kind, adoption_id, code_id, owed_from, ends_on, superseded_on, signed_on, due_on"
)
OBLIGATION_COLUMNS = (
    "organisation_id",
    "code_id",
    "version_id",
    "adoption_id",
    "role_id",
    "owed_from",
    "due_on",
    "acknowledged_at",
    "superseded_at",
)


def _day(column: str) -> str:
    return f"coalesce(django_datetime_cast_date({column}, '{settings.TIME_ZONE}', 'UTC'), '{NEVER}')"


def _key_of(row: str) -> str:
    """The tally key of the obligation ``row`` (``NEW`` or ``OLD``), by its role's kind and end."""
    return (
        f"SELECT {row}.version_id, {row}.organisation_id, r.kind, {row}.adoption_id, {row}.code_id, "
        f"{row}.owed_from, coalesce(r.ends_on, '{NEVER}'), {_day(f'{row}.superseded_at')}, "
        f"{_day(f'{row}.acknowledged_at')}, {row}.due_on FROM conduct_role r WHERE r.id = {row}.role_id"
    )


def _decrement(row: str) -> str:
    """1 taken from ``row``'s tally row if there is one, then the (version, organisation)'s emptied rows swept."""
    return (
        f"UPDATE {TALLY} SET n = n - 1 WHERE ({KEY}) = ({_key_of(row)});"
        f"DELETE FROM {TALLY} WHERE version_id = {row}.version_id AND organisation_id = {row}.organisation_id "
        "AND n = 0;"
    )


def _increment(row: str) -> str:
    select = _key_of(row).replace(" FROM conduct_role", ", 1 FROM conduct_role", 1)
    return f"INSERT INTO {TALLY} ({KEY}, n) {select} ON CONFLICT ({KEY}) DO UPDATE SET n = n + excluded.n;"


def _triggers(decrement) -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in OBLIGATION_COLUMNS)
    return [
        "DROP TRIGGER IF EXISTS obligation_tally_delete;",
        "DROP TRIGGER IF EXISTS obligation_tally_update;",
        f"CREATE TRIGGER obligation_tally_delete AFTER DELETE ON {OBLIGATIONS} BEGIN {decrement('OLD')} END;",
        f"""CREATE TRIGGER obligation_tally_update AFTER UPDATE ON {OBLIGATIONS} WHEN {changed}
            BEGIN {decrement("OLD")} {_increment("NEW")} END;""",
    ]


def _upsert_decrement(row: str) -> str:
    """0013's decrement, for going back: an upsert of -1, then the sweep."""
    select = _key_of(row).replace(" FROM conduct_role", ", -1 FROM conduct_role", 1)
    return (
        f"INSERT INTO {TALLY} ({KEY}, n) {select} ON CONFLICT ({KEY}) DO UPDATE SET n = n + excluded.n;"
        f"DELETE FROM {TALLY} WHERE version_id = {row}.version_id AND organisation_id = {row}.organisation_id "
        "AND n = 0;"
    )


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for statement in _triggers(_decrement):
            schema_editor.execute(statement)


def backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for statement in _triggers(_upsert_decrement):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("acknowledgements", "0014_obligation_tally_fewer_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
