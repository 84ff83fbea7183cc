"""Strict readers for settings that come from the environment.

Each helper either returns a value of the right type or raises
``ImproperlyConfigured`` naming the variable and what was wrong, so a typo in a
deployment fails at start-up instead of behaving oddly months later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import time
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_MISSING: Any = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (environ if environ is not None else os.environ).get(name)
    if value is None:
        return None
    return value.strip()


def env_str(name: str, default: str = _MISSING, *, environ: Mapping[str, str] | None = None) -> str:
    """A string; an unset (or empty) variable without a default is an error."""
    value = _raw(name, environ)
    if value:
        return value
    if default is _MISSING:
        raise ImproperlyConfigured(f"{name} must be set.")
    return default


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """One of 1/0, true/false, yes/no, on/off (any case); anything else is an error."""
    value = _raw(name, environ)
    if not value:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use one of 1, 0, true, false, yes, no, on, off.")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """A whole number, optionally within bounds."""
    value = _raw(name, environ)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}.")
    return number


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; blank items are dropped."""
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_time(name: str, default: time, *, environ: Mapping[str, str] | None = None) -> time:
    """A 24-hour local time written HH:MM."""
    value = _raw(name, environ)
    if not value:
        return default
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value)
    if not match:
        raise ImproperlyConfigured(f"{name}={value!r} is not a time; write it as HH:MM, for example 07:30.")
    return time(int(match.group(1)), int(match.group(2)))


def env_url(name: str, default: str = _MISSING, *, environ: Mapping[str, str] | None = None) -> str:
    """An absolute http(s) address with a host and no path, query or fragment, returned without a trailing slash."""
    value = _raw(name, environ)
    if not value:
        if default is _MISSING:
            raise ImproperlyConfigured(
                f"{name} must be set to the public address of this site, e.g. https://conduct.example.org "
                "(it goes into emails, PDFs and QR codes)."
            )
        value = default
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name}={value!r} is not an address; write it as https://host[:port].")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name}={value!r} must be the site's root address, without a path or query.")
    try:
        parts.port  # noqa: B018 - a bad port raises ValueError
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} has a bad port.") from None
    return value.rstrip("/")


def env_database(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> dj_database_url.DBConfig:
    """A database URL: ``sqlite:///path`` or ``postgres://user:pass@host:port/name``.

    PostgreSQL connections are kept open between requests (with health checks),
    which is what psycopg 3 and Django recommend for a long-running server.
    """
    url = env_str(name, default, environ=environ)
    scheme = url.split(":", 1)[0].lower()
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(f"{name} must start with sqlite:// or postgres://, not {scheme!r}.")
    is_postgres = scheme != "sqlite"
    config = dj_database_url.parse(
        url,
        conn_max_age=600 if is_postgres else 0,
        conn_health_checks=is_postgres,
    )
    if is_postgres and not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://user@host:5432/conduct.")
    return config


def env_cache(names: tuple[str, ...], default_directory: str, *, environ: Mapping[str, str] | None = None) -> dict:
    """Django's default cache, from the first of ``names`` that is set, shared by every process.

    ``redis://[:password@]host:port/db`` or ``rediss://…`` (Redis, for production and for several
    hosts) or ``file:///absolute/path`` (files in one folder: every process on this host). Unset: files
    under ``default_directory``. A per-process memory cache is never offered: allauth's rate limits live
    in this cache, and counted per process they multiply by the number of workers.
    """
    for name in names:
        url = _raw(name, environ)
        if url:
            break
    else:
        return {"BACKEND": "core.cache.FileCache", "LOCATION": default_directory}
    parts = urlsplit(url)
    if parts.scheme in {"redis", "rediss"}:
        if not parts.hostname:
            raise ImproperlyConfigured(f"{name} must name the Redis host, e.g. redis://127.0.0.1:6379/1.")
        try:
            parts.port  # noqa: B018 - a bad port raises ValueError
        except ValueError:
            raise ImproperlyConfigured(f"{name} has a bad port.") from None
        database = parts.path.strip("/")
        if database and not database.isdigit():
            raise ImproperlyConfigured(f"{name}: the Redis database must be a number, e.g. redis://host:6379/1.")
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if parts.scheme == "file":
        if not parts.path.startswith("/") or parts.netloc:
            raise ImproperlyConfigured(f"{name} must be file:///absolute/path for a cache in files.")
        return {"BACKEND": "core.cache.FileCache", "LOCATION": parts.path}
    raise ImproperlyConfigured(f"{name} must start with redis://, rediss:// or file:///, not {parts.scheme!r}.")
