from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        # Imported for its side effect: registering the reconciliation sweep (core.reconcile).
        from reports import reconcile  # noqa: F401
