"""Settings for the codes-of-conduct service.

Every deployment-specific value comes from the environment through the strict
helpers in ``config.env``. With ``DEBUG=1`` (what ``make run`` sets) everything
has an embedded default: an SQLite file and a filesystem Celery broker under
``var/``, mail written to ``var/mail/``, a secret key read from ``var/secret_key``.
With ``DEBUG`` off the secrets, hosts and mail server are required.

Importing the settings writes nothing: ``python -m config.prepare`` (which ``make
run`` calls) creates the folders under ``var/`` and the development secret key.
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_database, env_int, env_list, env_str, env_time, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)


def _development_secret_key() -> str:
    """The key ``python -m config.prepare`` generated once per checkout, so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if not key:
        raise ImproperlyConfigured(
            f"No development secret key in {path}. Run `make run`, or `python -m config.prepare` once "
            "(it creates var/ and the key), or set SECRET_KEY."
        )
    return key


if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "") or _development_secret_key()
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this site answers to.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The public address, used in emails, PDFs and QR codes (which have no request to read it from). Required in
# production: a forgotten setting would put a development address into every email and sealed PDF. In development
# it defaults to the web server's port, WEB_PORT (set by `make run` for every process: honcho gives each process its
# own PORT, so the worker's PORT is not the web server's), then PORT.
if DEBUG:
    _web_port = env_int("WEB_PORT", env_int("PORT", 8000, minimum=1, maximum=65535), minimum=1, maximum=65535)
    SITE_URL = env_url("SITE_URL", f"http://127.0.0.1:{_web_port}")
else:
    SITE_URL = env_url("SITE_URL")
SITE_NAME = env_str("SITE_NAME", "Codes of Conduct")

# Sign-in with Google and Microsoft, each on when configured: read here for INSTALLED_APPS, checked and
# used in SOCIALACCOUNT_PROVIDERS below.
_google_id, _google_secret = env_str("GOOGLE_CLIENT_ID", ""), env_str("GOOGLE_CLIENT_SECRET", "")
_ms_id, _ms_secret = env_str("MICROSOFT_CLIENT_ID", ""), env_str("MICROSOFT_CLIENT_SECRET", "")

# SQLite has no covering indexes: it builds the walks' indexes (``conduct.Role``, ``acknowledgements.Obligation``) on
# their keys alone, which is all it needs; PostgreSQL, the production database, reads their included columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "crispy_forms",
    "crispy_bootstrap5",
    "core",
    "conduct",
    "acknowledgements",
    "reminders",
    "reports",
    "provisioning",
    "people",
    "privacy",
    "devtools",
    *(["allauth.socialaccount.providers.google"] if _google_id else []),
    *(["allauth.socialaccount.providers.microsoft"] if _ms_id else []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Permissions-Policy on every response; signed-in HTML pages are never cached (core.security_headers).
    "core.security_headers.SecurityHeadersMiddleware",
    # Content-Security-Policy on every response, enforced (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # NUL characters are removed from the query string before any view reads it (PostgreSQL cannot hold them).
    "core.query_strings.NulFreeQueryStringMiddleware",
    # Lets services record the client's address in the officers' audit log.
    "core.request_meta.ClientAddressMiddleware",
    # A POST answered with a rejected form (the error summary shown) gets 400, whichever view rendered it.
    "core.middleware.RejectedFormStatusMiddleware",
    # Officers without an authenticator app are sent to set one up when REQUIRE_MFA_FOR_OFFICERS is on.
    "acknowledgements.middleware.OfficerMfaMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "conduct.context_processors.site",
            ],
        },
    },
]

