"""Reminders: planned daily by Celery beat, claimed in the database, sent in batches.

- ``steps``: when each reminder is due (pure date arithmetic) and the per-code settings.
- ``planning``: the daily set-based planner that writes pending ``ReminderLog`` rows.
- ``sending``: claims rows and sends them over one SMTP connection per batch.
- ``emails``: what each reminder says (plain text and HTML).
- ``tasks``: the thin Celery tasks.
- ``views``: the admins' pages (steps per code, the log of every reminder).
"""
