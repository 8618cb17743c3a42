from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared core: mechanisms every app uses (idempotency, errors, money, database helpers)."""

    name = "billing_project"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from billing_project.api.authentication import connect_signals

        connect_signals()