_database = env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'conduct.sqlite3'}")
# Several processes (web, worker, beat) share the SQLite file in development.
_SQLITE_OPTIONS = {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
DATABASES = {
    "default": {**_database, "OPTIONS": _SQLITE_OPTIONS}
    if _database["ENGINE"] == "django.db.backends.sqlite3"
    else _database
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "conduct.Person"
# Django's and allauth's backends, each reading the signed-in user with their header's branding (one statement).
AUTHENTICATION_BACKENDS = [
    "conduct.auth_backends.ModelBackendWithBranding",
    "conduct.auth_backends.AllauthBackendWithBranding",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
# Our wording before allauth's: its title-case strings in sentence case ("Sign in", "Remember me").
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
# Uploaded scans and issued PDFs. Never served directly: every download goes through a permission check.
# On the file system under MEDIA_ROOT by default; in S3-compatible object storage (AWS S3, MinIO, Ceph …, through
# django-storages) when STORAGE_S3_BUCKET is set, so that several web servers and workers share one store.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGE_S3_BUCKET = env_str("STORAGE_S3_BUCKET", "")
if STORAGE_S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_S3_BUCKET,
            # Another provider than AWS (or a local endpoint): its address, e.g. https://s3.example.org
            "endpoint_url": env_url("STORAGE_S3_ENDPOINT_URL") if env_str("STORAGE_S3_ENDPOINT_URL", "") else None,
            "region_name": env_str("STORAGE_S3_REGION", "") or None,
            # Empty: boto3's own chain (instance role, AWS_* variables, ~/.aws) provides the credentials.
            "access_key": env_str("STORAGE_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("STORAGE_S3_SECRET_ACCESS_KEY", "") or None,
            "location": env_str("STORAGE_S3_PREFIX", ""),  # a folder inside the bucket, if it is shared
            "default_acl": None,  # the bucket's own policy applies: keep it private (no public access)
            "file_overwrite": False,  # a stored file is never replaced by another of the same name
            "querystring_auth": True,  # no file is ever linked to directly; downloads stream through the app
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Mail: SMTP when EMAIL_HOST is set; in development, one file per message under var/mail/.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Codes of Conduct <no-reply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("Set only one of EMAIL_USE_TLS and EMAIL_USE_SSL.")
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
else:
    raise ImproperlyConfigured("EMAIL_HOST must be set when DEBUG is off (outgoing mail goes through SMTP).")

# Accounts: email only, invitation only, login by emailed code, MFA, rate limits on (allauth's defaults).
ACCOUNT_ADAPTER = "conduct.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# When on, admins, chairs and clerks must set up an authenticator app before using the app.
REQUIRE_MFA_FOR_OFFICERS = env_bool("REQUIRE_MFA_FOR_OFFICERS", False)

SOCIALACCOUNT_ADAPTER = "conduct.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_ONLY = False
if bool(_google_id) != bool(_google_secret):
    raise ImproperlyConfigured("Set both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, or neither.")
if bool(_ms_id) != bool(_ms_secret):
    raise ImproperlyConfigured("Set both MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET, or neither.")
# Each provider here is also in INSTALLED_APPS (above), on the same condition.
SOCIALACCOUNT_PROVIDERS: dict[str, dict] = {
    **(
        {
            "google": {
                "APPS": [{"client_id": _google_id, "secret": _google_secret}],
                "SCOPE": ["profile", "email"],
                "EMAIL_AUTHENTICATION": True,
            }
        }
        if _google_id
        else {}
    ),
    **(
        {
            "microsoft": {
                "APPS": [
                    {
                        "client_id": _ms_id,
                        "secret": _ms_secret,
                        "settings": {"tenant": env_str("MICROSOFT_TENANT", "organizations")},
                    }
                ],
                "EMAIL_AUTHENTICATION": True,
                # Microsoft Entra ID reports the work address the organisation gave the account; without this
                # allauth treats it as unverified and will not sign the person in to their invited account.
                # The address is only as trustworthy as the tenant: in production set MICROSOFT_TENANT to the
                # trust's own tenant id rather than "organizations" (any work account).
                "VERIFIED_EMAIL": True,
            }
        }
        if _ms_id
        else {}
    ),
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery: a broker that needs no server by default (files under var/), Redis in production.
# No task may run longer than CELERY_TASK_TIME_LIMIT (the longest is a report archive of a large trust's PDFs).
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=60, maximum=6 * 60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")

# The cache every process shares: allauth's rate limits (failed sign-ins, codes, resets) are counted in it, so
# a per-process cache would give each worker its own count. CACHE_URL (or REDIS_URL): redis://host:6379/1 in
# production; by default files under var/cache/, which every process of one host shares (`make run`, one server).
from config.env import env_cache  # noqa: E402 - kept apart from the imports above, which others edit

CACHES = {"default": env_cache(("CACHE_URL", "REDIS_URL"), str(VAR_DIR / "cache"))}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Folders made by `python -m config.prepare`. kombu's exchange tables go under var/ too: its
    # default control folder is ./control, in whatever directory the worker was started from.
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
elif not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("CELERY_BROKER_URL must be filesystem:// (development) or redis://… (production).")
else:
    # Redis hands a message that was taken but never acknowledged (its worker killed) to another worker after
    # visibility_timeout: a little longer than the longest task (CELERY_TASK_TIME_LIMIT), so a slow task is never
    # run twice at once, and far below Redis's default hour. The reconciliation sweep finds lost work sooner still.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 5 * 60}
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
REMINDERS_DAILY_AT: time = env_time("REMINDERS_DAILY_AT", time(7, 0))
# Reconciliation: how often the sweep runs, how long work may be missing before it is queued again (its first
# message may still be in the queue), and how long after queueing it again a later sweep may do so once more.
RECONCILE_EVERY_MINUTES = env_int("RECONCILE_EVERY_MINUTES", 5, minimum=1, maximum=60)
RECONCILE_GRACE_MINUTES = env_int("RECONCILE_GRACE_MINUTES", 10, minimum=1, maximum=24 * 60)
RECONCILE_REQUEUE_MINUTES = env_int("RECONCILE_REQUEUE_MINUTES", 15, minimum=1, maximum=24 * 60)
CELERY_BEAT_SCHEDULE = {
    "plan-and-send-reminders": {
        "task": "reminders.tasks.plan_reminders",
        "schedule": crontab(hour=REMINDERS_DAILY_AT.hour, minute=REMINDERS_DAILY_AT.minute),
    },
    # Picks up what a dead worker left (see "Reminders" below).
    "resume-reminders": {
        "task": "reminders.tasks.resume_reminders",
        "schedule": crontab(minute="*/15"),
    },
    # Work a lost message left undone (core.reconcile): PDFs and certificates still missing, receipts and
    # invitations not sent, report jobs stranded, a day's reminder planning that did not run; each queued again once.
    "reconcile": {
        "task": "core.tasks.reconcile",
        "schedule": timedelta(minutes=RECONCILE_EVERY_MINUTES),
    },
    # Finished archives and detailed PDFs hold personal data: each night, files older than 7 days are deleted.
    "reports-purge-expired-files": {
        "task": "reports.tasks.purge_expired_report_files",
        "schedule": crontab(hour=3, minute=15),
    },
    # Every chain head timestamped by the RFC 3161 authority, then everything checked (docs/evidence.md).
    "anchor-evidence-chains": {
        "task": "acknowledgements.tasks.anchor_evidence_chains",
        "schedule": crontab(hour=1, minute=5),
    },
    "verify-evidence": {
        "task": "acknowledgements.tasks.verify_evidence_daily",
        "schedule": crontab(hour=2, minute=5),
    },
    # The obligation tally the dashboard reads, recomputed and repaired (acknowledgements.tally): a change its
    # triggers missed (a raw bulk load with triggers off, one table restored) is put right within a day.
    "check-obligation-tally": {
        "task": "acknowledgements.tasks.check_obligation_tally",
        "schedule": crontab(hour=2, minute=35),
    },
    # The retention schedule (privacy.retention, docs/retention.md): expired email and reminder rows deleted, people
    # whose retention has ended flagged for review (or erased with RETENTION_AUTO_ERASE); once a night, claimed.
    "apply-retention": {
        "task": "privacy.tasks.apply_retention",
        "schedule": crontab(hour=3, minute=45),
    },
}

# The key and certificate that seal every issued PDF. Generated under var/seal/ in development.
SEAL_KEY_FILE = env_str("SEAL_KEY_FILE", "")
SEAL_CERT_FILE = env_str("SEAL_CERT_FILE", "")
SEAL_KEY_PASSPHRASE = env_str("SEAL_KEY_PASSPHRASE", "")
if not DEBUG and not (SEAL_KEY_FILE and SEAL_CERT_FILE):
    raise ImproperlyConfigured("SEAL_KEY_FILE and SEAL_CERT_FILE must point at the seal's PEM key and certificate.")
SEAL_DIR = VAR_DIR / "seal"
# The certificates between the seal certificate and its root (a PEM bundle, root last), for a seal issued by a
# CA: they go into every PDF's validation data (PAdES B-LT, docs/evidence.md) and the root is what verification
# trusts. Empty for the self-signed development seal, which is its own root.
SEAL_CHAIN_FILE = env_str("SEAL_CHAIN_FILE", "")
# The certificates (PEM files, comma-separated) of earlier seals, renewed or replaced, so the PDFs they sealed
# still read as sealed by this service: keep each one when its successor is installed (like EVIDENCE_PUBLIC_KEYS_DIR).
SEAL_PREVIOUS_CERTS = env_list("SEAL_PREVIOUS_CERTS", [])
# The Ed25519 key that signs every evidence record (docs/evidence.md), and the public keys of earlier
# keys (*.pem) kept to verify what they signed. Generated under var/evidence/ in development.
EVIDENCE_KEY_FILE = env_str("EVIDENCE_KEY_FILE", "")
EVIDENCE_PUBLIC_KEYS_DIR = env_str("EVIDENCE_PUBLIC_KEYS_DIR", "")
if not DEBUG and not EVIDENCE_KEY_FILE:
    raise ImproperlyConfigured("EVIDENCE_KEY_FILE must point at the Ed25519 key that signs evidence records.")
EVIDENCE_DIR = VAR_DIR / "evidence"
# The RFC 3161 timestamp authority for the daily chain anchors and the PDF seals (core/timestamps.py). With
# none set, development and tests use a local one in-process; production timestamps nothing (and says so).
EVIDENCE_TSA_URL = env_str("EVIDENCE_TSA_URL", "")
EVIDENCE_TSA_TIMEOUT = env_int("EVIDENCE_TSA_TIMEOUT", 10, minimum=1)
EVIDENCE_TSA_LOCAL = DEBUG
# The roots (PEM files, comma-separated) a timestamp authority's certificate must chain to for its timestamps (the
# daily anchors', the seals') to be trusted. In development and tests the local authority's certificate is added.
EVIDENCE_TSA_TRUST_ROOTS = env_list("EVIDENCE_TSA_TRUST_ROOTS", [])
if not DEBUG and EVIDENCE_TSA_URL and not EVIDENCE_TSA_TRUST_ROOTS:
    raise ImproperlyConfigured(
        "EVIDENCE_TSA_TRUST_ROOTS must name the root certificate(s) of the authority at EVIDENCE_TSA_URL: "
        "without them no timestamp it makes can be trusted."
    )
VERIFICATION_UPLOAD_MAX_BYTES = env_int("VERIFICATION_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# Security headers. Production defaults are strict; a proxy that terminates TLS sets SECURE_PROXY_SSL_HEADER.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp), enforced: pages load scripts, styles and images from this site only (no
# inline script, style attribute or <style> anywhere: templates/ links static files; a trust's colours come from
# /branding/<slug>.css), images may also be data: URIs (the authenticator's QR code), no plugins, no <base>
# elsewhere, forms post here only, and no site may frame a page (with X_FRAME_OPTIONS for older browsers).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        # Signing in with Google or Microsoft posts here and is redirected to the provider: Chrome checks that
        # redirect against form-action too, so a configured provider's sign-in origin is allowed as well.
        "form-action": ["'self'"]
        + (["https://accounts.google.com"] if _google_id else [])
        + (["https://login.microsoftonline.com"] if _ms_id else []),
        "frame-ancestors": ["'none'"],
    }
}
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint and fontTools log every layout step at INFO; only their warnings matter here.
        "weasyprint": {"level": "WARNING", "filters": ["weasyprint_noise"]},
        "fontTools": {"level": "WARNING"},
        "kombu.connection": {"filters": ["kombu_noise"]},
    },
    # Known, harmless warnings repeated on every connection or PDF (core/logging.py says why).
    "filters": {
        "kombu_noise": {"()": "core.logging.DropMessages", "prefixes": ["No hostname was supplied"]},
        "weasyprint_noise": {"()": "core.logging.DropMessages", "prefixes": ["Ignored `clip:"]},
    },
}

# ---------------------------------------------------------------------------
# Governance (conduct/): drafting, meetings, adoption and reviews.
# ---------------------------------------------------------------------------
# An adoption's review counts as due this many days before its date (home page, governance, code history).
REVIEW_WARNING_DAYS = env_int("REVIEW_WARNING_DAYS", 60, minimum=1, maximum=366)

# ---------------------------------------------------------------------------
# Reminders (acknowledgements/reminders/). Beat plans them daily at
# REMINDERS_DAILY_AT (above); "resume-reminders" picks up what a dead worker left.
# ---------------------------------------------------------------------------
REMINDERS_FROM_EMAIL = env_str("REMINDERS_FROM_EMAIL", DEFAULT_FROM_EMAIL)
REMINDERS_BATCH_SIZE = env_int("REMINDERS_BATCH_SIZE", 100, minimum=1, maximum=1000)
# A claim older than this belongs to a worker presumed dead; it is sent again (see sending.py).
REMINDERS_CLAIM_TIMEOUT_SECONDS = env_int("REMINDERS_CLAIM_TIMEOUT_SECONDS", 900, minimum=1)
REMINDERS_DECLARATION_DUE_DAYS = env_int("REMINDERS_DECLARATION_DUE_DAYS", 30, minimum=1, maximum=365)

# ---------------------------------------------------------------------------
# Signing in the browser (accounts, invitations, signing, evidence, verification).
# ---------------------------------------------------------------------------
# The officers' MFA middleware is the last entry of MIDDLEWARE (above).
# Behind N reverse proxies, the client's address is the N-th entry from the right of X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5)
# allauth counts failed sign-ins per client address: the same proxies are believed there (its adapter asks
# core.request_meta.client_ip, see conduct.adapters), or one client's failures would lock out everyone behind them.
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Stored files (scans, signed PDFs, exports) hold personal data: readable by the app's own user and group only.
# FileSystemStorage applies these to every file it saves, uploads and the app's own writes alike.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# Two lifetimes (conduct.accounts): an invitation's set-password link lasts a week, so one sent on a Friday survives
# a half-term break; a password reset's (which anyone can have emailed to an address) lasts an hour.
INVITATION_LINK_TIMEOUT = env_int("INVITATION_LINK_DAYS", 7, minimum=1, maximum=30) * 24 * 60 * 60
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_MINUTES", 60, minimum=10, maximum=24 * 60) * 60

# ---------------------------------------------------------------------------
# Compliance reports (dashboards, exports, archives, register of interests).
# ---------------------------------------------------------------------------
# Finished archives and detailed PDFs are purged nightly ("reports-purge-expired-files", CELERY_BEAT_SCHEDULE).

# ---------------------------------------------------------------------------
# Retention of personal data (privacy/retention.py; the schedule and its reasons: docs/retention.md).
# ---------------------------------------------------------------------------
# Signed records are kept this many years after the person's last role ends (the Limitation Act's six years);
# declarations after the appointment they were made for; adoptions after a newer version replaced them; officers'
# audit entries after the action. Reminder and email rows are deleted this many days after they were sent (13 months).
RETENTION_ACKNOWLEDGEMENTS_YEARS = env_int("RETENTION_ACKNOWLEDGEMENTS_YEARS", 6, minimum=1, maximum=100)
RETENTION_DECLARATIONS_YEARS = env_int("RETENTION_DECLARATIONS_YEARS", 6, minimum=1, maximum=100)
RETENTION_ADOPTIONS_YEARS = env_int("RETENTION_ADOPTIONS_YEARS", 6, minimum=1, maximum=100)
RETENTION_AUDIT_YEARS = env_int("RETENTION_AUDIT_YEARS", 6, minimum=1, maximum=100)
RETENTION_EMAIL_ROWS_DAYS = env_int("RETENTION_EMAIL_ROWS_DAYS", 396, minimum=1, maximum=36500)
# Off: people whose retention has ended are listed for an admin to review (/privacy/retention/). On: the nightly
# sweep erases each of them (privacy.erasure.person_erase, basis "retention_ended"), except those under legal hold.
RETENTION_AUTO_ERASE = env_bool("RETENTION_AUTO_ERASE", False)
