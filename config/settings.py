"""Django settings. Every value comes from the environment; see docs/configuration.md.

With no environment set, facecore runs on embedded defaults under FACECORE_DATA_DIR:
PostgreSQL + pgvector from pgserver (var/pgdata), a local-folder object store (var/objects)
and a filesystem Celery broker (var/broker).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from config.embedded import embedded_database, filesystem_broker_options


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("FACECORE_DATA_DIR", BASE_DIR / "var")).resolve()

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-secret-key-change-me-in-production")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

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
    "api",
    "recognition",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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

# --- Database: DATABASE_URL, else the embedded pgserver instance --------------------------------
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {"default": embedded_database(DATA_DIR / "pgdata")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Uploads larger than the image limit are refused by the API; keep them in memory up to that size.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("FACECORE_MAX_REQUEST_BYTES", 30_000_000))

# --- REST API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasApplication"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
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
}

# --- Object store: S3/MinIO when S3_ENDPOINT is set, else a local folder --------------------------
S3_ENDPOINT = os.environ.get("S3_ENDPOINT", "")
S3_ACCESS_KEY = os.environ.get("S3_ACCESS_KEY", "")
S3_SECRET_KEY = os.environ.get("S3_SECRET_KEY", "")
S3_BUCKET = os.environ.get("S3_BUCKET", "facecore")
S3_SECURE = env_bool("S3_SECURE", False)
S3_REGION = os.environ.get("S3_REGION", "") or None
FACECORE_OBJECTS_DIR = Path(os.environ.get("FACECORE_OBJECTS_DIR", DATA_DIR / "objects"))

# --- Processing ------------------------------------------------------------------------------------
FACECORE_KEEP_ORIGINALS = env_bool("FACECORE_KEEP_ORIGINALS", True)
FACECORE_ALLOW_PRIVATE_URLS = env_bool("FACECORE_ALLOW_PRIVATE_URLS", False)
FACECORE_URL_TIMEOUT = float(os.environ.get("FACECORE_URL_TIMEOUT", 10))
FACECORE_URL_MAX_REDIRECTS = int(os.environ.get("FACECORE_URL_MAX_REDIRECTS", 3))
FACECORE_JOB_MAX_RETRIES = int(os.environ.get("FACECORE_JOB_MAX_RETRIES", 5))
FACECORE_JOB_RETRY_BACKOFF_MAX = int(os.environ.get("FACECORE_JOB_RETRY_BACKOFF_MAX", 600))
FACECORE_FACES_QUEUE = os.environ.get("FACECORE_FACES_QUEUE", "faces")
FACECORE_WEBHOOKS_QUEUE = os.environ.get("FACECORE_WEBHOOKS_QUEUE", "webhooks")
FACECORE_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("FACECORE_WEBHOOK_MAX_ATTEMPTS", 8))
FACECORE_WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("FACECORE_WEBHOOK_BACKOFF_SECONDS", 60))
FACECORE_WEBHOOK_TIMEOUT = float(os.environ.get("FACECORE_WEBHOOK_TIMEOUT", 10))
FACECORE_HOST = os.environ.get("FACECORE_HOST", "127.0.0.1")
FACECORE_PORT = int(os.environ.get("FACECORE_PORT", 8000))

# --- Celery: CELERY_BROKER_URL (redis:// or amqp://), else kombu's filesystem transport ------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
if CELERY_BROKER_URL:
    # Long webhook back-offs are ETA tasks held by a worker; keep Redis from redelivering them early.
    CELERY_BROKER_TRANSPORT_OPTIONS = (
        {"visibility_timeout": 6 * 3600} if CELERY_BROKER_URL.startswith("redis") else {}
    )
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(DATA_DIR / "broker")
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
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FACECORE_LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}

FACECORE_PUBLIC_URL = os.environ.get("FACECORE_PUBLIC_URL", "").rstrip("/")
"""Prefix for status_url/annotated_url in webhook bodies (API answers use the request's host)."""
