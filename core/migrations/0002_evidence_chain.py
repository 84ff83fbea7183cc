"""The evidence chain (docs/evidence.md): chain heads, signed entries, salts of personal fields, daily
anchors and integrity checks, with their triggers.

Frozen: the trigger SQL is written out here (what ``core.db.triggers.chain_triggers`` and
``truncate_refusal_triggers`` produced when this was written), never imported.
"""

from django.db import migrations, models


POSTGRESQL = [
    "\n        CREATE OR REPLACE FUNCTION evidence_refuse_change() RETURNS trigger AS $$\n        BEGIN\n          RAISE EXCEPTION 'evidence records are append-only' USING ERRCODE = '23001';\n        END $$ LANGUAGE plpgsql;\n        ",
    "CREATE TRIGGER core_evidencelink_append_only BEFORE UPDATE OR DELETE ON core_evidencelink\n            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();",
    "CREATE TRIGGER core_chainanchor_append_only BEFORE UPDATE OR DELETE ON core_chainanchor\n            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();",
    "\n        CREATE OR REPLACE FUNCTION evidence_chain_head_moves() RETURNS trigger AS $$\n        BEGIN\n          UPDATE core_chainhead SET head_hash = NEW.link_hash WHERE scope = NEW.scope AND seq = NEW.seq;\n          RETURN NULL;\n        END $$ LANGUAGE plpgsql;\n        ",
    "CREATE TRIGGER core_evidencelink_moves_head AFTER INSERT ON core_evidencelink\n            FOR EACH ROW EXECUTE FUNCTION evidence_chain_head_moves();",
    "\n        CREATE OR REPLACE FUNCTION evidence_chain_head_forward() RETURNS trigger AS $$\n        BEGIN\n          IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq OR NEW.scope <> OLD.scope THEN\n            RAISE EXCEPTION 'an evidence chain head only moves forward' USING ERRCODE = '23001';\n          END IF;\n          RETURN NEW;\n        END $$ LANGUAGE plpgsql;\n        ",
    "CREATE TRIGGER core_chainhead_forward BEFORE UPDATE OR DELETE ON core_chainhead\n            FOR EACH ROW EXECUTE FUNCTION evidence_chain_head_forward();",
    "\n        CREATE OR REPLACE FUNCTION evidence_refuse_truncate() RETURNS trigger AS $$\n        BEGIN\n          IF coalesce(current_setting('conduct.allow_truncate', true), '') = 'on' THEN\n            RETURN NULL;\n          END IF;\n          RAISE EXCEPTION 'evidence records are append-only' USING ERRCODE = '23001';\n        END $$ LANGUAGE plpgsql;\n        ",
    "CREATE TRIGGER core_evidencelink_no_truncate BEFORE TRUNCATE ON core_evidencelink\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER core_chainhead_no_truncate BEFORE TRUNCATE ON core_chainhead\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER core_chainanchor_no_truncate BEFORE TRUNCATE ON core_chainanchor\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER core_evidencesalt_no_truncate BEFORE TRUNCATE ON core_evidencesalt\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS core_evidencelink_no_truncate ON core_evidencelink;",
    "DROP TRIGGER IF EXISTS core_chainhead_no_truncate ON core_chainhead;",
    "DROP TRIGGER IF EXISTS core_chainanchor_no_truncate ON core_chainanchor;",
    "DROP TRIGGER IF EXISTS core_evidencesalt_no_truncate ON core_evidencesalt;",
    "DROP TRIGGER IF EXISTS core_evidencelink_append_only ON core_evidencelink;",
    "DROP TRIGGER IF EXISTS core_chainanchor_append_only ON core_chainanchor;",
    "DROP TRIGGER IF EXISTS core_evidencelink_moves_head ON core_evidencelink;",
    "DROP TRIGGER IF EXISTS core_chainhead_forward ON core_chainhead;",
    "DROP FUNCTION IF EXISTS evidence_chain_head_moves();",
    "DROP FUNCTION IF EXISTS evidence_chain_head_forward();",
]
SQLITE = [
    "CREATE TRIGGER core_evidencelink_append_only BEFORE UPDATE ON core_evidencelink\n            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;",
    "CREATE TRIGGER core_chainanchor_append_only BEFORE UPDATE ON core_chainanchor\n            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;",
    "CREATE TRIGGER core_evidencelink_moves_head AFTER INSERT ON core_evidencelink\n            BEGIN UPDATE core_chainhead SET head_hash = NEW.link_hash\n            WHERE scope = NEW.scope AND seq = NEW.seq; END;",
    "CREATE TRIGGER core_chainhead_forward BEFORE UPDATE ON core_chainhead\n            WHEN NEW.seq < OLD.seq OR NEW.scope <> OLD.scope\n            BEGIN SELECT RAISE(ABORT, 'an evidence chain head only moves forward'); END;",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS core_evidencelink_append_only;",
    "DROP TRIGGER IF EXISTS core_chainanchor_append_only;",
    "DROP TRIGGER IF EXISTS core_evidencelink_moves_head;",
    "DROP TRIGGER IF EXISTS core_chainhead_forward;",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor) -> None:
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"No evidence chain triggers for the {vendor} database; add them before using it.")
        for statement in statements[vendor]:
            schema_editor.execute(statement)

    return run


