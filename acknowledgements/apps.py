from django.apps import AppConfig


class AcknowledgementsConfig(AppConfig):
    name = "acknowledgements"
    verbose_name = "Acknowledgements and evidence"

    def ready(self) -> None:
        # Imported for their side effect: connecting the receivers (allauth's, and conduct's signals)
        # and registering the reconciliation sweeps.
        from acknowledgements import receivers, reconcile, signals  # noqa: F401
