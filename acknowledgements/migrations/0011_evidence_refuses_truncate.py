"""PostgreSQL refuses TRUNCATE of the evidence tables and of adopted text (docs/evidence.md); SQLite has no TRUNCATE.

Frozen: the SQL is written out here (what ``core.db.triggers.truncate_refusal_triggers`` produced when this
was written), never imported. A session that sets ``conduct.allow_truncate = on`` (the test settings) may
still truncate, so the test suite's flush works.
"""

from django.db import migrations

POSTGRESQL = [
    "\n        CREATE OR REPLACE FUNCTION evidence_refuse_truncate() RETURNS trigger AS $$\n        BEGIN\n          IF coalesce(current_setting('conduct.allow_truncate', true), '') = 'on' THEN\n            RETURN NULL;\n          END IF;\n          RAISE EXCEPTION 'evidence records are append-only' USING ERRCODE = '23001';\n        END $$ LANGUAGE plpgsql;\n        ",
    "CREATE TRIGGER acknowledgements_acknowledgement_no_truncate BEFORE TRUNCATE ON acknowledgements_acknowledgement\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER acknowledgements_auditevent_no_truncate BEFORE TRUNCATE ON acknowledgements_auditevent\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER acknowledgements_declaration_no_truncate BEFORE TRUNCATE ON acknowledgements_declaration\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER acknowledgements_interest_no_truncate BEFORE TRUNCATE ON acknowledgements_interest\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER acknowledgements_sealedpdf_no_truncate BEFORE TRUNCATE ON acknowledgements_sealedpdf\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER conduct_adoption_no_truncate BEFORE TRUNCATE ON conduct_adoption\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER conduct_auditlogentry_no_truncate BEFORE TRUNCATE ON conduct_auditlogentry\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER conduct_codeversion_no_truncate BEFORE TRUNCATE ON conduct_codeversion\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER conduct_section_no_truncate BEFORE TRUNCATE ON conduct_section\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
    "CREATE TRIGGER conduct_clause_no_truncate BEFORE TRUNCATE ON conduct_clause\n            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS acknowledgements_acknowledgement_no_truncate ON acknowledgements_acknowledgement;",
    "DROP TRIGGER IF EXISTS acknowledgements_auditevent_no_truncate ON acknowledgements_auditevent;",
    "DROP TRIGGER IF EXISTS acknowledgements_declaration_no_truncate ON acknowledgements_declaration;",
    "DROP TRIGGER IF EXISTS acknowledgements_interest_no_truncate ON acknowledgements_interest;",
    "DROP TRIGGER IF EXISTS acknowledgements_sealedpdf_no_truncate ON acknowledgements_sealedpdf;",
    "DROP TRIGGER IF EXISTS conduct_adoption_no_truncate ON conduct_adoption;",
    "DROP TRIGGER IF EXISTS conduct_auditlogentry_no_truncate ON conduct_auditlogentry;",
    "DROP TRIGGER IF EXISTS conduct_codeversion_no_truncate ON conduct_codeversion;",
    "DROP TRIGGER IF EXISTS conduct_section_no_truncate ON conduct_section;",
    "DROP TRIGGER IF EXISTS conduct_clause_no_truncate ON conduct_clause;",
]


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRESQL:
            schema_editor.execute(statement)


def backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRESQL_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("acknowledgements", "0010_obligation_adoption_signed_index"),
        ("conduct", "0008_version_attachments"),
        ("core", "0002_evidence_chain"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
