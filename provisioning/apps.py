from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Roster sync and SCIM provisioning"

    def ready(self) -> None:
        from provisioning import reconcile  # noqa: F401  (registers its sweep with core.reconcile)
