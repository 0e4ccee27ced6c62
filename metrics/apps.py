from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics"

    def ready(self) -> None:
        from metrics import receivers  # noqa: F401  (tallies finished jobs and webhook attempts)
