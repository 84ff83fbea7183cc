"""On PostgreSQL, the obligation tally's pages are kept half empty (fillfactor 50), so that its counts are updated
in place (HOT updates: no new index entries, the old row pruned from its own page without a VACUUM).

Every signature, leaver and new obligation updates one or two tally rows, only in ``n``, which no index holds;
with full pages each update wrote the row anew on another page and in each of the table's four indexes. On the
50,000-person scale data, after its 150,000 obligations were made, 1,007 of 127,726 updates had been in place and
the table took 16 MB (2,077 pages) for 23,168 rows; the dashboard's scan read all of it. The setting applies to
pages written from now on; ``VACUUM FULL acknowledgements_obligationtally`` (a short lock on a table this size)
rewrites the old ones. SQLite has no such setting.
"""

from django.db import migrations

TALLY = "acknowledgements_obligationtally"


def _set(fillfactor: int | None):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        if fillfactor is None:
            schema_editor.execute(f"ALTER TABLE {TALLY} RESET (fillfactor)")
        else:
            schema_editor.execute(f"ALTER TABLE {TALLY} SET (fillfactor = {fillfactor})")

    return run


class Migration(migrations.Migration):
    dependencies = [("acknowledgements", "0015_obligation_tally_sqlite_decrements")]

    operations = [migrations.RunPython(_set(50), _set(None), elidable=False)]
