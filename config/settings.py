"""Settings for Argmap: an embedded SQLite default, PostgreSQL and Redis from the environment.

Production hardening lives in ``config.production``, which imports everything from here.
"""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ARGMAP_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# A development key; config.production refuses to start without SECRET_KEY in the environment.
SECRET_KEY = os.environ.get("SECRET_KEY", "django-insecure-argmap-local-development-only")
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "simple_history",
    "axes",
    "argmap",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "argmap.context_processors.unread_notifications",
            ],
        },
    },
]

# SQLite (WAL, IMMEDIATE transactions) under var/ unless DATABASE_URL names another database.
SQLITE_PATH = VAR_DIR / "argmap.sqlite3"
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
        "PRAGMA busy_timeout=20000;"
    ),
}
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}", conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
    # Tests get a file database too: concurrency tests need real connections to one file. The
    # process id keeps simultaneous test runs (and xdist workers) apart.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-argmap-{os.getpid()}.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI persistent connections leak across threads: use psycopg's pool instead.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Each thread holds one connection while it works; size the pool for the busiest process.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": int(os.environ.get("DATABASE_POOL_MAX", 24)),
            "timeout": 30,
        }
    }
    DATABASES["default"]["TEST"] = {"NAME": f"test_argmap_{os.getpid()}"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes: the first backend refuses a locked-out login before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one username from one address lock that pair out for 15 minutes, on
# the site login and the admin login alike (counted in the database: shared by every process).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
# The address is REMOTE_ADDR, as for the rate limits: behind a proxy, have the ASGI server set it
# from X-Forwarded-For (uvicorn --proxy-headers --forwarded-allow-ips=...).
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
# WhiteNoise warns on every request when STATIC_ROOT is missing, even while it serves from finders.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Content Security Policy: nothing inline without the per-request nonce, nothing from elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Map reading: how many children of a claim are shown before "show more".
ARGMAP_PAGE_SIZE = 15
ARGMAP_CLAIM_MAX_LENGTH = 500
ARGMAP_COMMENT_MAX_LENGTH = 5000
ARGMAP_FLAG_THRESHOLD = 3

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Per-action rate limits: action -> ((count, seconds) per established account, (count, seconds)
# per account younger than a day, (count, seconds) per IP address). Counted in the default cache
# (argmap/ratelimit.py; tuning in docs/security.md).
ARGMAP_RATE_LIMITS_ENABLED = env_bool("ARGMAP_RATE_LIMITS_ENABLED", True)
ARGMAP_RATE_LIMITS = {
    "claim": ((30, 60), (10, 60), (90, 60)),
    "comment": ((20, 60), (6, 60), (60, 60)),
    "flag": ((20, 3600), (5, 3600), (60, 3600)),
    "vote": ((120, 60), (40, 60), (360, 60)),
}
# How many processes serve the site (WEB_CONCURRENCY is what uvicorn and gunicorn read for their
# worker count). With more than one, the system check argmap.E001 refuses a per-process cache.
ARGMAP_PROCESSES = int(os.environ.get("WEB_CONCURRENCY") or 1)
