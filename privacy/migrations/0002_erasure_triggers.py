"""The append-only triggers of the evidence tables let the erasure service, and nothing else, blank personal fields.

Issue 13 (docs/retention.md, "Erasure"): an UPDATE of acknowledgements, audit events, adoptions and audit
log entries passes only while the erasure's permit row (``privacy_erasurepermit``) exists, written by the
same transaction on PostgreSQL, and only when it empties the personal columns and leaves every other
column as it was; a declaration's interests may be deleted under the same permit. Declarations, sealed
PDFs, chain entries and anchors stay strictly append-only.

Frozen: the SQL is written out here (what ``core.db.triggers.erasure_triggers`` produced when this was
written, with each table's columns as they stood), never imported. A change belongs in a new migration.
"""

from django.db import migrations

POSTGRESQL = ['\n'
 '        CREATE OR REPLACE FUNCTION evidence_refuse_change_but_erasure() RETURNS trigger AS $$\n'
 '        DECLARE\n'
 '          personal text[];\n'
 '          personal_column text;\n'
 '        BEGIN\n'
 '          personal := TG_ARGV[1:TG_NARGS - 1];\n'
 '          IF EXISTS (SELECT 1 FROM privacy_erasurepermit WHERE txid = txid_current()) THEN\n'
 "            IF TG_OP = 'DELETE' AND TG_ARGV[0] = 'deletable' THEN\n"
 '              RETURN OLD;\n'
 '            END IF;\n'
 "            IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - personal) = (to_jsonb(OLD) - personal) THEN\n"
 '              FOREACH personal_column IN ARRAY personal LOOP\n'
 "                IF coalesce(to_jsonb(NEW) -> personal_column, 'null'::jsonb)\n"
 '                   NOT IN (\'null\'::jsonb, \'""\'::jsonb, \'{}\'::jsonb, \'[]\'::jsonb, \'"erased"\'::jsonb) '
 'THEN\n'
 "                  RAISE EXCEPTION 'evidence records are append-only' USING ERRCODE = '23001';\n"
 '                END IF;\n'
 '              END LOOP;\n'
 '              RETURN NEW;\n'
 '            END IF;\n'
 '          END IF;\n'
 "          RAISE EXCEPTION 'evidence records are append-only' USING ERRCODE = '23001';\n"
 '        END $$ LANGUAGE plpgsql;\n'
 '        ',
 'DROP TRIGGER IF EXISTS acknowledgements_acknowledgement_append_only ON acknowledgements_acknowledgement;',
 'CREATE TRIGGER acknowledgements_acknowledgement_append_only BEFORE UPDATE OR DELETE ON '
 'acknowledgements_acknowledgement\n'
 "            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change_but_erasure('blank', 'typed_name', 'ip_address', "
 "'user_agent', 'on_behalf_reason', 'correction_reason', 'paper_scan');",
 'DROP TRIGGER IF EXISTS acknowledgements_auditevent_append_only ON acknowledgements_auditevent;',
 'CREATE TRIGGER acknowledgements_auditevent_append_only BEFORE UPDATE OR DELETE ON acknowledgements_auditevent\n'
 "            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change_but_erasure('blank', 'ip_address', 'user_agent', "
 "'details');",
 'DROP TRIGGER IF EXISTS acknowledgements_interest_append_only ON acknowledgements_interest;',
 'CREATE TRIGGER acknowledgements_interest_append_only BEFORE UPDATE OR DELETE ON acknowledgements_interest\n'
 "            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change_but_erasure('deletable');",
 'DROP TRIGGER IF EXISTS conduct_adoption_append_only ON conduct_adoption;',
 'CREATE TRIGGER conduct_adoption_append_only BEFORE UPDATE OR DELETE ON conduct_adoption\n'
 "            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change_but_erasure('blank', 'chair_signature', "
 "'ip_address', 'user_agent');",
 'DROP TRIGGER IF EXISTS conduct_auditlogentry_append_only ON conduct_auditlogentry;',
 'CREATE TRIGGER conduct_auditlogentry_append_only BEFORE UPDATE OR DELETE ON conduct_auditlogentry\n'
 "            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change_but_erasure('blank', 'summary', 'details', "
 "'ip_address');"]

