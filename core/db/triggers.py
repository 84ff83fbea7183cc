"""Database triggers that make adopted text and evidence unchangeable below the ORM.

The ORM already refuses (``LockedContent``, ``AppendOnly``); these catch raw SQL
and any future code path that forgets. PostgreSQL refuses updates and deletes.
SQLite (the development default) refuses updates and inserts into adopted
versions; it allows ``DELETE`` because the test suite's flush between browser
tests empties tables with ``DELETE`` (PostgreSQL flushes with ``TRUNCATE``,
which row triggers do not see).
"""

from __future__ import annotations

from dataclasses import dataclass

LOCKED = "adopted code versions are immutable"
APPEND_ONLY = "evidence records are append-only"


@dataclass(frozen=True)
class TriggerSet:
    postgresql: list[str]
    sqlite: list[str]
    postgresql_reverse: list[str]
    sqlite_reverse: list[str]

    def apply(self, schema_editor, reverse: bool = False) -> None:
        vendor = schema_editor.connection.vendor
        statements = {
            ("postgresql", False): self.postgresql,
            ("postgresql", True): self.postgresql_reverse,
            ("sqlite", False): self.sqlite,
            ("sqlite", True): self.sqlite_reverse,
        }.get((vendor, reverse))
        if statements is None:
            raise RuntimeError(f"No immutability triggers for the {vendor} database; add them before using it.")
        for statement in statements:
            schema_editor.execute(statement)


def _pg_raise(message: str) -> str:
    # 23001 restrict_violation: Django surfaces it as IntegrityError.
    return f"RAISE EXCEPTION '{message}' USING ERRCODE = '23001';"


def _pg_locked_content(name: str, status_sql: str) -> list[str]:
    """A function and row trigger refusing any insert, update or delete touching an adopted version's ``name`` rows."""
    return [
        f"""
        CREATE OR REPLACE FUNCTION conduct_refuse_locked_{name}() RETURNS trigger AS $$
        BEGIN
          IF (TG_OP <> 'INSERT' AND {status_sql.format(ref="OLD")} <> 'draft')
             OR (TG_OP <> 'DELETE' AND {status_sql.format(ref="NEW")} <> 'draft') THEN
            {_pg_raise(LOCKED)}
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        """,
        f"""CREATE TRIGGER conduct_{name}_locked BEFORE INSERT OR UPDATE OR DELETE ON conduct_{name}
           FOR EACH ROW EXECUTE FUNCTION conduct_refuse_locked_{name}();""",
    ]


