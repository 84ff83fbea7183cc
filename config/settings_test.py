"""Fast, isolated settings for the test suite.

Tests start from the development defaults (so no secrets are needed), then swap
in a cheap password hasher, an in-memory cache and mail outbox, and run Celery
tasks inline. ``DATABASE_URL`` still chooses the database, so CI can run the
same suite on SQLite and on PostgreSQL.
"""

import os
import tempfile

os.environ["DEBUG"] = "1"
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdefghijklmnop")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="conduct-test-var-"))
os.environ.pop("EMAIL_HOST", None)
os.environ.pop("CELERY_BROKER_URL", None)

# The settings write nothing when imported; the test VAR_DIR (a fresh temporary folder unless set) is
# prepared explicitly, as `make run` prepares var/ in development: the folders a development process
# run by a test expects (mail, media, the filesystem broker's) and a secret key file.
from config.prepare import prepare  # noqa: E402

prepare()

from config.settings import *  # noqa: E402,F403
from config.settings import DATABASES, STATIC_ROOT, STORAGES, VAR_DIR  # noqa: E402

if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # The evidence tables refuse TRUNCATE (docs/evidence.md) unless the session allows it: the suite's flush
    # between transactional tests truncates every table. Tests of the refusal switch it off again.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (_options.get("options", "") + " -c conduct.allow_truncate=on").strip()

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    **STORAGES,
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(MEDIA_ROOT)}},
}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
SITE_URL = "http://testserver"
# WhiteNoise warns about a missing STATIC_ROOT; collectstatic is never run in tests (test-only mkdir).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
