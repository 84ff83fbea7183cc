"""Database triggers: acknowledgements, audit events, declarations, interests and sealed PDFs are append-only.

Frozen: the SQL is written out in this file (it is what the trigger code produced when the migration
was written) rather than imported from the project, so that a later change to that code cannot change
what this migration does to a fresh database. A change to the triggers belongs in a new migration.
"""

from django.db import migrations

# PostgreSQL refuses updates and deletes; row triggers do not see TRUNCATE (the test flush).
POSTGRESQL = [
    """
        CREATE OR REPLACE FUNCTION evidence_refuse_change() RETURNS trigger AS $$
        BEGIN
          RAISE EXCEPTION 'evidence records are append-only' USING ERRCODE = '23001';
        END $$ LANGUAGE plpgsql;
        """,
    """CREATE TRIGGER acknowledgements_acknowledgement_append_only BEFORE UPDATE OR DELETE ON acknowledgements_acknowledgement
            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();""",
    """CREATE TRIGGER acknowledgements_auditevent_append_only BEFORE UPDATE OR DELETE ON acknowledgements_auditevent
            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();""",
    """CREATE TRIGGER acknowledgements_declaration_append_only BEFORE UPDATE OR DELETE ON acknowledgements_declaration
            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();""",
    """CREATE TRIGGER acknowledgements_interest_append_only BEFORE UPDATE OR DELETE ON acknowledgements_interest
            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();""",
    """CREATE TRIGGER acknowledgements_sealedpdf_append_only BEFORE UPDATE OR DELETE ON acknowledgements_sealedpdf
            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS acknowledgements_acknowledgement_append_only ON acknowledgements_acknowledgement;",
    "DROP TRIGGER IF EXISTS acknowledgements_auditevent_append_only ON acknowledgements_auditevent;",
    "DROP TRIGGER IF EXISTS acknowledgements_declaration_append_only ON acknowledgements_declaration;",
    "DROP TRIGGER IF EXISTS acknowledgements_interest_append_only ON acknowledgements_interest;",
    "DROP TRIGGER IF EXISTS acknowledgements_sealedpdf_append_only ON acknowledgements_sealedpdf;",
]

# SQLite refuses updates but allows DELETE, which the test suite's flush between browser tests uses.
SQLITE = [
    """CREATE TRIGGER acknowledgements_acknowledgement_append_only BEFORE UPDATE ON acknowledgements_acknowledgement
            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;""",
    """CREATE TRIGGER acknowledgements_auditevent_append_only BEFORE UPDATE ON acknowledgements_auditevent
            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;""",
    """CREATE TRIGGER acknowledgements_declaration_append_only BEFORE UPDATE ON acknowledgements_declaration
            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;""",
    """CREATE TRIGGER acknowledgements_interest_append_only BEFORE UPDATE ON acknowledgements_interest
            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;""",
    """CREATE TRIGGER acknowledgements_sealedpdf_append_only BEFORE UPDATE ON acknowledgements_sealedpdf
            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS acknowledgements_acknowledgement_append_only;",
    "DROP TRIGGER IF EXISTS acknowledgements_auditevent_append_only;",
    "DROP TRIGGER IF EXISTS acknowledgements_declaration_append_only;",
    "DROP TRIGGER IF EXISTS acknowledgements_interest_append_only;",
    "DROP TRIGGER IF EXISTS acknowledgements_sealedpdf_append_only;",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor) -> None:
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"No immutability triggers for the {vendor} database; add them before using it.")
        for statement in statements[vendor]:
            schema_editor.execute(statement)

    return run


forwards = _run({"postgresql": POSTGRESQL, "sqlite": SQLITE})
backwards = _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE})


class Migration(migrations.Migration):
    dependencies = [("acknowledgements", "0002_initial"), ("conduct", "0002_immutability_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
