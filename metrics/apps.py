from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics"

    def ready(self) -> None:
        from prometheus_client import disable_created_metrics

        disable_created_metrics()  # no ``*_created`` series beside each histogram (text format)
        from metrics import receivers  # noqa: F401  (tallies finished jobs and webhook attempts)
