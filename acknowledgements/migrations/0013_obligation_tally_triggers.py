"""Triggers keep ``ObligationTally`` equal to a GROUP BY of the obligations, on PostgreSQL and SQLite; then a backfill.

The tally counts obligations by (version, organisation, role kind, adoption, code, owed from, the role's end, the
London days superseded and signed, due on), with 9999-12-31 for "never" (a unique key with NULLs in it is no
key on either database). Every change is an additive upsert (+1 on the new key, -1 on the old one), and a row
brought to 0 is deleted, so an ``ObligationTally`` row is never left pointing at nothing.

- PostgreSQL: statement-level triggers with transition tables, so one statement that opens, supersedes or deletes
  thousands of obligations makes one grouped upsert, its rows taken in key order (two writers lock the shared
  rows in the same order and cannot deadlock each other). A role whose kind or end changes moves its obligations.
- SQLite: the same per row (it has no statement-level triggers). The London day comes from
  ``django_datetime_cast_date``, which Django registers on every connection it opens (what ``TruncDate`` calls),
  so a change made outside Django (the sqlite3 shell) fails rather than skipping the tally.

The site's time zone is read from settings when this migration runs (the days must be the ones the reports
group by); everything else is written out here, frozen. ``manage.py tally_check`` recomputes and repairs.
"""

from django.conf import settings
from django.db import migrations