def content_triggers() -> TriggerSet:
    version_status = "(SELECT status FROM conduct_codeversion WHERE id = {ref}.version_id)"
    clause_status = (
        "(SELECT v.status FROM conduct_section s JOIN conduct_codeversion v ON v.id = s.version_id "
        "WHERE s.id = {ref}.section_id)"
    )
    postgresql = [
        *_pg_locked_content("section", version_status),
        *_pg_locked_content("clause", clause_status),
        f"""
        CREATE OR REPLACE FUNCTION conduct_refuse_locked_version() RETURNS trigger AS $$
        BEGIN
          IF OLD.status <> 'draft' THEN
            IF TG_OP = 'DELETE' OR NEW.status = 'draft' OR NEW.label <> OLD.label
               OR NEW.content_hash <> OLD.content_hash OR NEW.code_id <> OLD.code_id THEN
              {_pg_raise(LOCKED)}
            END IF;
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        """,
        """CREATE TRIGGER conduct_version_locked BEFORE UPDATE OR DELETE ON conduct_codeversion
           FOR EACH ROW EXECUTE FUNCTION conduct_refuse_locked_version();""",
    ]
    postgresql_reverse = [
        "DROP TRIGGER IF EXISTS conduct_section_locked ON conduct_section;",
        "DROP TRIGGER IF EXISTS conduct_clause_locked ON conduct_clause;",
        "DROP TRIGGER IF EXISTS conduct_version_locked ON conduct_codeversion;",
        "DROP FUNCTION IF EXISTS conduct_refuse_locked_section();",
        "DROP FUNCTION IF EXISTS conduct_refuse_locked_clause();",
        "DROP FUNCTION IF EXISTS conduct_refuse_locked_version();",
    ]
    sqlite = [
        f"""CREATE TRIGGER conduct_section_locked_insert BEFORE INSERT ON conduct_section
            WHEN {version_status.format(ref="NEW")} <> 'draft'
            BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END;""",
        f"""CREATE TRIGGER conduct_section_locked_update BEFORE UPDATE ON conduct_section
            WHEN {version_status.format(ref="OLD")} <> 'draft' OR {version_status.format(ref="NEW")} <> 'draft'
            BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END;""",
        f"""CREATE TRIGGER conduct_clause_locked_insert BEFORE INSERT ON conduct_clause
            WHEN {clause_status.format(ref="NEW")} <> 'draft'
            BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END;""",
        f"""CREATE TRIGGER conduct_clause_locked_update BEFORE UPDATE ON conduct_clause
            WHEN {clause_status.format(ref="OLD")} <> 'draft' OR {clause_status.format(ref="NEW")} <> 'draft'
            BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END;""",
        f"""CREATE TRIGGER conduct_version_locked_update BEFORE UPDATE ON conduct_codeversion
            WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR NEW.label <> OLD.label
                 OR NEW.content_hash <> OLD.content_hash OR NEW.code_id <> OLD.code_id)
            BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END;""",
    ]
    sqlite_reverse = [
        f"DROP TRIGGER IF EXISTS {name};"
        for name in (
            "conduct_section_locked_insert",
            "conduct_section_locked_update",
            "conduct_clause_locked_insert",
            "conduct_clause_locked_update",
            "conduct_version_locked_update",
        )
    ]
    return TriggerSet(postgresql, sqlite, postgresql_reverse, sqlite_reverse)


def append_only_triggers(tables: list[str]) -> TriggerSet:
    postgresql = [
        f"""
        CREATE OR REPLACE FUNCTION evidence_refuse_change() RETURNS trigger AS $$
        BEGIN
          {_pg_raise(APPEND_ONLY)}
        END $$ LANGUAGE plpgsql;
        """
    ]
    postgresql += [
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();"""
        for table in tables
    ]
    postgresql_reverse = [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in tables]
    sqlite = [
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;"""
        for table in tables
    ]
    sqlite_reverse = [f"DROP TRIGGER IF EXISTS {table}_append_only;" for table in tables]
    return TriggerSet(postgresql, sqlite, postgresql_reverse, sqlite_reverse)


ALLOW_TRUNCATE_SETTING = "conduct.allow_truncate"


