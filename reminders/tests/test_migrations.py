"""The reminder log moved from acknowledgements to reminders: every row survives the move."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("acknowledgements", "0007_reminder_log_no_code_index")]
AFTER = [("acknowledgements", "0008_reminder_log_moves_to_reminders"), ("reminders", "0002_own_table")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_moving_the_reminder_log_keeps_every_row_and_its_constraints():
    old_apps = _migrate(BEFORE + [("reminders", None)])
    Person = old_apps.get_model("conduct", "Person")
    OldLog = old_apps.get_model("acknowledgements", "ReminderLog")
    person = Person.objects.create(email="moved@example.org", full_name="Moved Person")
    sent_at = timezone.now()
    OldLog.objects.create(
        recipient=person, kind="signing", subject="obligation:1", step="due", planned_for=date(2026, 9, 1)
    )
    OldLog.objects.create(
        recipient=person,
        kind="signing",
        subject="obligation:1",
        step="overdue-1",
        planned_for=date(2026, 9, 8),
        status="sent",
        sent_at=sent_at,
    )
    try:
        new_apps = _migrate(AFTER)
        NewLog = new_apps.get_model("reminders", "ReminderLog")
        assert NewLog._meta.db_table == "reminders_reminderlog"
        rows = list(NewLog.objects.order_by("planned_for").values_list("recipient__email", "step", "status", "sent_at"))
        assert rows == [
            ("moved@example.org", "due", "pending", None),
            ("moved@example.org", "overdue-1", "sent", sent_at),
        ]
        tables = connection.introspection.table_names()
        assert "reminders_reminderlog" in tables and "acknowledgements_reminderlog" not in tables
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, "reminders_reminderlog")
        assert {"reminder_once_per_step", "reminder_status_planned"} <= set(constraints)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # every app at its head, for later tests
        from django.core.management import call_command

        call_command("flush", verbosity=0, interactive=False)
