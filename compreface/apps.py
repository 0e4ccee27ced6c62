from django.apps import AppConfig


class CompreFaceConfig(AppConfig):
    """HTTP only: no models."""

    name = "compreface"
    verbose_name = "CompreFace-compatible API"
