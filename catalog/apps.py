from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_default_store(sender=None, using="default", **kwargs) -> None:
    """Migration 0008 makes the default store; after every migrate (and every flush, which tests
    run) it is put back when there is none, as Django does for permissions: tills, stock and bills
    that name no store belong to it."""
    from django.conf import settings

    from billing_project.core.gst import store_gstin, store_state_code

    from .models import Store

    stores = Store.objects.using(using)
    if stores.filter(is_default=True).exists():
        return
    legal_name = settings.STORE_LEGAL_NAME if settings.STORE_LEGAL_NAME != settings.STORE_NAME else ""
    stores.create(
        code="MAIN" if not stores.filter(code="MAIN").exists() else "MAIN-1",
        name=(settings.STORE_NAME or "Main store")[:200],
        legal_name=(legal_name or "")[:200],
        address=settings.STORE_ADDRESS or "",
        gstin=store_gstin(),
        state_code=store_state_code() or "",
        is_default=True,
    )


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalog"

    def ready(self):
        from . import barcodes  # noqa: F401  (registers the SCALE_BARCODE_FORMAT system check)

        post_migrate.connect(ensure_default_store, sender=self, dispatch_uid="catalog.default_store")
