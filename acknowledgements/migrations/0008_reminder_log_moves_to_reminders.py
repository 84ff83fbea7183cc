# ReminderLog now belongs to the reminders app (its migration 0001 takes it over, table and rows
# included). Only Django's state changes here: nothing in the database is dropped.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("acknowledgements", "0007_reminder_log_no_code_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="ReminderLog")]),
    ]
