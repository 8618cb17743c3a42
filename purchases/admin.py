from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.db.models import Count
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from billing_project.admin_site import ReadOnlyAdminMixin
from cashdrawer.models import DrawerMovement

from .invoice_admin import RESEND_INVOICE, invoice_email_status, resend_invoice
from .models import AMOUNT_FIELDS, Purchase, PurchaseItem
from .reports import purchase_totals, purchases_csv


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        # Part of the bill: whoever may see the bill sees its lines and its notes.
        return request.user.has_perm("purchases.view_purchase")


class PurchaseItemInline(_ReadOnlyInline):
    model = PurchaseItem
    fields = readonly_fields = (
        "product_link",
        "quantity",
        "unit_price",
        "tax_percent",
        "subtotal",
        "tax_amount",
        "total",
    )
    verbose_name = "line"
    verbose_name_plural = "lines"

    @admin.display(description="product")
    def product_link(self, obj):
        url = reverse("admin:catalog_product_change", args=[obj.product_id])
        return format_html('<a href="{}">{}</a>', url, obj.product_name)


class DrawerMovementInline(_ReadOnlyInline):
    model = DrawerMovement
    fk_name = "purchase"
    fields = readonly_fields = ("kind", "value", "pieces", "count_after")
    ordering = ("-kind", "-denomination__value")  # tendered in, then change out; largest first
    verbose_name = "note or coin"
    verbose_name_plural = "notes and coins: tendered in, change given out"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("denomination")

    @admin.display(description="denomination")
    def value(self, obj):
        return obj.denomination.value


def _pieces(pieces: list[dict]) -> str:
    return ", ".join(f"{p['count']} × {p['value']}" for p in pieces) or "—"


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Bills are read-only here: history is never changed. The list shows each bill's amounts and,
    above it, the totals of the filtered bills; selected bills can be exported as CSV."""

    list_display = (
        "bill",
        "created_at",
        "customer_email",
        "line_count",
        *AMOUNT_FIELDS,
        "created_by",
        invoice_email_status,
    )
    list_display_links = ("bill",)
    list_select_related = ("customer", "created_by")
    list_filter = (("created_at", DateFieldListFilter),)
    date_hierarchy = "created_at"
    search_fields = ("customer__email",)
    search_help_text = "A customer's email (or part of it), or a bill number."
    list_per_page = 100
    actions = ("export_csv", resend_invoice)
    inlines = (PurchaseItemInline, DrawerMovementInline)
    fieldsets = (
        (None, {"fields": ("bill", "created_at", "customer_link", "created_by")}),
        (
            "Amounts",
            {"fields": AMOUNT_FIELDS},
        ),
        ("Cash", {"fields": ("tendered_notes", "change_given")}),
        ("Invoice email", {"fields": (invoice_email_status,)}),
    )
    readonly_fields = (
        "bill",
        "created_at",
        "customer_link",
        "created_by",
        *AMOUNT_FIELDS,
        "tendered_notes",
        "change_given",
        invoice_email_status,
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=Count("items"))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")
        if term.isdigit() and len(term) <= 18:
            return queryset.filter(pk=int(term)), False
        return super().get_search_results(request, queryset, search_term)

    def has_export_permission(self, request):
        return request.user.has_perm("purchases.export_purchase")

    def has_resend_invoice_permission(self, request):
        return request.user.has_perm(RESEND_INVOICE)

    @admin.display(description="bill", ordering="id")
    def bill(self, obj):
        return f"#{obj.pk}"

    @admin.display(description="customer", ordering="customer__email")
    def customer_email(self, obj):
        return obj.customer.email

    @admin.display(description="customer")
    def customer_link(self, obj):
        url = reverse("admin:customers_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer.email)

    @admin.display(description="lines", ordering="line_count")
    def line_count(self, obj):
        return obj.line_count

    @admin.display(description="tendered")
    def tendered_notes(self, obj):
        return _pieces(obj.tendered)

    @admin.display(description="change given")
    def change_given(self, obj):
        return _pieces(obj.change)

    @admin.action(description="Export selected bills as CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="bills-{stamp}.csv"'
        purchases_csv(queryset, response)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
        if changelist is not None:
            # Totals of every bill the filters and search select, not only this page.
            response.context_data["totals"] = purchase_totals(changelist.queryset)
        return response


def bills_table(purchases) -> str:
    """An HTML table of bills, for pages that list a few (e.g. a customer's latest)."""
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:purchases_purchase_change", args=[p.pk]),
                p.pk,
                timezone.localtime(p.created_at).strftime("%Y-%m-%d %H:%M"),
                f"{p.tax_total:.2f}",
                f"{p.payable:.2f}",
            )
            for p in purchases
        ),
    )
    return format_html(
        '<table class="bills"><thead><tr><th>Bill</th><th>Date</th><th>Tax</th><th>Payable</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        rows,
    )
