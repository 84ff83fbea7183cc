from django.db import migrations

from conduct.db.triggers import append_only_triggers

EVIDENCE_TABLES = [
    "acknowledgements_acknowledgement",
    "acknowledgements_auditevent",
    "acknowledgements_declaration",
    "acknowledgements_interest",
    "acknowledgements_sealedpdf",
]


def forwards(apps, schema_editor):
    append_only_triggers(EVIDENCE_TABLES).apply(schema_editor)


def backwards(apps, schema_editor):
    append_only_triggers(EVIDENCE_TABLES).apply(schema_editor, reverse=True)


class Migration(migrations.Migration):
    dependencies = [("acknowledgements", "0002_initial"), ("conduct", "0002_immutability_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
