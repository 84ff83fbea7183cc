# The reminder log's table and index take the reminders app's names. A rename: every row stays.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelTable(name="reminderlog", table=None),
        migrations.RenameIndex(
            model_name="reminderlog", new_name="reminder_status_planned", old_name="acknowledge_status_9720e0_idx"
        ),
    ]
