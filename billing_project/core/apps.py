from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_tables(*, using: str, verbosity: int = 1, **kwargs) -> None:
    """After ``migrate``: create the table of every database cache in CACHES that lacks one
    (``createcachetable`` skips the others), so the deployment's migrate step is all a shared
    throttle cache needs."""
    call_command("createcachetable", database=using, verbosity=verbosity)


class CoreConfig(AppConfig):
    """The shared core: mechanisms every app uses (idempotency, errors, money, database helpers)."""

    name = "billing_project.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from billing_project.core.api.authentication import connect_signals

        connect_signals()
        from billing_project.core.db.orm_internals import cache_long_statements

        cache_long_statements()
        from billing_project.core import gst  # noqa: F401  (registers the store's GST check)

        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="core.create_cache_tables")
