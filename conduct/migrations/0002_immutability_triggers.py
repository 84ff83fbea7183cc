from django.db import migrations

from conduct.db.triggers import append_only_triggers, content_triggers

EVIDENCE_TABLES = ["conduct_adoption"]


def forwards(apps, schema_editor):
    content_triggers().apply(schema_editor)
    append_only_triggers(EVIDENCE_TABLES).apply(schema_editor)


def backwards(apps, schema_editor):
    append_only_triggers(EVIDENCE_TABLES).apply(schema_editor, reverse=True)
    content_triggers().apply(schema_editor, reverse=True)


class Migration(migrations.Migration):
    dependencies = [("conduct", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
