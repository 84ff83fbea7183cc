"""Settings for the real Celery worker started by test_reminders_worker.py: the development settings
(DEBUG=1, the database and broker from the environment) with mail written one file per message."""

import os

from config.settings import *  # noqa: F401,F403

EMAIL_BACKEND = "reminders.tests.reminder_helpers.HangingFileBackend"

# Each test run gets a queue of its own, so runs in parallel never take each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("REMINDER_TEST_QUEUE", "celery")
# No remote-control mailbox: nothing of the test worker stays behind in Redis.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
