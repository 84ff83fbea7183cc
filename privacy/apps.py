from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Retention and erasure of personal data (UK GDPR): the top layer, since it reaches every app's records."""

    name = "privacy"
    verbose_name = "Privacy: retention and erasure"
