"""System checks (``manage.py check``; runserver, migrate and runall run them too)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from facecore.fetch import weights_present


@register()
def engine_weights(app_configs, **kwargs) -> list:
    engine = settings.FACECORE_ENGINE
    if weights_present(engine.default_model, engine.models_dir):
        return []
    return [
        Warning(
            f"The weights of the default model {engine.default_model!r} are not in {engine.models_dir}.",
            hint=f"python -m facecore models fetch {engine.default_model}  (workers fail jobs without them)",
            id="facecore.W001",
        )
    ]


@register()
def object_store(app_configs, **kwargs) -> list:
    if settings.S3_ENDPOINT and not (settings.S3_ACCESS_KEY and settings.S3_SECRET_KEY):
        return [Error("S3_ENDPOINT is set but S3_ACCESS_KEY or S3_SECRET_KEY is empty.", id="facecore.E002")]
    return []


@register()
def public_url(app_configs, **kwargs) -> list:
    url = settings.FACECORE_PUBLIC_URL
    if url and not url.startswith(("http://", "https://")):
        return [
            Error(
                f"FACECORE_PUBLIC_URL must start with http:// or https://, not {url!r}.", id="facecore.E003"
            )
        ]
    return []


@register(Tags.database)
def pgvector_available(app_configs, databases=None, **kwargs) -> list:
    """Run by ``migrate`` and ``check --database default`` (database checks need ``databases``)."""
    from django.db import connections

    errors = []
    for alias in databases or []:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
            if cursor.fetchone() is None:
                errors.append(
                    Error(
                        f"The PostgreSQL server of database {alias!r} has no pgvector extension ('vector').",
                        hint="Use a server with pgvector (docker-compose: pgvector/pgvector), or unset DATABASE_URL.",
                        id="facecore.E004",
                    )
                )
    return errors
