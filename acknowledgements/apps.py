from django.apps import AppConfig


class AcknowledgementsConfig(AppConfig):
    name = "acknowledgements"
    verbose_name = "Acknowledgements and evidence"

    def ready(self) -> None:
        from acknowledgements import signals  # noqa: F401  (connects the allauth receivers)
