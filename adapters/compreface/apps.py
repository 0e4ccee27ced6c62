from django.apps import AppConfig


class CompreFaceConfig(AppConfig):
    """HTTP only: no models. The label stays ``compreface`` (the app's name before it moved
    under adapters/), so nothing keyed by it changes."""

    name = "adapters.compreface"
    label = "compreface"
    verbose_name = "CompreFace-compatible API"
