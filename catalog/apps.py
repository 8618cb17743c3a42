from django.apps import AppConfig


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalog"

    def ready(self):
        from . import barcodes  # noqa: F401  (registers the SCALE_BARCODE_FORMAT system check)
