from django.apps import AppConfig


class AcknowledgementsConfig(AppConfig):
    name = "acknowledgements"
    verbose_name = "Acknowledgements and evidence"

    def ready(self) -> None:
        # Imported for their side effect: connecting the receivers (allauth's, and conduct's signals).
        from acknowledgements import receivers, signals  # noqa: F401
