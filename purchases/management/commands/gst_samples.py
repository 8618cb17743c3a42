"""``manage.py gst_samples``: the GST samples in docs/ (docs/gst.md), written from the database's own
bills: a month's GSTR-1 as the portal's JSON, and the tax invoice PDF of its latest B2B
inter-state bill. Run on the demo (``seed_demo --sales``) to refresh them."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from purchases.documents import document_pdf, invoice_document
from purchases.gstr1 import gstr1, gstr1_json, gstr1_period
from purchases.models import Purchase
from purchases.selectors import purchase_get


class Command(BaseCommand):
    help = "Write a month's GSTR-1 JSON and a B2B inter-state tax invoice PDF from this database's bills."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="YYYY-MM or YYYY-Qn (default: last month).")
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs" / "samples"))

    def handle(self, *args, period=None, out, **options):
        period = period or f"{timezone.localdate().replace(day=1) - timedelta(days=1):%Y-%m}"
        span = gstr1_period(period)
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        report = gstr1(period=period)
        text = gstr1_json(report, indent=1)
        (folder / f"gstr1-{period}.json").write_text(text + "\n", encoding="utf-8")
        self.stdout.write(f"GSTR-1 of {period}: {len(report['b2b'])} B2B buyer(s), {len(report['b2cs'])} B2CS row(s).")
        bill = (
            Purchase.objects.filter(supply_type="B2B", igst_total__gt=0, created_at__date__lte=span.last)
            .order_by("-created_at", "-id")
            .first()
        )
        if bill is None:
            raise CommandError("No B2B inter-state bill to print: run seed_demo --sales with a GSTIN configured.")
        pdf = document_pdf(invoice_document(purchase_get(purchase_id=bill.pk)))
        (folder / "b2b-inter-state-invoice.pdf").write_bytes(pdf)
        self.stdout.write(f"Tax invoice {bill.number}: b2b-inter-state-invoice.pdf ({len(pdf)} bytes).")