forwards = _run({"postgresql": POSTGRESQL, "sqlite": SQLITE})
backwards = _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_work_claims")]

    operations = [
        migrations.CreateModel(
            name="ChainAnchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField()),
                ("heads", models.TextField(help_text="Canonical JSON: [[scope, seq, head_hash], …].")),
                ("digest", models.CharField(help_text="SHA-256 of the heads.", max_length=64)),
                ("tsa_url", models.CharField(blank=True, max_length=500)),
                (
                    "token",
                    models.BinaryField(
                        blank=True, help_text="The DER timestamp token (empty when the authority failed)."
                    ),
                ),
                ("timestamped_at", models.DateTimeField(blank=True, help_text="The authority's time.", null=True)),
                ("error", models.CharField(blank=True, max_length=500)),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                (
                    "scope",
                    models.BigIntegerField(
                        help_text="The organisation's id (0: the operator's own actions).",
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("seq", models.BigIntegerField(default=0)),
                (
                    "head_hash",
                    models.CharField(
                        default="0000000000000000000000000000000000000000000000000000000000000000", max_length=64
                    ),
                ),
                ("updated_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "evidence chain head",
            },
        ),
        migrations.CreateModel(
            name="IntegrityCheck",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("started_at", models.DateTimeField()),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("ok", models.BooleanField(default=False)),
                ("counts", models.JSONField(blank=True, default=dict, help_text="How many of each kind were checked.")),
                (
                    "problems",
                    models.JSONField(blank=True, default=list, help_text="Each broken item: kind, item, problem."),
                ),
            ],
            options={
                "ordering": ["-started_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="EvidenceLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("scope", models.BigIntegerField()),
                ("seq", models.BigIntegerField()),
                ("prev_hash", models.CharField(max_length=64)),
                (
                    "record_type",
                    models.CharField(help_text='The record\'s model, e.g. "conduct.adoption".', max_length=60),
                ),
                ("record_id", models.BigIntegerField()),
                (
                    "payload",
                    models.TextField(help_text="The record's signed payload: canonical JSON, exactly as signed."),
                ),
                ("key_id", models.CharField(max_length=40)),
                (
                    "signature",
                    models.CharField(help_text="Ed25519 over the entry's statement, base64.", max_length=100),
                ),
                ("link_hash", models.CharField(help_text="SHA-256 of the entry's statement.", max_length=64)),
                ("created_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "evidence chain entry",
                "verbose_name_plural": "evidence chain entries",
                "constraints": [
                    models.UniqueConstraint(fields=("scope", "seq"), name="evidence_link_once_per_place"),
                    models.UniqueConstraint(fields=("record_type", "record_id"), name="evidence_link_once_per_record"),
                ],
            },
        ),
        migrations.CreateModel(
            name="EvidenceSalt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("record_type", models.CharField(max_length=60)),
                ("record_id", models.BigIntegerField()),
                ("salt", models.CharField(max_length=64)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("record_type", "record_id"), name="evidence_salt_once_per_record")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
