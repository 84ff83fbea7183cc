"""Celery discovers ``acknowledgements.tasks``; each feature's tasks live in their own module, imported here."""

from acknowledgements.reminders.tasks import plan_reminders, resume_reminders, send_reminders  # noqa: F401
from acknowledgements.signing_tasks import issue_acknowledgement_pdf, send_acknowledgement_receipt, send_invitation  # noqa: F401
