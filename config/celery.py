"""The Celery app. Configured from Django settings (``CELERY_*``); tasks live in ``worker.tasks``
(``CELERY_IMPORTS``) and are sent by name through ``infra.dispatch``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("facecore")
app.config_from_object("django.conf:settings", namespace="CELERY")
