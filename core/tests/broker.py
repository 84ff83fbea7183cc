"""A real broker outage for tests: tasks are sent (not run eagerly) to a Redis where nothing listens.

kombu raises its own OperationalError, exactly as in production when Redis is down; leaving the
context (``broker_returns``) puts the tasks back to running eagerly, as the worker would run them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import kombu.pools

from config.celery import app

UNREACHABLE_BROKER = "redis://127.0.0.1:8597/8"  # one of this suite's ports, where nothing listens


def fresh_connections() -> None:
    """Pooled broker connections are made again for the current URL, as Celery does after a fork.

    kombu keeps one connection pool per broker URL for the whole process (``kombu.pools``), and
    Celery's ``app.pool`` is that shared pool: closing it without emptying the registry would leave
    every later test in the process with a closed pool ("Acquire on closed pool"), even eager ones.
    """
    kombu.pools.reset()
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


def _use(settings: dict) -> None:
    app.conf.update(settings)
    fresh_connections()


@contextmanager
def broker_unreachable() -> Iterator[Callable[[], None]]:
    """Within: the broker cannot be reached. Yields ``broker_returns`` to end the outage early."""
    saved = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}
    _use({"task_always_eager": False, "broker_url": UNREACHABLE_BROKER})
    try:
        yield lambda: _use(saved)
    finally:
        _use(saved)
