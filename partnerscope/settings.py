"""Settings come from the environment, with helpers that fail loudly on bad values.

SQLite (WAL) under ``PARTNERSCOPE_DATA_DIR`` unless ``DATABASE_URL`` names another database;
tests use the same code path.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("PARTNERSCOPE_DEBUG", False)
DATA_DIR = Path(env_str("PARTNERSCOPE_DATA_DIR", str(BASE_DIR / "var"))).resolve()

SECRET_KEY = os.environ.get("PARTNERSCOPE_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not env_bool("PARTNERSCOPE_ALLOW_DEV_KEY", True):
        raise ImproperlyConfigured("PARTNERSCOPE_SECRET_KEY must be set in production")
    # A per-installation key kept in the data directory, so a demo restart keeps sessions and a
    # fresh clone never shares a key with another one.
    _key_file = DATA_DIR / "secret_key"
    if _key_file.exists():
        SECRET_KEY = _key_file.read_text().strip()
    else:
        from django.utils.crypto import get_random_string

        SECRET_KEY = get_random_string(64)
        try:
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            _key_file.write_text(SECRET_KEY)
            _key_file.chmod(0o600)
        except OSError:
            pass  # read-only data dir: the key lives for this process only

ALLOWED_HOSTS = env_list("PARTNERSCOPE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("PARTNERSCOPE_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # only for its bundled Swagger UI files: the API docs load nothing from a CDN
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "partnerscope.web",
    "partnerscope.orgs",
    "partnerscope.vendors",
    "partnerscope.engagements",
    "partnerscope.evidence",
    "partnerscope.metrics",
    "partnerscope.sourcing",
    "partnerscope.api",
    "partnerscope.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "partnerscope.web.middleware.SecurityHeadersMiddleware",
    "partnerscope.orgs.middleware.TenantMiddleware",
]

ROOT_URLCONF = "partnerscope.urls"
WSGI_APPLICATION = "partnerscope.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "partnerscope.web.context.navigation",
            ],
        },
    }
]

_database_url = os.environ.get("DATABASE_URL", "")
if _database_url:
    try:
        DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    except Exception as exc:  # dj_database_url raises plain exceptions for unknown schemes
        raise ImproperlyConfigured(f"DATABASE_URL is not usable: {exc}") from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "partnerscope.sqlite3",
            "OPTIONS": {
                # WAL lets the web server read while the worker writes; IMMEDIATE transactions
                # avoid "database is locked" upgrades from read to write locks.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": env_str("PARTNERSCOPE_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("PARTNERSCOPE_STATIC_ROOT") or None  # only for collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files come from the installed packages (htmx from django-htmx, our own CSS), served
# by WhiteNoise straight from the finders, so no collectstatic step is needed to run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Sessions: idle timeout, rotated on login by Django's login().
SESSION_COOKIE_AGE = env_int("PARTNERSCOPE_SESSION_IDLE_SECONDS", 8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Behind TLS (production): set PARTNERSCOPE_HTTPS=1.
HTTPS = env_bool("PARTNERSCOPE_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("PARTNERSCOPE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("PARTNERSCOPE_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Login throttling: failures per (username, client IP) within a window; the IP is REMOTE_ADDR,
# never X-Forwarded-For (a client could choose it and reset its own counter).
LOGIN_FAILURE_LIMIT = env_int("PARTNERSCOPE_LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("PARTNERSCOPE_LOGIN_FAILURE_WINDOW", 15 * 60)

EMAIL_BACKEND = env_str("PARTNERSCOPE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("PARTNERSCOPE_FROM_EMAIL", "partnerscope@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "partnerscope": {"handlers": ["console"], "level": env_str("PARTNERSCOPE_LOG_LEVEL", "INFO")},
        "django.security": {"handlers": ["console"], "level": "WARNING"},
    },
}

# Git ingestion: caps for cloning untrusted repositories, and the server folders under which a
# repository may be registered by path (by default only <data dir>/repos: a path could point
# anywhere, so an administrator chooses where).
GIT_TIMEOUT_SECONDS = env_int("PARTNERSCOPE_GIT_TIMEOUT", 1800)
GIT_MAX_BYTES = env_int("PARTNERSCOPE_GIT_MAX_MB", 5000) * 1024 * 1024
GIT_LOCAL_ROOTS = env_list("PARTNERSCOPE_GIT_LOCAL_ROOTS", [str(DATA_DIR / "repos")])
# Processes reading one long history at once (git log is single-threaded); 1 = no splitting.
GIT_PROCESSES = env_int("PARTNERSCOPE_GIT_PROCESSES", min(4, os.cpu_count() or 1))
# Commits written per transaction (each batch is also a checkpoint of progress).
GIT_BATCH_COMMITS = env_int("PARTNERSCOPE_GIT_BATCH_COMMITS", 1000)

# Metric recomputes: evidence readers run side by side on this many threads, each with its own
# database connection (metrics/readers.py); 1 = one after another.
METRICS_READ_THREADS = env_int("PARTNERSCOPE_METRICS_READ_THREADS", min(2, os.cpu_count() or 1))

# Trackers (GitHub, GitLab, Jira): tokens are encrypted with these Fernet keys (newest first;
# derived from SECRET_KEY when empty); calls time out, retry server errors, and wait for a
# rate limit to reset at most this long before the sync stops with a message.
TOKEN_KEYS = env_list("PARTNERSCOPE_TOKEN_KEYS", [])
TRACKER_TIMEOUT_SECONDS = env_int("PARTNERSCOPE_TRACKER_TIMEOUT", 30)
TRACKER_RETRIES = env_int("PARTNERSCOPE_TRACKER_RETRIES", 4)
TRACKER_MAX_WAIT_SECONDS = env_int("PARTNERSCOPE_TRACKER_MAX_WAIT", 900)
TRACKER_RUNS_DAYS = env_int("PARTNERSCOPE_TRACKER_RUNS_DAYS", 180)  # CI history read by a first sync
