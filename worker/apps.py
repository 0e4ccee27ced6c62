from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "worker"
    verbose_name = "Workers"

    def ready(self) -> None:
        from worker import metrics_exporter  # noqa: F401  (serves a worker's metrics when enabled)
