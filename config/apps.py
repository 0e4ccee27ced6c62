from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project itself; registers the deployment checks (``manage.py check --deploy``)."""

    name = "config"
    verbose_name = "facecore"

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the system checks)
