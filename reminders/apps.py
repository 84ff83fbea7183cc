from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "Reminders"

    def ready(self) -> None:
        # Imported for its side effect: registering the reconciliation sweep (core.reconcile).
        from reminders import reconcile  # noqa: F401
