"""A copy of each person's name on their obligations, kept by triggers on PostgreSQL and SQLite; then a backfill.

The drill-down opened at page N by its number must find the row before the page: the (N-1)*50th obligation in its
order (the person's name, the person, the version) among the rows the filters keep. Walking the people by name and
probing each one's obligations cost about 2.5 microseconds a person (page 20 of a trust's overdue on 50,000 people:
4,846 people, 12 ms); walking one index of the obligations in that order, with what the filters read included,
passes only the obligations (2.4 ms).

- An obligation takes the name from its person's row when it is inserted, and again when an update changes its
  person or writes into the copy (whatever the statement wrote there is replaced). On PostgreSQL the read locks the
  person's row (FOR SHARE, as ``conduct`` 0013 does for roles): an obligation opened while the person's name is
  being corrected waits, and takes the corrected name.
- A person whose name changes has it copied to every obligation of theirs: one UPDATE a statement on PostgreSQL
  (transition tables), per row on SQLite. An erasure's new name therefore leaves no copy of the old one.
- Neither touches a column the obligation tally counts, so the tally's triggers find nothing to move.
"""

from django.conf import settings
from django.db import migrations, models


OBLIGATIONS = "acknowledgements_obligation"

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION obligation_take_person_name() RETURNS trigger AS $$
        BEGIN
          SELECT full_name INTO NEW.person_full_name FROM conduct_person WHERE id = NEW.person_id FOR SHARE;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER obligation_person_name_insert BEFORE INSERT ON {OBLIGATIONS}
        FOR EACH ROW EXECUTE FUNCTION obligation_take_person_name();""",
    f"""CREATE TRIGGER obligation_person_name_update BEFORE UPDATE ON {OBLIGATIONS}
        FOR EACH ROW WHEN (NEW.person_id IS DISTINCT FROM OLD.person_id
                           OR NEW.person_full_name IS DISTINCT FROM OLD.person_full_name)
        EXECUTE FUNCTION obligation_take_person_name();""",
    f"""CREATE OR REPLACE FUNCTION person_give_obligations_name() RETURNS trigger AS $$
        BEGIN
          UPDATE {OBLIGATIONS} o SET person_full_name = n.full_name
            FROM new_people n JOIN old_people p ON p.id = n.id
            WHERE o.person_id = n.id AND n.full_name IS DISTINCT FROM p.full_name;
          RETURN NULL;
        END $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER person_obligations_name AFTER UPDATE ON conduct_person
        REFERENCING OLD TABLE AS old_people NEW TABLE AS new_people
        FOR EACH STATEMENT EXECUTE FUNCTION person_give_obligations_name();""",
]
POSTGRESQL_REVERSE = [
    f"DROP TRIGGER IF EXISTS obligation_person_name_insert ON {OBLIGATIONS};",
    f"DROP TRIGGER IF EXISTS obligation_person_name_update ON {OBLIGATIONS};",
    "DROP TRIGGER IF EXISTS person_obligations_name ON conduct_person;",
    "DROP FUNCTION IF EXISTS obligation_take_person_name();",
    "DROP FUNCTION IF EXISTS person_give_obligations_name();",
]

_NAME = "(SELECT full_name FROM conduct_person WHERE id = NEW.person_id)"
# SQLite runs a trigger's own UPDATE without firing that trigger again (recursive triggers are off by default).
SQLITE = [
    f"""CREATE TRIGGER obligation_person_name_insert AFTER INSERT ON {OBLIGATIONS}
        BEGIN UPDATE {OBLIGATIONS} SET person_full_name = {_NAME} WHERE id = NEW.id; END;""",
    f"""CREATE TRIGGER obligation_person_name_update AFTER UPDATE OF person_id, person_full_name ON {OBLIGATIONS}
        WHEN NEW.person_full_name IS NOT {_NAME}
        BEGIN UPDATE {OBLIGATIONS} SET person_full_name = {_NAME} WHERE id = NEW.id; END;""",
    f"""CREATE TRIGGER person_obligations_name AFTER UPDATE OF full_name ON conduct_person
        WHEN NEW.full_name IS NOT OLD.full_name
        BEGIN UPDATE {OBLIGATIONS} SET person_full_name = NEW.full_name WHERE person_id = NEW.id; END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS obligation_person_name_insert;",
    "DROP TRIGGER IF EXISTS obligation_person_name_update;",
    "DROP TRIGGER IF EXISTS person_obligations_name;",
]
BACKFILL = (
    f"UPDATE {OBLIGATIONS} SET person_full_name = "
    f"(SELECT full_name FROM conduct_person p WHERE p.id = {OBLIGATIONS}.person_id)"
)


def forwards(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(f"No obligation name triggers for the {vendor} database; add them before using it.")
    if vendor == "postgresql":
        # No person or obligation may change between the backfill and the triggers (the change would be missed).
        schema_editor.execute(f"LOCK TABLE conduct_person, {OBLIGATIONS} IN SHARE ROW EXCLUSIVE MODE")
    schema_editor.execute(BACKFILL)
    for statement in POSTGRESQL if vendor == "postgresql" else SQLITE:
        schema_editor.execute(statement)


def backwards(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in POSTGRESQL_REVERSE if vendor == "postgresql" else SQLITE_REVERSE:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('acknowledgements', '0016_obligation_tally_fillfactor'),
        ('conduct', '0013_role_person_sort_copies'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='obligation',
            name='person_full_name',
            field=models.CharField(editable=False, max_length=200, null=True),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddIndex(
            model_name='obligation',
            index=models.Index(fields=['person_full_name', 'person', 'version'], include=('id', 'code', 'organisation', 'role', 'owed_from', 'due_on', 'acknowledged_at', 'superseded_at'), name='obligation_walk_by_name'),
        ),
    ]
