# Written for core.models.WorkClaim (issue 13: reconciliation claims).

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="WorkClaim",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=120, unique=True)),
                ("claimed_at", models.DateTimeField()),
                ("done_at", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveIntegerField(default=1)),
            ],
            options={"verbose_name": "work claim"},
        ),
    ]
