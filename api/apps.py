from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The HTTP layer. Owns no models (its migrations are the history of the first schema,
    which now belongs to tenants, images and recognition)."""

    name = "api"
    verbose_name = "facecore API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api import schema  # noqa: F401  (registers the OpenAPI auth extension)
