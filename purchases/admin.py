from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from billing_project.core.admin_helpers import (
    IndexSortedChangeList,
    PageByIdsChangeList,
    ProbedDatesChangeList,
    ReadOnlyAdminMixin,
    RowLinksChangeList,
    action_checkbox_html,
    answer_count,
    money_column,
)
from billing_project.core.db import reads_without_jit
from billing_project.core.errors import ValidationFailed
from billing_project.core.money import format_money, format_note
from billing_project.core.validators import indian_mobile_e164
from cashdrawer.models import DrawerMovement
from catalog.stores import CHAIN_WIDE, StoreScopedAdmin, store_filter, visible_store_ids
from customers.models import Customer
from customers.services import customer_check_gst_details, customer_set_gst_details

from .invoice_admin import RESEND_INVOICE, invoice_email_status, resend_invoice
from .models import (
    AMOUNT_FIELDS,
    HeldBill,
    Payment,
    PaymentMethod,
    Purchase,
    PurchaseItem,
    Refund,
    RefundLine,
    RefundPayment,
)
from .reports import purchase_totals, purchases_csv, stores_purchase_totals
from .selectors import (
    CUSTOMER_FIGURES,
    bill_count,
    bills_matching,
    customer_list,
    customers_by_figures,
    deep_purchase_ids,
    with_line_count,
)
from .templatetags.discounts import discount_totals, line_discount, percent


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """A read-only part of a bill or a refund: whoever may see the whole sees its parts."""

    extra = 0
    can_delete = False
    show_change_link = False
    view_permission = "purchases.view_purchase"

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.view_permission)


