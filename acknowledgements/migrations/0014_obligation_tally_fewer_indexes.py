"""Fewer indexes on the obligation tally: every signature upserts two of its rows, and each index is written.

The foreign keys' own indexes on the organisation, the code and the version are dropped (the unique key leads
with the version, ``obligation_tally_code`` with the code; an organisation is deleted only when it owes nothing,
and then a scan of the tally is nothing), and so is ``obligation_tally_adoption``, a second index of the
adoption's own. Plain ``DROP INDEX`` on both databases (the model state changes as Django's operations say):
SQLite would otherwise rebuild the table, and the rebuild's rename trips over the triggers (migration 0013)
that write to it.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "acknowledgements_obligationtally"
DROPPED_COLUMNS = ("organisation_id", "code_id", "version_id")


def _indexes(schema_editor) -> dict[str, list[str]]:
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, TABLE)
    return {
        name: info["columns"]
        for name, info in constraints.items()
        if info["index"] and not info["unique"] and not info["primary_key"]
    }


def forwards(apps, schema_editor) -> None:
    for name, columns in _indexes(schema_editor).items():
        if name == "obligation_tally_adoption" or (len(columns) == 1 and columns[0] in DROPPED_COLUMNS):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def backwards(apps, schema_editor) -> None:
    for column in DROPPED_COLUMNS:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_{column}_back ON {TABLE} ({column})")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS obligation_tally_adoption ON {TABLE} (adoption_id)")


class Migration(migrations.Migration):
    dependencies = [
        ("acknowledgements", "0013_obligation_tally_triggers"),
        ("conduct", "0012_person_search_trigram"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.RemoveIndex(
                    model_name="obligationtally",
                    name="obligation_tally_adoption",
                ),
                migrations.AlterField(
                    model_name="obligationtally",
                    name="code",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="conduct.code"
                    ),
                ),
                migrations.AlterField(
                    model_name="obligationtally",
                    name="organisation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="conduct.organisation",
                    ),
                ),
                migrations.AlterField(
                    model_name="obligationtally",
                    name="version",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="conduct.codeversion",
                    ),
                ),
            ],
        )
    ]
