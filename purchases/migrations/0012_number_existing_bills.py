"""Existing bills get tax invoice numbers in their original order (created_at, then id), each in
its till's invoice series and its financial year, and the counters continue from there."""

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def _financial_year(when) -> str:
    # A copy of purchases.numbering.financial_year: a migration must not import app code that changes.
    day = timezone.localdate(when)
    start_month = settings.FINANCIAL_YEAR_START_MONTH
    start = day.year if day.month >= start_month else day.year - 1
    end = start if start_month == 1 else start + 1
    return f"{start % 100:02d}{end % 100:02d}"


def number_bills(apps, schema_editor):
    Purchase = apps.get_model("purchases", "Purchase")
    Till = apps.get_model("cashdrawer", "Till")
    DocumentCounter = apps.get_model("purchases", "DocumentCounter")
    series_of = {till.pk: till.invoice_series or str(till.pk) for till in Till.objects.all()}
    counters = {(c.series, c.financial_year): c.last_number for c in DocumentCounter.objects.all()}
    bills = Purchase.objects.filter(till__isnull=False, number__isnull=True).order_by("created_at", "id")
    batch = []
    for bill in bills.only("pk", "till_id", "created_at").iterator(chunk_size=2000):
        key = (series_of[bill.till_id], _financial_year(bill.created_at))
        counters[key] = counters.get(key, 0) + 1
        bill.number = f"{key[0]}/{key[1]}/{counters[key]:06d}"
        batch.append(bill)
        if len(batch) >= 2000:
            Purchase.objects.bulk_update(batch, ["number"])
            batch = []
    Purchase.objects.bulk_update(batch, ["number"])
    for (series, year), last in counters.items():
        DocumentCounter.objects.update_or_create(series=series, financial_year=year, defaults={"last_number": last})


def forget_numbers(apps, schema_editor):
    apps.get_model("purchases", "Purchase").objects.update(number=None)
    apps.get_model("purchases", "DocumentCounter").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("purchases", "0011_invoice_numbers"), ("cashdrawer", "0013_main_series")]

    operations = [migrations.RunPython(number_bills, forget_numbers)]
