"""The one Celery convention: thin tasks, one retry policy for transient errors, queued after commit.

- ``transient_task`` declares a task that retries, with exponential backoff and
  jitter, only on errors that can go away by waiting (a mail server or storage
  backend briefly away, a dropped database connection). Anything else, such as
  an ``AppendOnlyViolation`` or an ``IntegrityError``, fails at once: retrying it
  would only repeat it.
- Task names are their module path (Celery's default); nothing names them by hand.
- ``enqueue_on_commit`` queues a task once the current transaction commits, and a
  broker that cannot be reached then (kombu's OperationalError, which Celery raises for
  a network transport's connection errors, or an OSError from the filesystem transport
  of ``make run``) is logged, never raised: the user's action has committed and must
  not turn into an error page. Each app's periodic sweep finds the work a lost message
  would have done. Tasks run eagerly (the test settings) are not sent anywhere, so
  whatever they raise is theirs and still raises.
"""

from __future__ import annotations

import importlib
import logging
import smtplib
from collections.abc import Callable
from typing import Any

from celery import current_app, shared_task
from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerUnreachable

from core.exceptions import TransientError

logger = logging.getLogger(__name__)

# Mail: a server that hung up, refused the connection or answered 4xx. (A 5xx refusal of the
# recipient, SMTPRecipientsRefused, is permanent and not listed.)
TRANSIENT_MAIL_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPDataError,
    smtplib.SMTPSenderRefused,
)
PERMANENT_MAIL_ERRORS: tuple[type[BaseException], ...] = (smtplib.SMTPRecipientsRefused,)
# OSError covers sockets, timeouts and storage; the database errors are those of a lost connection.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    OSError,
    OperationalError,
    InterfaceError,
    *TRANSIENT_MAIL_ERRORS,
)

RETRY_POLICY: dict[str, Any] = {
    "bind": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


def transient_task(**overrides: Any) -> Callable:
    """``@transient_task()``: a shared task with the project's retry policy (``overrides`` for a task's own limits)."""
    return shared_task(**{**RETRY_POLICY, **overrides})


def _runs_here(task: Any) -> bool:
    """Whether Celery runs the task in this process instead of sending it (the test settings)."""
    return bool(task.app.conf.task_always_eager)


def _send(task: Any, args: tuple, kwargs: dict) -> None:
    if _runs_here(task):  # the task runs here and now: whatever it raises is its own
        task.apply_async(args=args, kwargs=kwargs)
        return
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except (BrokerUnreachable, OSError):  # the work is committed and a periodic sweep will find it
        logger.exception("Could not queue %s%r; the periodic sweep will pick it up.", task.name, args)


def prepare_to_publish() -> None:
    """Load what the first task sent from a process loads (the task registry, the AMQP layer, the broker's transport
    and its client library), without connecting to the broker.

    Measured: a web worker's first sign POST imported about a hundred modules in ``send_task`` (0.1 s in a quiet
    process, over 1 s in a gunicorn worker under load), every deploy and every recycled worker. gunicorn calls
    this in the master before it forks (``config/gunicorn.py``), so the workers inherit the modules; no socket is
    opened there, so no connection is shared across the fork.
    """
    app = current_app
    app.loader.import_default_modules()
    app.finalize(auto=True)
    app.amqp.producer_pool  # noqa: B018 (the property builds the producer machinery; its connections stay lazy)
    with app.connection_for_write() as connection:
        connection.transport  # noqa: B018 (the transport's class and client library, not a connection)
    for module in ("celery.events.dispatcher", "kombu.mixins", "encodings.idna"):  # what the first send still took
        importlib.import_module(module)


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue ``task`` once the current transaction commits (at once outside one); broker errors are logged.

    Robust (``robust=True``) besides: whatever else sending raises after the commit is logged by Django and
    never reaches the user, whose action has committed. Tasks run eagerly (tests) keep their errors.
    """

    def send_after_commit() -> None:
        _send(task, args, kwargs)

    send_after_commit.__qualname__ = f"enqueue_on_commit({task.name})"  # what Django logs if it ever fails
    transaction.on_commit(send_after_commit, robust=not _runs_here(task))


@shared_task(ignore_result=True)
def reconcile() -> dict[str, int]:
    """Every few minutes (beat ``reconcile``): queue again what lost messages left undone (``core.reconcile``)."""
    from core.reconcile import reconcile_run  # here: the sweeps import the apps' tasks, which import this module

    return reconcile_run()