def truncate_refusal_triggers(tables: list[str]) -> TriggerSet:
    """PostgreSQL: refuse TRUNCATE of evidence tables (row triggers never see it). SQLite has no TRUNCATE.

    A session that sets ``conduct.allow_truncate = on`` may truncate: the test settings set it so that
    the suite's flush between transactional tests still works. It guards against accidents and
    careless scripts; a superuser can switch any trigger off, which the chain and signatures catch.
    """
    postgresql = [
        f"""
        CREATE OR REPLACE FUNCTION evidence_refuse_truncate() RETURNS trigger AS $$
        BEGIN
          IF coalesce(current_setting('{ALLOW_TRUNCATE_SETTING}', true), '') = 'on' THEN
            RETURN NULL;
          END IF;
          {_pg_raise(APPEND_ONLY)}
        END $$ LANGUAGE plpgsql;
        """
    ]
    postgresql += [
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_truncate();"""
        for table in tables
    ]
    postgresql_reverse = [f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};" for table in tables]
    return TriggerSet(postgresql, [], postgresql_reverse, [])


CHAIN_HEAD_BACKWARDS = "an evidence chain head only moves forward"


def chain_triggers() -> TriggerSet:
    """The chain's own rules: entries and anchors are append-only, a new entry moves its head's hash on,
    and a head never moves back or disappears."""
    postgresql = [
        f"""
        CREATE OR REPLACE FUNCTION evidence_refuse_change() RETURNS trigger AS $$
        BEGIN
          {_pg_raise(APPEND_ONLY)}
        END $$ LANGUAGE plpgsql;
        """,
        """CREATE TRIGGER core_evidencelink_append_only BEFORE UPDATE OR DELETE ON core_evidencelink
            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();""",
        """CREATE TRIGGER core_chainanchor_append_only BEFORE UPDATE OR DELETE ON core_chainanchor
            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();""",
        """
        CREATE OR REPLACE FUNCTION evidence_chain_head_moves() RETURNS trigger AS $$
        BEGIN
          UPDATE core_chainhead SET head_hash = NEW.link_hash WHERE scope = NEW.scope AND seq = NEW.seq;
          RETURN NULL;
        END $$ LANGUAGE plpgsql;
        """,
        """CREATE TRIGGER core_evidencelink_moves_head AFTER INSERT ON core_evidencelink
            FOR EACH ROW EXECUTE FUNCTION evidence_chain_head_moves();""",
        f"""
        CREATE OR REPLACE FUNCTION evidence_chain_head_forward() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq OR NEW.scope <> OLD.scope THEN
            {_pg_raise(CHAIN_HEAD_BACKWARDS)}
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        """,
        """CREATE TRIGGER core_chainhead_forward BEFORE UPDATE OR DELETE ON core_chainhead
            FOR EACH ROW EXECUTE FUNCTION evidence_chain_head_forward();""",
    ]
    postgresql_reverse = [
        "DROP TRIGGER IF EXISTS core_evidencelink_append_only ON core_evidencelink;",
        "DROP TRIGGER IF EXISTS core_chainanchor_append_only ON core_chainanchor;",
        "DROP TRIGGER IF EXISTS core_evidencelink_moves_head ON core_evidencelink;",
        "DROP TRIGGER IF EXISTS core_chainhead_forward ON core_chainhead;",
        "DROP FUNCTION IF EXISTS evidence_chain_head_moves();",
        "DROP FUNCTION IF EXISTS evidence_chain_head_forward();",
    ]
    sqlite = [
        f"""CREATE TRIGGER core_evidencelink_append_only BEFORE UPDATE ON core_evidencelink
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;""",
        f"""CREATE TRIGGER core_chainanchor_append_only BEFORE UPDATE ON core_chainanchor
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;""",
        """CREATE TRIGGER core_evidencelink_moves_head AFTER INSERT ON core_evidencelink
            BEGIN UPDATE core_chainhead SET head_hash = NEW.link_hash
            WHERE scope = NEW.scope AND seq = NEW.seq; END;""",
        f"""CREATE TRIGGER core_chainhead_forward BEFORE UPDATE ON core_chainhead
            WHEN NEW.seq < OLD.seq OR NEW.scope <> OLD.scope
            BEGIN SELECT RAISE(ABORT, '{CHAIN_HEAD_BACKWARDS}'); END;""",
    ]
    sqlite_reverse = [
        f"DROP TRIGGER IF EXISTS {name};"
        for name in (
            "core_evidencelink_append_only",
            "core_chainanchor_append_only",
            "core_evidencelink_moves_head",
            "core_chainhead_forward",
        )
    ]
    return TriggerSet(postgresql, sqlite, postgresql_reverse, sqlite_reverse)


ERASURE_PERMIT_TABLE = "privacy_erasurepermit"
ERASED_VALUES_SQL = "('', '{}', '[]', 'erased')"  # what an erased column may hold besides NULL


@dataclass(frozen=True)
class ErasableTable:
    """An append-only table whose personal columns the erasure service may blank (or whose rows it may delete)."""

    table: str
    columns: list[str]  # every column, in order
    personal: list[str]  # blanked by an erasure; every other column must stay as it is
    deletable: bool = False  # rows removed whole by an erasure (a declaration's interests)


def erasure_triggers(tables: list[ErasableTable]) -> TriggerSet:
    """Append-only triggers that let exactly one change through: the erasure service blanking personal columns.

    An UPDATE passes only while the erasure's permit row exists (on PostgreSQL: one written by this very
    transaction, ``txid_current()``), every non-personal column is unchanged and every personal one is
    emptied (NULL, '', {}, [] or 'erased'). A DELETE passes only for ``deletable`` tables, under the same
    permit. Anything else is refused as before. Replaces each table's ``<table>_append_only`` trigger.
    """
    postgresql = [
        f"""
        CREATE OR REPLACE FUNCTION evidence_refuse_change_but_erasure() RETURNS trigger AS $$
        DECLARE
          personal text[];
          personal_column text;
        BEGIN
          personal := TG_ARGV[1:TG_NARGS - 1];
          IF EXISTS (SELECT 1 FROM {ERASURE_PERMIT_TABLE} WHERE txid = txid_current()) THEN
            IF TG_OP = 'DELETE' AND TG_ARGV[0] = 'deletable' THEN
              RETURN OLD;
            END IF;
            IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - personal) = (to_jsonb(OLD) - personal) THEN
              FOREACH personal_column IN ARRAY personal LOOP
                IF coalesce(to_jsonb(NEW) -> personal_column, 'null'::jsonb)
                   NOT IN ('null'::jsonb, '""'::jsonb, '{{}}'::jsonb, '[]'::jsonb, '"erased"'::jsonb) THEN
                  {_pg_raise(APPEND_ONLY)}
                END IF;
              END LOOP;
              RETURN NEW;
            END IF;
          END IF;
          {_pg_raise(APPEND_ONLY)}
        END $$ LANGUAGE plpgsql;
        """
    ]
    postgresql_reverse = []
    sqlite = []
    sqlite_reverse = []
    for spec in tables:
        mode = "deletable" if spec.deletable else "blank"
        arguments = ", ".join(f"'{name}'" for name in [mode, *spec.personal])
        postgresql += [
            f"DROP TRIGGER IF EXISTS {spec.table}_append_only ON {spec.table};",
            f"""CREATE TRIGGER {spec.table}_append_only BEFORE UPDATE OR DELETE ON {spec.table}
            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change_but_erasure({arguments});""",
        ]
        postgresql_reverse += [
            f"DROP TRIGGER IF EXISTS {spec.table}_append_only ON {spec.table};",
            f"""CREATE TRIGGER {spec.table}_append_only BEFORE UPDATE OR DELETE ON {spec.table}
            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();""",
        ]
        kept = [name for name in spec.columns if name not in spec.personal]
        refused = [f"NOT EXISTS (SELECT 1 FROM {ERASURE_PERMIT_TABLE})"]
        refused += [f'NEW."{name}" IS NOT OLD."{name}"' for name in kept]
        refused += [f'NOT (NEW."{name}" IS NULL OR NEW."{name}" IN {ERASED_VALUES_SQL})' for name in spec.personal]
        conditions = "\n              OR ".join(refused)
        sqlite += [
            f"DROP TRIGGER IF EXISTS {spec.table}_append_only;",
            f"""CREATE TRIGGER {spec.table}_append_only BEFORE UPDATE ON {spec.table}
            WHEN {conditions}
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;""",
        ]
        sqlite_reverse += [
            f"DROP TRIGGER IF EXISTS {spec.table}_append_only;",
            f"""CREATE TRIGGER {spec.table}_append_only BEFORE UPDATE ON {spec.table}
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;""",
        ]
    postgresql_reverse.append("DROP FUNCTION IF EXISTS evidence_refuse_change_but_erasure();")
    return TriggerSet(postgresql, sqlite, postgresql_reverse, sqlite_reverse)
