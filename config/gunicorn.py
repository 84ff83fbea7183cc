"""gunicorn's configuration: ``gunicorn -c config/gunicorn.py config.wsgi``.

Every value comes from the environment (through the strict readers of ``config.env``, so a typo fails at start-up):

- ``GUNICORN_BIND`` (default ``0.0.0.0:$PORT``, ``PORT`` 8000);
- ``GUNICORN_WORKERS`` (default 2 per CPU + 1) and ``GUNICORN_THREADS`` (default 2; with more than one the worker
  class is ``gthread``, so a slow client or a request waiting on a row lock does not hold a whole process);
- ``GUNICORN_WORKER_CONNECTIONS`` (default threads + 1, at least threads): the connections a threaded worker holds
  open at once, those waiting for a thread and the kept-alive ones included (see below);
- ``GUNICORN_TIMEOUT`` (seconds a worker may be silent before it is restarted, default 30; no page takes more:
  PDFs, archives and spreadsheets are made by the Celery workers), ``GUNICORN_GRACEFUL_TIMEOUT`` (30) and
  ``GUNICORN_KEEPALIVE`` (5);
- ``GUNICORN_MAX_REQUESTS`` (default 2000, 0 for never) with ``GUNICORN_MAX_REQUESTS_JITTER`` (200): a worker is
  replaced after that many requests, which bounds slow growth of memory;
- ``GUNICORN_PRELOAD`` (default on): the application is imported once, in the master, and shared by the workers;
- ``GUNICORN_GC_THRESHOLD`` (default ``50000,20,100``): the garbage collector's generation thresholds.

The garbage collector: everything loaded before the workers start (Django, the apps, the templates' modules) is
moved to the collector's permanent generation with ``gc.freeze()`` (in the master before it forks, and in each
worker once it is ready), so the full collections a request may trigger no longer walk hundreds of thousands of
long-lived objects (those walks were the tail of the reading page: up to 99 ms), and the pages the workers share with
the master stay shared instead of being copied when the collector touches them. A higher first threshold makes the
young collections rarer; a request's garbage is mostly freed by reference counting anyway.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # gunicorn loads this file by path

from django.core.exceptions import ImproperlyConfigured  # noqa: E402 - after the path is set

from config.env import env_bool, env_int, env_str  # noqa: E402


def _gc_threshold() -> tuple[int, int, int]:
    raw = env_str("GUNICORN_GC_THRESHOLD", "50000,20,100")
    try:
        first, second, third = (int(part) for part in raw.split(","))
    except ValueError:
        raise ImproperlyConfigured(
            f"GUNICORN_GC_THRESHOLD={raw!r} must be three whole numbers, e.g. 50000,20,100."
        ) from None
    if min(first, second, third) < 1:
        raise ImproperlyConfigured(f"GUNICORN_GC_THRESHOLD={raw!r}: each threshold must be at least 1.")
    return first, second, third


bind = [env_str("GUNICORN_BIND", f"0.0.0.0:{env_int('PORT', 8000, minimum=1, maximum=65535)}")]
workers = env_int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1, minimum=1, maximum=256)
threads = env_int("GUNICORN_THREADS", 2, minimum=1, maximum=64)
worker_class = "gthread" if threads > 1 else "sync"
timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=1, maximum=3600)
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1, maximum=3600)
keepalive = env_int("GUNICORN_KEEPALIVE", 5, minimum=0, maximum=300)
max_requests = env_int("GUNICORN_MAX_REQUESTS", 2000, minimum=0)
max_requests_jitter = env_int("GUNICORN_MAX_REQUESTS_JITTER", 200, minimum=0)
preload_app = env_bool("GUNICORN_PRELOAD", True)
backlog = env_int("GUNICORN_BACKLOG", 2048, minimum=64)
# A gthread worker accepts connections while it has fewer than this open and queues them for its threads; at
# gunicorn's default (1,000) one worker took most of a burst of 200 signers while others sat idle (from run to run
# 48 to 97 signatures a second). One more than its threads leaves the rest in the listen queue for the next worker
# with a thread free; a kept-alive connection beyond that one is closed after its response (gunicorn's rule).
worker_connections = env_int("GUNICORN_WORKER_CONNECTIONS", threads + 1, minimum=threads)
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
GC_THRESHOLD = _gc_threshold()


def _prepare_to_publish() -> None:
    from core.tasks import prepare_to_publish  # Django is set up once the application is loaded

    prepare_to_publish()


def when_ready(server) -> None:
    """In the master, once the application is loaded (preload) and before the first worker is forked."""
    if server.cfg.preload_app:
        _prepare_to_publish()
    gc.collect()
    gc.freeze()


def post_fork(server, worker) -> None:
    """In each new worker: keep what it inherited out of the collector's way, and collect young objects less often."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def post_worker_init(worker) -> None:
    """In each worker once the application is loaded (the only load when preloading is off)."""
    if not worker.cfg.preload_app:
        _prepare_to_publish()
    gc.freeze()