NEVER = "9999-12-31"
TALLY = "acknowledgements_obligationtally"
KEY = (
    "version_id, organisation_id, role_kind, adoption_id, code_id, owed_from, ends_on, superseded_on, signed_on, due_on"
)
# What a changed obligation contributes (its role's kind and end, as they stand or stood), with a delta of +1 or -1.
CHANGED = (
    "version_id, organisation_id, role_kind, adoption_id, code_id, owed_from, role_ends_on, superseded_at, "
    "acknowledged_at, due_on, delta"
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


def _pg_day(column: str) -> str:
    return f"coalesce(({column} AT TIME ZONE '{settings.TIME_ZONE}')::date, DATE '{NEVER}')"


def _pg_upsert(rows: str) -> str:
    """One grouped upsert of ``rows`` (CHANGED columns); the ids of rows it brought to 0 into ``emptied``."""
    return f"""
      WITH changed({CHANGED}) AS ({rows}),
      grouped AS (
        SELECT version_id, organisation_id, role_kind, adoption_id, code_id, owed_from,
               coalesce(role_ends_on, DATE '{NEVER}'), {_pg_day("superseded_at")}, {_pg_day("acknowledged_at")},
               due_on, sum(delta)
        FROM changed GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 HAVING sum(delta) <> 0
      ),
      upserted AS (
        INSERT INTO {TALLY} AS t ({KEY}, n) SELECT * FROM grouped ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
        ON CONFLICT ({KEY}) DO UPDATE SET n = t.n + EXCLUDED.n
        RETURNING t.id, t.n
      )
      SELECT coalesce(array_agg(id), '{{}}') INTO emptied FROM upserted WHERE n = 0;
      DELETE FROM {TALLY} WHERE id = ANY(emptied);"""


def _pg_obligation_rows(table: str, delta: int) -> str:
    return (
        f"SELECT o.version_id, o.organisation_id, r.kind, o.adoption_id, o.code_id, o.owed_from, r.ends_on, "
        f"o.superseded_at, o.acknowledged_at, o.due_on, {delta} FROM {table} o JOIN conduct_role r ON r.id = o.role_id"
    )


def _pg_key_changed(old: str, new: str) -> str:
    olds = ", ".join(f"{old}.{c}" for c in OBLIGATION_COLUMNS)
    news = ", ".join(f"{new}.{c}" for c in OBLIGATION_COLUMNS)
    return f"({olds}) IS DISTINCT FROM ({news})"


def _pg_role_rows(roles: str, delta: int) -> str:
    changed = "old_roles.kind IS DISTINCT FROM new_roles.kind OR old_roles.ends_on IS DISTINCT FROM new_roles.ends_on"
    return (
        f"SELECT o.version_id, o.organisation_id, {roles}.kind, o.adoption_id, o.code_id, o.owed_from, "
        f"{roles}.ends_on, o.superseded_at, o.acknowledged_at, o.due_on, {delta} "
        f"FROM old_roles JOIN new_roles ON new_roles.id = old_roles.id "
        f"JOIN acknowledgements_obligation o ON o.role_id = old_roles.id WHERE {changed}"
    )


def _postgresql() -> list[str]:
    updated = (
        f"{_pg_obligation_rows('old_rows', -1)} WHERE EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id AND "
        f"{_pg_key_changed('o', 'n')}) UNION ALL {_pg_obligation_rows('new_rows', 1)} WHERE EXISTS "
        f"(SELECT 1 FROM old_rows p WHERE p.id = o.id AND {_pg_key_changed('p', 'o')})"
    )
    function = f"""
        CREATE OR REPLACE FUNCTION obligation_tally_track() RETURNS trigger AS $$
        DECLARE
          emptied bigint[];
        BEGIN
          IF TG_OP = 'INSERT' THEN {_pg_upsert(_pg_obligation_rows("new_rows", 1))}
          ELSIF TG_OP = 'DELETE' THEN {_pg_upsert(_pg_obligation_rows("old_rows", -1))}
          ELSE {_pg_upsert(updated)}
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql;"""
    role_function = f"""
        CREATE OR REPLACE FUNCTION obligation_tally_role_moved() RETURNS trigger AS $$
        DECLARE
          emptied bigint[];
        BEGIN {_pg_upsert(f"{_pg_role_rows('old_roles', -1)} UNION ALL {_pg_role_rows('new_roles', 1)}")}
          RETURN NULL;
        END $$ LANGUAGE plpgsql;"""
    table = "acknowledgements_obligation"
    return [
        function,
        role_function,
        f"""CREATE TRIGGER obligation_tally_insert AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION obligation_tally_track();""",
        f"""CREATE TRIGGER obligation_tally_delete AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION obligation_tally_track();""",
        f"""CREATE TRIGGER obligation_tally_update AFTER UPDATE ON {table}
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION obligation_tally_track();""",
        """CREATE TRIGGER obligation_tally_role AFTER UPDATE ON conduct_role
            REFERENCING OLD TABLE AS old_roles NEW TABLE AS new_roles
            FOR EACH STATEMENT EXECUTE FUNCTION obligation_tally_role_moved();""",
    ]


POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS obligation_tally_insert ON acknowledgements_obligation;",
    "DROP TRIGGER IF EXISTS obligation_tally_delete ON acknowledgements_obligation;",
    "DROP TRIGGER IF EXISTS obligation_tally_update ON acknowledgements_obligation;",
    "DROP TRIGGER IF EXISTS obligation_tally_role ON conduct_role;",
    "DROP FUNCTION IF EXISTS obligation_tally_track();",
    "DROP FUNCTION IF EXISTS obligation_tally_role_moved();",
]


def _sqlite_day(column: str) -> str:
    return f"coalesce(django_datetime_cast_date({column}, '{settings.TIME_ZONE}', 'UTC'), '{NEVER}')"


def _sqlite_upsert(select: str) -> str:
    return f"INSERT INTO {TALLY} ({KEY}, n) {select} ON CONFLICT ({KEY}) DO UPDATE SET n = n + excluded.n;"


def _sqlite_one(row: str, delta: int) -> str:
    """+1 or -1 for one obligation (``NEW`` or ``OLD``), then the (version, organisation)'s emptied rows swept."""
    select = (
        f"SELECT {row}.version_id, {row}.organisation_id, r.kind, {row}.adoption_id, {row}.code_id, "
        f"{row}.owed_from, coalesce(r.ends_on, '{NEVER}'), {_sqlite_day(f'{row}.superseded_at')}, "
        f"{_sqlite_day(f'{row}.acknowledged_at')}, {row}.due_on, {delta} "
        f"FROM conduct_role r WHERE r.id = {row}.role_id"
    )
    sweep = (
        f"DELETE FROM {TALLY} WHERE version_id = {row}.version_id AND organisation_id = {row}.organisation_id "
        "AND n = 0;"
    )
    return _sqlite_upsert(select) + (sweep if delta < 0 else "")