class PurchaseItemInline(_ReadOnlyInline):
    model = PurchaseItem
    fields = readonly_fields = (
        "product_link",
        "quantity_shown",
        money_column("unit_price", "unit price"),
        money_column("mrp", "MRP"),
        "discount",
        "tax_rate",
        "hsn_code",
        money_column("subtotal"),
        money_column("tax_amount", "tax"),
        money_column("cgst", "CGST"),
        money_column("sgst", "SGST"),
        money_column("igst", "IGST"),
        money_column("total"),
    )
    verbose_name = "line"
    verbose_name_plural = "lines"
    classes = ("no-row-labels",)  # the product is in the row; no "PurchaseItem object" label above it

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("purchase")  # each line's discount reads its bill's

    @admin.display(description="discount")
    def discount(self, obj):
        # As the receipt writes it: "5 % + 5 % off ₹570.00 = −₹55.58".
        return line_discount(obj, obj.purchase.discount_percent) or self.admin_site.empty_value_display

    @admin.display(description="tax rate")
    def tax_rate(self, obj):
        return f"{obj.tax_percent.normalize():f}%"

    @admin.display(description="quantity")
    def quantity_shown(self, obj):
        return obj.quantity_text  # 2, or 1.250 kg

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
    classes = ("no-row-labels",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("denomination")

    @admin.display(description="denomination")
    def value(self, obj):
        return format_note(obj.denomination.value)


class PaymentInline(_ReadOnlyInline):
    model = Payment
    fields = readonly_fields = ("method", money_column("amount"), "reference")
    verbose_name = "payment"
    verbose_name_plural = "payments"
    classes = ("no-row-labels",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("method")


class RefundInline(_ReadOnlyInline):
    """The bill's refunds, each linked to its own page."""

    model = Refund
    fk_name = "purchase"
    fields = readonly_fields = ("refund_link", "created_at", "reason", "restock", money_column("amount", "paid back"))
    view_permission = "purchases.view_refund"
    verbose_name = "refund"
    verbose_name_plural = "refunds"
    classes = ("no-row-labels",)

    @admin.display(description="refund")
    def refund_link(self, obj):
        url = reverse("admin:purchases_refund_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.number or f"Refund #{obj.pk}")


@admin.register(PaymentMethod)
class PaymentMethodAdmin(admin.ModelAdmin):
    """Payment methods: managers add more (a voucher) and switch them off. The cash method is
    created by the migration; there is exactly one, and no second can be added."""

    store_rule = CHAIN_WIDE

    list_display = ("code", "name", "is_cash", "is_active")
    list_editable = ("is_active",)
    fields = ("code", "name", "is_active")
    ordering = ("-is_cash", "code")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        # A method that paid a bill is protected; the cash method is never deleted.
        if obj is not None and obj.is_cash:
            return False
        return super().has_delete_permission(request, obj)


def _pieces(pieces: list[dict]) -> str:
    return ", ".join(f"{p['count']} × {format_note(p['value'])}" for p in pieces) or "—"


# Every amount of a bill, written as the till writes it.
GST_COLUMNS = (
    "supply_type",
    "place_of_supply",
    "customer_gstin",
    "buyer_legal_name",
    "buyer_address",
    money_column("cgst_total", "CGST"),
    money_column("sgst_total", "SGST"),
    money_column("igst_total", "IGST"),
)
AMOUNTS = tuple(money_column(field, str(Purchase._meta.get_field(field).verbose_name)) for field in AMOUNT_FIELDS)  # type: ignore[union-attr]


WALK_IN = "walk-in"


def _mobile(term: str) -> str | None:
    """``term`` as a mobile number in E.164 form, if it is one."""
    try:
        return indian_mobile_e164(term)
    except ValidationError:
        return None


@admin.register(Purchase)
class PurchaseAdmin(StoreScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Bills are read-only here: history is never changed. The list shows each bill's amounts and,
    above it, the totals of the filtered bills; selected bills can be exported as CSV."""

    # What a manager scans a day's bills for, in 1280 pixels; the bill's page has every amount.
    list_display = (
        "bill",
        "created_at",
        "customer_email",
        "line_count",
        money_column("payable"),
        "cashier",
        "invoice",
    )
    list_display_links = ("bill",)
    list_select_related = ("customer", "created_by")
    list_filter = (("created_at", DateFieldListFilter),)
    date_hierarchy = "created_at"
    search_fields = ("customer__email", "customer__phone", "number")
    search_help_text = (
        "A customer's email or mobile number (or part of either), an invoice number (or its start), or a bill's #id."
    )
    list_per_page = 100
    actions = ("export_csv", resend_invoice)
    inlines = (PurchaseItemInline, PaymentInline, DrawerMovementInline, RefundInline)
    # The page's title is already "Bill #42": no "Bill" row under it, and no "Invoice email"
    # section holding a single "Invoice email" row.
    # The admin shows callables listed in readonly_fields; the stubs allow only field names.
    fieldsets: ClassVar[Any] = (
        (
            None,
            {
                "fields": (
                    "number",
                    "receipt",
                    "invoice_pdf",
                    "created_at",
                    "customer_link",
                    "created_by",
                    invoice_email_status,
                )
            },
        ),
        ("Discounts", {"fields": ("line_discounts", "bill_discount", "discount_reason", "you_saved")}),
        ("Amounts", {"fields": AMOUNTS}),
        ("GST", {"fields": GST_COLUMNS}),
        ("Cash", {"fields": ("tendered_notes", "change_given")}),
    )
    readonly_fields: ClassVar[Any] = (
        "bill",
        "number",
        "receipt",
        "invoice_pdf",
        "created_at",
        "customer_link",
        "created_by",
        "line_discounts",
        "bill_discount",
        "discount_reason",
        "you_saved",
        *AMOUNTS,
        *GST_COLUMNS,
        "tendered_notes",
        "change_given",
        invoice_email_status,
    )

    def get_queryset(self, request):
        return with_line_count(super().get_queryset(request))

    def get_changelist(self, request, **kwargs):
        return BillChangeList

    def action_checkbox(self, obj):
        # Django's own checkbox (ModelAdmin.action_checkbox), the same HTML, written without rendering
        # a form widget's templates for each of the list's 100 rows.
        return action_checkbox_html(obj)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")
        if term.isdigit() and len(term) <= 18 and not _mobile(term):
            return queryset.filter(pk=int(term)), False
        phone = _mobile(search_term)
        if phone:  # a mobile number in any spelling: that customer's bills
            return queryset.filter(customer__phone=phone), False
        return queryset.filter(bills_matching(search_term)), False

    def has_export_permission(self, request):
        return request.user.has_perm("purchases.export_purchase")

    def has_resend_invoice_permission(self, request):
        return request.user.has_perm(RESEND_INVOICE)

    @admin.display(description="bill", ordering="id")
    def bill(self, obj):
        # The invoice number and the id in one column: the list fits 1280 pixels.
        return f"{obj.number} · #{obj.pk}" if obj.number else f"#{obj.pk}"

    @admin.display(description="customer", ordering="customer__email")
    def customer_email(self, obj):
        # A long address is cut short in the list (admin.css); the tooltip has it whole. A customer
        # known by phone only shows the number; a walk-in sale, "walk-in".
        if obj.customer is None:
            return WALK_IN
        return format_html('<span title="{}">{}</span>', obj.customer, obj.customer)

    @admin.display(description="receipt")
    def receipt(self, obj):
        # The cashier's printable bill; the PDF tax invoice is the next row.
        url = reverse("billing:bill", args=[obj.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">Receipt for bill #{}</a>', url, obj.pk)

    @admin.display(description="tax invoice")
    def invoice_pdf(self, obj):
        url = reverse("billing:invoice-pdf", args=[obj.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Tax invoice {} (PDF)</a>', url, obj.number or ""
        )

    @admin.display(description="cashier", ordering="created_by__username")
    def cashier(self, obj):
        return obj.created_by.get_username() if obj.created_by_id else self.admin_site.empty_value_display

    @admin.display(description="invoice", ordering="invoice_status")
    def invoice(self, obj):
        # The status in a word; the bill's page says when it was sent or why it failed.
        return obj.get_invoice_status_display()

    @admin.display(description="customer")
    def customer_link(self, obj):
        if obj.customer is None:
            return WALK_IN
        url = reverse("admin:customers_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer)

    @admin.display(description="lines", ordering="line_count")
    def line_count(self, obj):
        return obj.line_count

    def _discounts(self, obj):
        return discount_totals(obj.items.all(), obj.discount_percent)

    @admin.display(description="line discounts")
    def line_discounts(self, obj):
        discounts = self._discounts(obj)
        return format_money(discounts.lines) if discounts.any_line else self.admin_site.empty_value_display

    @admin.display(description="bill discount")
    def bill_discount(self, obj):
        if not obj.discount_percent:
            return self.admin_site.empty_value_display
        return f"{percent(obj.discount_percent)}: {format_money(self._discounts(obj).bill)}"

    @admin.display(description="you saved")
    def you_saved(self, obj):
        # Against the lines' MRPs, and the discounts: what the receipt's "You saved" says.
        return format_money(obj.you_saved)

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
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if changelist is not None:
            # Totals of every bill the filters and search select, not only this page (BillChangeList's).
            context["totals"] = changelist.totals
        return response


class BillChangeList(IndexSortedChangeList, ProbedDatesChangeList, RowLinksChangeList):
    """The bills' list, whose "N total" (every bill of the user's stores, shown beside a filtered
    count) is read from ``BillCount`` rather than counted row by row; the filtered count is the
    number of bills of the totals shown above the list (``totals``: one query for both), which
    an index finds (a till's: ``purchase_till_created_cover``, which also holds the amounts summed).
    Unfiltered, the list is every bill of the user's stores, and its totals are ``BillCount``'s
    sums too (``stores_purchase_totals``, with the count: one read for both): summing 5,000,000
    bills took 0.6 s a page, and a deep page of them is positioned by day (``deep_purchase_ids``),
    not read past every newer bill. Its date hierarchy's years, months and days are probed
    (``ProbedDatesChangeList``). A list of more bills than ``sort_any_max`` sorts only by bill or
    time (``IndexSortedChangeList``): at 5,000,000 bills, sorting by customer, amount, cashier or
    invoice status took 7-9 s and by lines 30-40 s (every bill read, joined and sorted)."""

    # The columns the bills' indexes hold in order: any number of bills sorts by them at once.
    SORTED_BY_INDEX = ("bill", "created_at")
    # Bills a list sorts by any column (a day of the chain, a store's month, a till, a customer):
    # a till's 31,000 bills sorted by lines, the slowest, take about 0.45 s.
    sort_any_max = 50_000
    rows_called = "bills"
    sorted_by = "bill or time"
    narrow_to_sort = "Choose a day or a month in the date bar, or search, to sort by another column."

    def get_results(self, request):
        store_ids = visible_store_ids(request.user)
        every_bill = not self.query and not self.get_filters_params()
        kept = stores_purchase_totals(store_ids=store_ids) if every_bill else None
        total = kept["count"] if kept is not None else bill_count(store_ids=store_ids)
        if total is not None:  # None on SQLite: the rows are counted
            root = self.root_queryset.all()
            answer_count(root, total)  # this very queryset only: its filtered copies count their own rows
            self.root_queryset = root
        self.totals = kept if kept is not None else purchase_totals(self.queryset)
        self.sort_for(request, self.totals["count"])  # and the paginator's count is the totals'
        super().get_results(request)
        if every_bill and total is not None:
            self.position_deep_page(store_ids=store_ids, total=total)

    def position_deep_page(self, *, store_ids: list[int] | None, total: int) -> None:
        """A deep page of every bill in the list's own order (newest first): its ids found by day, as
        the API's deep pages are, then just its rows read. Django's page is the list's rows past an
        OFFSET of every newer bill: 0.36 s at page 500 of 5,000,000 bills. The same rows either way."""
        if not self.multi_page or (self.show_all and self.can_show_all):
            return
        if tuple(self.queryset.query.order_by) != tuple(Purchase._meta.ordering or ()):
            return  # sorted by a column
        start = (self.page_num - 1) * self.list_per_page
        ids = deep_purchase_ids(
            self.queryset, store_ids=store_ids, total=total, start=start, stop=start + self.list_per_page
        )
        if ids is not None:
            self.result_list = self.queryset.filter(pk__in=ids)


def bills_table(purchases) -> str:
    """An HTML table of bills, for pages that list a few (e.g. a customer's latest)."""
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:purchases_purchase_change", args=[p.pk]),
                p.pk,
                date_format(timezone.localtime(p.created_at), "j M Y, H:i"),
                format_money(p.tax_total),
                format_money(p.payable),
            )
            for p in purchases
        ),
    )
    return format_html(
        '<table class="bills"><thead><tr><th>Bill</th><th>Date</th><th>Tax</th><th>Payable</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        rows,
    )


# --- Refunds ----------------------------------------------------------------------------------------


class _RefundPartInline(_ReadOnlyInline):
    view_permission = "purchases.view_refund"


class RefundLineInline(_RefundPartInline):
    model = RefundLine
    fields = readonly_fields = (
        "product",
        "quantity_shown",
        money_column("subtotal"),
        money_column("tax_amount", "tax"),
        money_column("total"),
    )
    verbose_name = "line"
    verbose_name_plural = "lines"

    @admin.display(description="product")
    def product(self, obj):
        return obj.item.product_name

    @admin.display(description="quantity")
    def quantity_shown(self, obj):
        return obj.quantity_text


class RefundPaymentInline(_RefundPartInline):
    model = RefundPayment
    fields = readonly_fields = ("method", money_column("amount"), "reference")
    verbose_name = "payment"
    verbose_name_plural = "paid back"


@admin.register(Refund)
class RefundAdmin(StoreScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Refunds, read-only: they are made on the bill page or through the API, never here."""

    list_display = ("id", "number", "created_at", "bill_link", "till", "reason", money_column("amount", "paid back"))
    list_filter = (("created_at", DateFieldListFilter), "restock", ("till", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("purchase", "till")
    search_fields = ("=purchase__id", "=number", "=purchase__number", "reason")
    inlines = (RefundLineInline, RefundPaymentInline)

    def get_changelist(self, request, **kwargs):
        return PageByIdsChangeList  # a deep page joins its bills and tills for its own rows only

    fields = readonly_fields = (
        "number",
        "credit_note",
        "bill_link",
        "till",
        "session",
        "created_at",
        "created_by",
        "reason",
        "restock",
        money_column("subtotal"),
        money_column("tax_total", "tax"),
        money_column("total"),
        money_column("rounding"),
        money_column("amount", "paid back"),
        "cash_handed_back",
    )

    @admin.display(description="bill", ordering="purchase")
    def bill_link(self, obj):
        url = reverse("admin:purchases_purchase_change", args=[obj.purchase_id])
        return format_html('<a href="{}">Bill #{}</a>', url, obj.purchase_id)

    @admin.display(description="credit note")
    def credit_note(self, obj):
        url = reverse("billing:credit-note-pdf", args=[obj.pk])
        return format_html('<a href="{}">Credit note {} (PDF)</a>', url, obj.number or f"#{obj.pk}")

    @admin.display(description="cash handed back")
    def cash_handed_back(self, obj):
        pieces = obj.cash_out
        if not pieces:
            return "—"
        return ", ".join(f"{p['count']} × {format_note(p['value'])}" for p in pieces)


LATEST_BILLS = 50


class CustomerGstForm(forms.ModelForm):
    """A business buyer's GST details, checked as ``customer_set_gst_details`` checks them."""

    class Meta:
        model = Customer
        fields = ("gstin", "legal_name", "billing_address", "state_code")

    def clean(self):
        data = super().clean() or self.cleaned_data
        try:
            # The normalised GSTIN and the state it sets, so the model's own checks see them too.
            data["gstin"], data["state_code"] = customer_check_gst_details(
                gstin=data.get("gstin"), state_code=data.get("state_code")
            )
        except ValidationFailed as exc:
            for field, messages in exc.details.items():
                self.add_error(field, messages)
        return data


class CustomerChangeList(PageByIdsChangeList):
    """The customers' list, whose page ordered by a figure (bills, total spent, discounts) is found
    with every customer's figures worked out at once (``customers_by_figures``: one pass over the
    bills, 1.0-1.7 s at 200,000 customers and 5,000,000 bills, where a subquery per customer took
    8-13 s); its rows are then read as on any page."""

    def page_ids(self, request) -> list:
        ordering = self.get_ordering(request, self.queryset)
        if not any(isinstance(field, str) and field.lstrip("-") in CUSTOMER_FIGURES for field in ordering):
            return super().page_ids(request)
        if not self.result_count:
            return []
        page = self.paginator.page(self.page_num)
        ranked = customers_by_figures(self.queryset).order_by(*ordering)
        with reads_without_jit():  # JIT would spend longer compiling the plan than running it
            return list(ranked.values_list("pk", flat=True)[page.start_index() - 1 : page.end_index()])


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Customers are created by their first bill and identified by email, mobile number or both:
    read-only here."""

    store_rule = CHAIN_WIDE  # customers shop at any store; their bills shown are the viewer's stores'

    list_display = ("email", "phone", "name", "purchase_count", "total_spent", "discount_total", "created_at")
    search_fields = ("email", "phone", "name")
    search_help_text = "The customer's email, mobile number (any spelling) or name, or part of one."
    # By email; those known by phone only after them.
    ordering = (F("email").asc(nulls_last=True), "phone")
    list_per_page = 100
    # Only a business buyer's GST details can be changed here (``customer_set_gst_details``).
    GST_FIELDS = ("gstin", "legal_name", "billing_address", "state_code")
    fields = ("email", "phone", "name", "created_at", *GST_FIELDS, "lifetime_totals", "bills")
    readonly_fields = ("email", "phone", "name", "created_at", "lifetime_totals", "bills")

    def get_queryset(self, request):
        return customer_list()

    def get_changelist(self, request, **kwargs):
        # Each row's figures are subqueries of its bills: worked out for the page's rows only.
        return CustomerChangeList

    def get_object(self, request, object_id, from_field=None):
        customer = super().get_object(request, object_id, from_field)
        if customer is not None:
            # Its latest bills are those of the viewer's stores (``bills``).
            customer.viewer_store_ids = visible_store_ids(request.user)
        return customer

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("customers.change_customer")

    form = CustomerGstForm

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        customer_set_gst_details(
            customer_id=obj.pk,
            gstin=data.get("gstin"),
            legal_name=data.get("legal_name") or "",
            billing_address=data.get("billing_address") or "",
            state_code=data.get("state_code"),
        )

    def get_search_results(self, request, queryset, search_term):
        # A whole mobile number in any spelling (98765 43210, +91-98765-43210, 098765…) finds its
        # customer; anything else is a search by part of the email, number or name.
        phone = _mobile(search_term)
        if phone is None:
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
        # Of the viewer's stores (``get_object``); none when the viewer is not known.
        ids = getattr(obj, "viewer_store_ids", [])
        bills = obj.purchases.all()
        if ids is not None:
            bills = bills.filter(store_filter(Purchase, ids))
        latest = list(bills.order_by("-created_at", "-id")[:LATEST_BILLS])
        if not latest:
            return "No bills yet."
        url = reverse("admin:purchases_purchase_changelist") + "?" + urlencode({"customer__id__exact": obj.pk})
        return format_html(
            '{}<p><a href="{}">All of {}’s bills in the bills list</a> (filter by date, export as CSV).</p>',
            bills_table(latest),
            url,
            obj,
        )


@admin.register(HeldBill)
class HeldBillAdmin(StoreScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Parked bills (saved carts) at the tills, oldest first, read-only: the billing page and the API
    park, recall and discard them."""

    list_display = ("id", "till", "created_at", "created_by", "line_count", "customer", "note", "products")
    list_filter = (("till", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("till", "created_by")
    ordering = ("created_at", "id")
    fields = readonly_fields = ("till", "created_at", "created_by", "customer", "note", "products")

    @admin.display(description="customer")
    def customer(self, obj):
        return obj.customer_email or obj.customer_phone or "walk-in"

    @admin.display(description="products")
    def products(self, obj):
        return ", ".join(f"{line['quantity']} × {line['name']}" for line in obj.items)
