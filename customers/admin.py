from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import F
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from billing_project.admin_site import ReadOnlyAdminMixin
from billing_project.core.money import format_money
from billing_project.core.validators import indian_mobile_e164
from purchases.admin import bills_table
from purchases.reports import purchase_totals

from .models import Customer
from .selectors import customer_list

LATEST_BILLS = 50


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Customers are created by their first bill and identified by email, mobile number or both:
    read-only here."""

    list_display = ("email", "phone", "name", "purchase_count", "total_spent", "discount_total", "created_at")
    search_fields = ("email", "phone", "name")
    search_help_text = "The customer's email, mobile number (any spelling) or name, or part of one."
    # By email; those known by phone only after them.
    ordering = (F("email").asc(nulls_last=True), "phone")
    list_per_page = 100
    fields = ("email", "phone", "name", "created_at", "lifetime_totals", "bills")
    readonly_fields = fields

    def get_queryset(self, request):
        return customer_list()

    def get_search_results(self, request, queryset, search_term):
        # A whole mobile number in any spelling (98765 43210, +91-98765-43210, 098765…) finds its
        # customer; anything else is a search by part of the email, number or name.
        try:
            phone = indian_mobile_e164(search_term)
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(phone=phone), False

    @admin.display(description="bills", ordering="purchase_count")
    def purchase_count(self, obj):
        return obj.purchase_count

    @admin.display(description="total spent", ordering="total_spent")
    def total_spent(self, obj):
        return format_money(obj.total_spent)

    @admin.display(description="discounts", ordering="discount_total")
    def discount_total(self, obj):
        return format_money(obj.discount_total)

    @admin.display(description="lifetime totals")
    def lifetime_totals(self, obj):
        totals = purchase_totals(obj.purchases.all())
        return format_html(
            "{} bill(s); spent {} (subtotal {}, tax {}); discounts {}",
            totals["count"],
            format_money(totals["payable"]),
            format_money(totals["subtotal"]),
            format_money(totals["tax_total"]),
            format_money(totals["discount_total"]),
        )

    @admin.display(description="bills")
    def bills(self, obj):
        latest = list(obj.purchases.order_by("-created_at", "-id")[:LATEST_BILLS])
        if not latest:
            return "No bills yet."
        url = reverse("admin:purchases_purchase_changelist") + "?" + urlencode({"customer__id__exact": obj.pk})
        return format_html(
            '{}<p><a href="{}">All of {}’s bills in the bills list</a> (filter by date, export as CSV).</p>',
            bills_table(latest),
            url,
            obj,
        )
