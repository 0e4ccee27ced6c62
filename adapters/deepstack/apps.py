from django.apps import AppConfig


class DeepStackConfig(AppConfig):
    """HTTP only: no models."""

    name = "adapters.deepstack"
    label = "deepstack"
    verbose_name = "DeepStack-compatible API"

    def ready(self) -> None:
        from adapters.deepstack import schema  # noqa: F401  (registers the OpenAPI auth extension)
