"""Database triggers: adopted code versions (their sections and clauses) are immutable, adoptions append-only.

Frozen: the SQL is written out in this file (it is what the trigger code produced when the migration
was written) rather than imported from the project, so that a later change to that code cannot change
what this migration does to a fresh database. A change to the triggers belongs in a new migration.
"""

from django.db import migrations

# PostgreSQL refuses updates and deletes; row triggers do not see TRUNCATE (the test flush).
POSTGRESQL = [
    """
        CREATE OR REPLACE FUNCTION conduct_refuse_locked_section() RETURNS trigger AS $$
        BEGIN
          IF (TG_OP <> 'INSERT' AND (SELECT status FROM conduct_codeversion WHERE id = OLD.version_id) <> 'draft')
             OR (TG_OP <> 'DELETE' AND (SELECT status FROM conduct_codeversion WHERE id = NEW.version_id) <> 'draft') THEN
            RAISE EXCEPTION 'adopted code versions are immutable' USING ERRCODE = '23001';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        """,
    """CREATE TRIGGER conduct_section_locked BEFORE INSERT OR UPDATE OR DELETE ON conduct_section
           FOR EACH ROW EXECUTE FUNCTION conduct_refuse_locked_section();""",
    """
        CREATE OR REPLACE FUNCTION conduct_refuse_locked_clause() RETURNS trigger AS $$
        BEGIN
          IF (TG_OP <> 'INSERT' AND (SELECT v.status FROM conduct_section s JOIN conduct_codeversion v ON v.id = s.version_id WHERE s.id = OLD.section_id) <> 'draft')
             OR (TG_OP <> 'DELETE' AND (SELECT v.status FROM conduct_section s JOIN conduct_codeversion v ON v.id = s.version_id WHERE s.id = NEW.section_id) <> 'draft') THEN
            RAISE EXCEPTION 'adopted code versions are immutable' USING ERRCODE = '23001';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        """,
    """CREATE TRIGGER conduct_clause_locked BEFORE INSERT OR UPDATE OR DELETE ON conduct_clause
           FOR EACH ROW EXECUTE FUNCTION conduct_refuse_locked_clause();""",
    """
        CREATE OR REPLACE FUNCTION conduct_refuse_locked_version() RETURNS trigger AS $$
        BEGIN
          IF OLD.status <> 'draft' THEN
            IF TG_OP = 'DELETE' OR NEW.status = 'draft' OR NEW.label <> OLD.label
               OR NEW.content_hash <> OLD.content_hash OR NEW.code_id <> OLD.code_id THEN
              RAISE EXCEPTION 'adopted code versions are immutable' USING ERRCODE = '23001';
            END IF;
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        """,
    """CREATE TRIGGER conduct_version_locked BEFORE UPDATE OR DELETE ON conduct_codeversion
           FOR EACH ROW EXECUTE FUNCTION conduct_refuse_locked_version();""",
    """
        CREATE OR REPLACE FUNCTION evidence_refuse_change() RETURNS trigger AS $$
        BEGIN
          RAISE EXCEPTION 'evidence records are append-only' USING ERRCODE = '23001';
        END $$ LANGUAGE plpgsql;
        """,
    """CREATE TRIGGER conduct_adoption_append_only BEFORE UPDATE OR DELETE ON conduct_adoption
            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS conduct_adoption_append_only ON conduct_adoption;",
    "DROP TRIGGER IF EXISTS conduct_section_locked ON conduct_section;",
    "DROP TRIGGER IF EXISTS conduct_clause_locked ON conduct_clause;",
    "DROP TRIGGER IF EXISTS conduct_version_locked ON conduct_codeversion;",
    "DROP FUNCTION IF EXISTS conduct_refuse_locked_section();",
    "DROP FUNCTION IF EXISTS conduct_refuse_locked_clause();",
    "DROP FUNCTION IF EXISTS conduct_refuse_locked_version();",
]

# SQLite refuses updates (and inserts into adopted versions) but allows DELETE, which the test
# suite's flush between browser tests uses.
SQLITE = [
    """CREATE TRIGGER conduct_section_locked_insert BEFORE INSERT ON conduct_section
            WHEN (SELECT status FROM conduct_codeversion WHERE id = NEW.version_id) <> 'draft'
            BEGIN SELECT RAISE(ABORT, 'adopted code versions are immutable'); END;""",
    """CREATE TRIGGER conduct_section_locked_update BEFORE UPDATE ON conduct_section
            WHEN (SELECT status FROM conduct_codeversion WHERE id = OLD.version_id) <> 'draft' OR (SELECT status FROM conduct_codeversion WHERE id = NEW.version_id) <> 'draft'
            BEGIN SELECT RAISE(ABORT, 'adopted code versions are immutable'); END;""",
    """CREATE TRIGGER conduct_clause_locked_insert BEFORE INSERT ON conduct_clause
            WHEN (SELECT v.status FROM conduct_section s JOIN conduct_codeversion v ON v.id = s.version_id WHERE s.id = NEW.section_id) <> 'draft'
            BEGIN SELECT RAISE(ABORT, 'adopted code versions are immutable'); END;""",
    """CREATE TRIGGER conduct_clause_locked_update BEFORE UPDATE ON conduct_clause
            WHEN (SELECT v.status FROM conduct_section s JOIN conduct_codeversion v ON v.id = s.version_id WHERE s.id = OLD.section_id) <> 'draft' OR (SELECT v.status FROM conduct_section s JOIN conduct_codeversion v ON v.id = s.version_id WHERE s.id = NEW.section_id) <> 'draft'
            BEGIN SELECT RAISE(ABORT, 'adopted code versions are immutable'); END;""",
    """CREATE TRIGGER conduct_version_locked_update BEFORE UPDATE ON conduct_codeversion
            WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR NEW.label <> OLD.label
                 OR NEW.content_hash <> OLD.content_hash OR NEW.code_id <> OLD.code_id)
            BEGIN SELECT RAISE(ABORT, 'adopted code versions are immutable'); END;""",
    """CREATE TRIGGER conduct_adoption_append_only BEFORE UPDATE ON conduct_adoption
            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS conduct_adoption_append_only;",
    "DROP TRIGGER IF EXISTS conduct_section_locked_insert;",
    "DROP TRIGGER IF EXISTS conduct_section_locked_update;",
    "DROP TRIGGER IF EXISTS conduct_clause_locked_insert;",
    "DROP TRIGGER IF EXISTS conduct_clause_locked_update;",
    "DROP TRIGGER IF EXISTS conduct_version_locked_update;",
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
    dependencies = [("conduct", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
