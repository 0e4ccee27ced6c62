from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Recognition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from recognition import receivers  # noqa: F401  (subscribes to the image pipeline's signals)