def _sqlite_role(row: str, delta: int) -> str:
    """The role's obligations moved from (or to) the role's kind and end as ``row`` has them."""
    select = (
        f"SELECT o.version_id, o.organisation_id, {row}.kind, o.adoption_id, o.code_id, o.owed_from, "
        f"coalesce({row}.ends_on, '{NEVER}'), {_sqlite_day('o.superseded_at')}, {_sqlite_day('o.acknowledged_at')}, "
        f"o.due_on, {delta} * count(*) FROM acknowledgements_obligation o WHERE o.role_id = {row}.id "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
    )
    return _sqlite_upsert(select)


def _sqlite() -> list[str]:
    table = "acknowledgements_obligation"
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in OBLIGATION_COLUMNS)
    sweep_role = (
        f"DELETE FROM {TALLY} WHERE n = 0 AND organisation_id IN "
        "(SELECT organisation_id FROM acknowledgements_obligation WHERE role_id = NEW.id);"
    )
    return [
        f"CREATE TRIGGER obligation_tally_insert AFTER INSERT ON {table} BEGIN {_sqlite_one('NEW', 1)} END;",
        f"CREATE TRIGGER obligation_tally_delete AFTER DELETE ON {table} BEGIN {_sqlite_one('OLD', -1)} END;",
        f"""CREATE TRIGGER obligation_tally_update AFTER UPDATE ON {table} WHEN {changed}
            BEGIN {_sqlite_one("OLD", -1)} {_sqlite_one("NEW", 1)} END;""",
        f"""CREATE TRIGGER obligation_tally_role AFTER UPDATE OF kind, ends_on ON conduct_role
            WHEN OLD.kind IS NOT NEW.kind OR OLD.ends_on IS NOT NEW.ends_on
            BEGIN {_sqlite_role("OLD", -1)} {_sqlite_role("NEW", 1)} {sweep_role} END;""",
    ]


SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS obligation_tally_insert;",
    "DROP TRIGGER IF EXISTS obligation_tally_delete;",
    "DROP TRIGGER IF EXISTS obligation_tally_update;",
    "DROP TRIGGER IF EXISTS obligation_tally_role;",
]


def _backfill(vendor: str) -> str:
    day = _pg_day if vendor == "postgresql" else _sqlite_day
    return (
        f"INSERT INTO {TALLY} ({KEY}, n) SELECT o.version_id, o.organisation_id, r.kind, o.adoption_id, o.code_id, "
        f"o.owed_from, coalesce(r.ends_on, '{NEVER}'), {day('o.superseded_at')}, {day('o.acknowledged_at')}, "
        "o.due_on, count(*) FROM acknowledgements_obligation o JOIN conduct_role r ON r.id = o.role_id "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
    )


def forwards(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(f"No obligation tally triggers for the {vendor} database; add them before using it.")
    if vendor == "postgresql":
        # No obligation may change between the backfill and the triggers (a signature then would be lost).
        schema_editor.execute("LOCK TABLE acknowledgements_obligation, conduct_role IN SHARE ROW EXCLUSIVE MODE")
    schema_editor.execute(f"DELETE FROM {TALLY}")
    schema_editor.execute(_backfill(vendor))
    for statement in _postgresql() if vendor == "postgresql" else _sqlite():
        schema_editor.execute(statement)


def backwards(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in POSTGRESQL_REVERSE if vendor == "postgresql" else SQLITE_REVERSE:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("acknowledgements", "0012_obligation_tally"), ("conduct", "0012_person_search_trigram")]
    operations = [migrations.RunPython(forwards, backwards)]
