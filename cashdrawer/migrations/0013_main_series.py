"""Till MAIN numbers its invoices in series M and its credit notes in CM (issue 13)."""

from django.db import migrations


def main_series(apps, schema_editor):
    Till = apps.get_model("cashdrawer", "Till")
    Till.objects.filter(code="MAIN", invoice_series__isnull=True, credit_series__isnull=True).update(
        invoice_series="M", credit_series="CM"
    )


def default_series(apps, schema_editor):
    Till = apps.get_model("cashdrawer", "Till")
    Till.objects.filter(code="MAIN", invoice_series="M", credit_series="CM").update(
        invoice_series=None, credit_series=None
    )


class Migration(migrations.Migration):
    dependencies = [("cashdrawer", "0012_till_series")]

    operations = [migrations.RunPython(main_series, default_series)]