SQLITE = ['DROP TRIGGER IF EXISTS acknowledgements_acknowledgement_append_only;',
 'CREATE TRIGGER acknowledgements_acknowledgement_append_only BEFORE UPDATE ON acknowledgements_acknowledgement\n'
 '            WHEN NOT EXISTS (SELECT 1 FROM privacy_erasurepermit)\n'
 '              OR NEW."id" IS NOT OLD."id"\n'
 '              OR NEW."person_id" IS NOT OLD."person_id"\n'
 '              OR NEW."version_id" IS NOT OLD."version_id"\n'
 '              OR NEW."obligation_id" IS NOT OLD."obligation_id"\n'
 '              OR NEW."organisation_id" IS NOT OLD."organisation_id"\n'
 '              OR NEW."roles" IS NOT OLD."roles"\n'
 '              OR NEW."content_hash" IS NOT OLD."content_hash"\n'
 '              OR NEW."statement" IS NOT OLD."statement"\n'
 '              OR NEW."signed_at" IS NOT OLD."signed_at"\n'
 '              OR NEW."auth_method" IS NOT OLD."auth_method"\n'
 '              OR NEW."auth_provider" IS NOT OLD."auth_provider"\n'
 '              OR NEW."mfa_used" IS NOT OLD."mfa_used"\n'
 '              OR NEW."recorded_by_id" IS NOT OLD."recorded_by_id"\n'
 '              OR NEW."paper_signed_on" IS NOT OLD."paper_signed_on"\n'
 '              OR NEW."paper_scan_sha256" IS NOT OLD."paper_scan_sha256"\n'
 '              OR NEW."corrects_id" IS NOT OLD."corrects_id"\n'
 '              OR NEW."verification_code" IS NOT OLD."verification_code"\n'
 '              OR NEW."evidence_hash" IS NOT OLD."evidence_hash"\n'
 '              OR NOT (NEW."typed_name" IS NULL OR NEW."typed_name" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 '              OR NOT (NEW."ip_address" IS NULL OR NEW."ip_address" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 '              OR NOT (NEW."user_agent" IS NULL OR NEW."user_agent" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 '              OR NOT (NEW."on_behalf_reason" IS NULL OR NEW."on_behalf_reason" IN (\'\', \'{}\', \'[]\', '
 "'erased'))\n"
 '              OR NOT (NEW."correction_reason" IS NULL OR NEW."correction_reason" IN (\'\', \'{}\', \'[]\', '
 "'erased'))\n"
 '              OR NOT (NEW."paper_scan" IS NULL OR NEW."paper_scan" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 "            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;",
 'DROP TRIGGER IF EXISTS acknowledgements_auditevent_append_only;',
 'CREATE TRIGGER acknowledgements_auditevent_append_only BEFORE UPDATE ON acknowledgements_auditevent\n'
 '            WHEN NOT EXISTS (SELECT 1 FROM privacy_erasurepermit)\n'
 '              OR NEW."id" IS NOT OLD."id"\n'
 '              OR NEW."person_id" IS NOT OLD."person_id"\n'
 '              OR NEW."version_id" IS NOT OLD."version_id"\n'
 '              OR NEW."acknowledgement_id" IS NOT OLD."acknowledgement_id"\n'
 '              OR NEW."kind" IS NOT OLD."kind"\n'
 '              OR NEW."occurred_at" IS NOT OLD."occurred_at"\n'
 '              OR NEW."actor_id" IS NOT OLD."actor_id"\n'
 '              OR NOT (NEW."ip_address" IS NULL OR NEW."ip_address" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 '              OR NOT (NEW."user_agent" IS NULL OR NEW."user_agent" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 '              OR NOT (NEW."details" IS NULL OR NEW."details" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 "            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;",
 'DROP TRIGGER IF EXISTS acknowledgements_interest_append_only;',
 'CREATE TRIGGER acknowledgements_interest_append_only BEFORE UPDATE ON acknowledgements_interest\n'
 '            WHEN NOT EXISTS (SELECT 1 FROM privacy_erasurepermit)\n'
 '              OR NEW."id" IS NOT OLD."id"\n'
 '              OR NEW."declaration_id" IS NOT OLD."declaration_id"\n'
 '              OR NEW."kind" IS NOT OLD."kind"\n'
 '              OR NEW."counterparty" IS NOT OLD."counterparty"\n'
 '              OR NEW."nature" IS NOT OLD."nature"\n'
 '              OR NEW."starts_on" IS NOT OLD."starts_on"\n'
 '              OR NEW."ends_on" IS NOT OLD."ends_on"\n'
 "            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;",
 'DROP TRIGGER IF EXISTS conduct_adoption_append_only;',
 'CREATE TRIGGER conduct_adoption_append_only BEFORE UPDATE ON conduct_adoption\n'
 '            WHEN NOT EXISTS (SELECT 1 FROM privacy_erasurepermit)\n'
 '              OR NEW."id" IS NOT OLD."id"\n'
 '              OR NEW."version_id" IS NOT OLD."version_id"\n'
 '              OR NEW."board_id" IS NOT OLD."board_id"\n'
 '              OR NEW."organisation_id" IS NOT OLD."organisation_id"\n'
 '              OR NEW."includes_sub_organisations" IS NOT OLD."includes_sub_organisations"\n'
 '              OR NEW."meeting_id" IS NOT OLD."meeting_id"\n'
 '              OR NEW."minute_reference" IS NOT OLD."minute_reference"\n'
 '              OR NEW."chair_id" IS NOT OLD."chair_id"\n'
 '              OR NEW."adopted_on" IS NOT OLD."adopted_on"\n'
 '              OR NEW."effective_on" IS NOT OLD."effective_on"\n'
 '              OR NEW."review_due_on" IS NOT OLD."review_due_on"\n'
 '              OR NEW."signing_due_on" IS NOT OLD."signing_due_on"\n'
 '              OR NEW."recorded_by_id" IS NOT OLD."recorded_by_id"\n'
 '              OR NEW."recorded_on_behalf" IS NOT OLD."recorded_on_behalf"\n'
 '              OR NEW."content_hash" IS NOT OLD."content_hash"\n'
 '              OR NEW."recorded_at" IS NOT OLD."recorded_at"\n'
 '              OR NEW."evidence_hash" IS NOT OLD."evidence_hash"\n'
 '              OR NEW."verification_code" IS NOT OLD."verification_code"\n'
 '              OR NOT (NEW."chair_signature" IS NULL OR NEW."chair_signature" IN (\'\', \'{}\', \'[]\', '
 "'erased'))\n"
 '              OR NOT (NEW."ip_address" IS NULL OR NEW."ip_address" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 '              OR NOT (NEW."user_agent" IS NULL OR NEW."user_agent" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 "            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;",
 'DROP TRIGGER IF EXISTS conduct_auditlogentry_append_only;',
 'CREATE TRIGGER conduct_auditlogentry_append_only BEFORE UPDATE ON conduct_auditlogentry\n'
 '            WHEN NOT EXISTS (SELECT 1 FROM privacy_erasurepermit)\n'
 '              OR NEW."id" IS NOT OLD."id"\n'
 '              OR NEW."actor_id" IS NOT OLD."actor_id"\n'
 '              OR NEW."action" IS NOT OLD."action"\n'
 '              OR NEW."organisation_id" IS NOT OLD."organisation_id"\n'
 '              OR NEW."target_type" IS NOT OLD."target_type"\n'
 '              OR NEW."target_id" IS NOT OLD."target_id"\n'
 '              OR NEW."subject_id" IS NOT OLD."subject_id"\n'
 '              OR NEW."at" IS NOT OLD."at"\n'
 '              OR NOT (NEW."summary" IS NULL OR NEW."summary" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 '              OR NOT (NEW."details" IS NULL OR NEW."details" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 '              OR NOT (NEW."ip_address" IS NULL OR NEW."ip_address" IN (\'\', \'{}\', \'[]\', \'erased\'))\n'
 "            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;"]

POSTGRESQL_REVERSE = ['DROP TRIGGER IF EXISTS acknowledgements_acknowledgement_append_only ON acknowledgements_acknowledgement;',
 'CREATE TRIGGER acknowledgements_acknowledgement_append_only BEFORE UPDATE OR DELETE ON '
 'acknowledgements_acknowledgement\n'
 '            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();',
 'DROP TRIGGER IF EXISTS acknowledgements_auditevent_append_only ON acknowledgements_auditevent;',
 'CREATE TRIGGER acknowledgements_auditevent_append_only BEFORE UPDATE OR DELETE ON acknowledgements_auditevent\n'
 '            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();',
 'DROP TRIGGER IF EXISTS acknowledgements_interest_append_only ON acknowledgements_interest;',
 'CREATE TRIGGER acknowledgements_interest_append_only BEFORE UPDATE OR DELETE ON acknowledgements_interest\n'
 '            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();',
 'DROP TRIGGER IF EXISTS conduct_adoption_append_only ON conduct_adoption;',
 'CREATE TRIGGER conduct_adoption_append_only BEFORE UPDATE OR DELETE ON conduct_adoption\n'
 '            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();',
 'DROP TRIGGER IF EXISTS conduct_auditlogentry_append_only ON conduct_auditlogentry;',
 'CREATE TRIGGER conduct_auditlogentry_append_only BEFORE UPDATE OR DELETE ON conduct_auditlogentry\n'
 '            FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();',
 'DROP FUNCTION IF EXISTS evidence_refuse_change_but_erasure();']

SQLITE_REVERSE = ['DROP TRIGGER IF EXISTS acknowledgements_acknowledgement_append_only;',
 'CREATE TRIGGER acknowledgements_acknowledgement_append_only BEFORE UPDATE ON acknowledgements_acknowledgement\n'
 "            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;",
 'DROP TRIGGER IF EXISTS acknowledgements_auditevent_append_only;',
 'CREATE TRIGGER acknowledgements_auditevent_append_only BEFORE UPDATE ON acknowledgements_auditevent\n'
 "            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;",
 'DROP TRIGGER IF EXISTS acknowledgements_interest_append_only;',
 'CREATE TRIGGER acknowledgements_interest_append_only BEFORE UPDATE ON acknowledgements_interest\n'
 "            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;",
 'DROP TRIGGER IF EXISTS conduct_adoption_append_only;',
 'CREATE TRIGGER conduct_adoption_append_only BEFORE UPDATE ON conduct_adoption\n'
 "            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;",
 'DROP TRIGGER IF EXISTS conduct_auditlogentry_append_only;',
 'CREATE TRIGGER conduct_auditlogentry_append_only BEFORE UPDATE ON conduct_auditlogentry\n'
 "            BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END;"]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor) -> None:
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"No erasure triggers for the {vendor} database; add them before using it.")
        for statement in statements[vendor]:
            schema_editor.execute(statement)

    return run


forwards = _run({"postgresql": POSTGRESQL, "sqlite": SQLITE})
backwards = _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE})


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("acknowledgements", "0011_evidence_refuses_truncate"),
        ("conduct", "0011_audit_action_retention_applied"),
        ("core", "0003_tombstone"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
