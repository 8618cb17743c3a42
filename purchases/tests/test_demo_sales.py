"""``seed_demo --sales``: a month of demo bills and refunds for the sales dashboard, rung up
through the services and spread over the past days, added once."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from purchases.models import Purchase, PurchaseItem, Refund
from purchases.sales_report import sales_report

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--force", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_without_sales_rings_up_nothing():
    seed()
    assert not Purchase.objects.exists()


def test_seed_demo_sales_fills_the_last_30_days_once():
    out = seed("--sales")

    bills, refunds = Purchase.objects.count(), Refund.objects.count()
    assert bills > 100 and refunds > 0
    assert f"Sales: {bills} demo bills and {refunds} refunds" in out
    now = timezone.now()
    days = {timezone.localtime(at).date() for at in Purchase.objects.values_list("created_at", flat=True)}
    assert len(days) >= 25  # spread over the month, not all today
    assert min(days) >= timezone.localdate() - timedelta(days=29)
    assert not Purchase.objects.filter(created_at__gt=now).exists()
    assert not Refund.objects.filter(created_at__gt=now).exists()
    for refund in Refund.objects.select_related("purchase"):
        assert refund.created_at > refund.purchase.created_at
    assert not PurchaseItem.objects.exclude(created_at=F("purchase__created_at")).exists()
    past = min(days)
    by_day = sales_report(date_from=past, date_to=past)
    by_product = sales_report(date_from=past, date_to=past, group_by="product")
    assert by_day["totals"]["bills"] > 0
    assert sum(row["net_sales"] for row in by_product["rows"]) == by_day["totals"]["net_sales"]
    report = sales_report()
    assert report["totals"]["bills"] == bills
    assert report["totals"]["discounts"] > 0 and report["totals"]["refunds"] > 0
    assert {row["payment_method"] for row in sales_report(group_by="payment_method")["rows"]} >= {"cash", "card", "upi"}

    again = seed("--sales")

    assert "no demo sales added" in again
    assert (Purchase.objects.count(), Refund.objects.count()) == (bills, refunds)
