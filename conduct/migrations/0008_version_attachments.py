"""Files attached to a code version (conduct.models.VersionAttachment), locked with the version's text.

The triggers are frozen here, written out like 0002's for sections: PostgreSQL refuses any insert, update or
delete touching an adopted version's attachments; SQLite refuses inserts and updates (it allows DELETE for
the test suite's flush, as 0002 explains).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION conduct_refuse_locked_versionattachment() RETURNS trigger AS $$
    BEGIN
      IF (TG_OP <> 'INSERT' AND (SELECT status FROM conduct_codeversion WHERE id = OLD.version_id) <> 'draft')
         OR (TG_OP <> 'DELETE' AND (SELECT status FROM conduct_codeversion WHERE id = NEW.version_id) <> 'draft') THEN
        RAISE EXCEPTION 'adopted code versions are immutable' USING ERRCODE = '23001';
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    """CREATE TRIGGER conduct_versionattachment_locked BEFORE INSERT OR UPDATE OR DELETE ON conduct_versionattachment
       FOR EACH ROW EXECUTE FUNCTION conduct_refuse_locked_versionattachment();""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS conduct_versionattachment_locked ON conduct_versionattachment;",
    "DROP FUNCTION IF EXISTS conduct_refuse_locked_versionattachment();",
]
SQLITE = [
    """CREATE TRIGGER conduct_versionattachment_locked_insert BEFORE INSERT ON conduct_versionattachment
       WHEN (SELECT status FROM conduct_codeversion WHERE id = NEW.version_id) <> 'draft'
       BEGIN SELECT RAISE(ABORT, 'adopted code versions are immutable'); END;""",
    """CREATE TRIGGER conduct_versionattachment_locked_update BEFORE UPDATE ON conduct_versionattachment
       WHEN (SELECT status FROM conduct_codeversion WHERE id = OLD.version_id) <> 'draft'
         OR (SELECT status FROM conduct_codeversion WHERE id = NEW.version_id) <> 'draft'
       BEGIN SELECT RAISE(ABORT, 'adopted code versions are immutable'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS conduct_versionattachment_locked_insert;",
    "DROP TRIGGER IF EXISTS conduct_versionattachment_locked_update;",
]


def _run(statements):
    def run(apps, schema_editor) -> None:
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"No attachment lock trigger for the {vendor} database; add it before using it.")
        for statement in statements[vendor]:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('conduct', '0007_role_end_reason'),
    ]

    operations = [
        migrations.CreateModel(
            name='VersionAttachment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveIntegerField()),
                ('title', models.CharField(max_length=200)),
                ('filename', models.CharField(max_length=200)),
                ('content_type', models.CharField(choices=[('application/pdf', 'PDF'), ('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'Word document')], max_length=100)),
                ('size', models.PositiveIntegerField()),
                ('sha256', models.CharField(max_length=64)),
                ('content', models.BinaryField()),
                ('added_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('added_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='conduct.codeversion')),
            ],
            options={
                'ordering': ['version', 'position'],
                'constraints': [models.UniqueConstraint(fields=('version', 'position'), name='attachment_position_unique'), models.UniqueConstraint(fields=('version', 'filename'), name='attachment_filename_unique'), models.UniqueConstraint(fields=('version', 'sha256'), name='attachment_file_once_per_version'), models.CheckConstraint(condition=models.Q(('size__gt', 0)), name='attachment_not_empty')],
            },
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
