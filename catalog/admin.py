from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from billing_project.core.admin_helpers import (
    DirectlyRenderedRows,
    DomainErrorsAsMessages,
    IndexSortedChangeList,
    PageByIdsChangeList,
    ReadOnlyAdminMixin,
    RowLinksChangeList,
    answer_count,
    money_column,
)
from billing_project.core.db import reads_without_jit
from billing_project.core.db.orm_internals import instance_db, mark_saved
from billing_project.core.db.pages import page_and_count
from billing_project.core.errors import DomainError
from billing_project.core.money import format_money, money
from billing_project.core.quantities import Unit

from .importing import ImportRejected, parse_upload, product_import_rows
from .models import (
    NAME_ORDER,
    Adjustment,
    AdjustmentLine,
    Product,
    Receipt,
    ReceiptLine,
    StockCount,
    StockCountLine,
    StockMovement,
    Store,
    StorePrice,
    StoreStock,
    Supplier,
    Transfer,
    TransferLine,
)
from .selectors import low_stock_threshold
from .services import (
    product_create,
    product_delete,
    product_set_active,
    product_update,
    store_price_delete,
    store_price_set,
)
from .stock import receipt_create, stock_count_variance, stock_count_variances, supplier_save
from .stores import StoreScopedAdmin, can_see_store, visible_store_ids, visible_stores
from .transfers import transfer_create, transfer_receive

_EDITABLE = (
    "sku",
    "barcode",
    "plu",
    "name",
    "unit",
    "price",
    "mrp",
    "tax_percent",
    "hsn_code",
    "stock",
    "lead_time_days",
    "is_active",
)


def quantity_shown(value):
    """A quantity as people write it: ``12`` for a product sold each, ``12.5`` kg for a weighed one
    (not ``12.000``)."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, Decimal):
        return value.normalize()
    return value


class QuantityFormField(forms.DecimalField):
    """The stock as people write it (``quantity_shown``). Whether it suits the unit is the service's
    rule."""

    def prepare_value(self, value):
        return quantity_shown(value)


class ProductAdminForm(forms.ModelForm):
    # Optional in the form: a product is sold each unless it says otherwise, and a form that leaves
    # it out keeps the product's own.
    unit = forms.ChoiceField(
        choices=Unit.choices,
        required=False,
        help_text="each: sold in whole numbers; kg, g, l, ml, m: by measure, to 3 decimal places. "
        "It cannot change once the product has been sold.",
    )

    # Not a column (stock lives per store): a new product's opening stock, put in ``store`` (default:
    # the default store). Read-only once the product exists.
    stock = QuantityFormField(required=False, min_value=0, max_digits=13, decimal_places=3, initial=0)
    store = forms.ModelChoiceField(
        queryset=Store.objects.filter(is_active=True),
        required=False,
        help_text="Where the opening stock is (empty: the default store).",
    )

    lead_time_days = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=365,
        help_text="Days a reorder takes to arrive (7 when left empty): the low-stock list suggests that many "
        "days of sales.",
    )

    def clean_unit(self):
        return self.cleaned_data.get("unit") or (self.instance.unit if self.instance.pk else Unit.EACH)

    def clean_lead_time_days(self):
        value = self.cleaned_data.get("lead_time_days")
        return value if value is not None else (self.instance.lead_time_days if self.instance.pk else 7)

    def clean_stock(self):
        value = self.cleaned_data.get("stock")
        return value if value is not None else Decimal(0)

    class Meta:
        model = Product
        fields = [f for f in _EDITABLE if f != "stock"]


class LowStockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "low_stock"

    def lookups(self, request, model_admin):
        threshold = low_stock_threshold()
        return [("yes", f"Low (below {threshold})"), ("no", f"{threshold} or more")]

    def queryset(self, request, queryset):
        threshold = low_stock_threshold()
        # At one store, through the store's stock rows (``StoreFilter`` has annotated its stock);
        # over the stores, by the sum.
        store = store_shown(request)
        if self.value() == "yes":
            return queryset.stock_below(threshold) if store is None else queryset.stock_below_at(store, threshold)
        if self.value() == "no":
            return (
                queryset.filter(stock__gte=threshold) if store is None else queryset.stock_at_least_at(store, threshold)
            )
        return queryset


class ProductImportForm(forms.Form):
    file = forms.FileField(
        help_text="A .csv file with the header sku,name,price,tax_percent,stock (and, optionally, unit), "
        "or a .json list."
    )
    set_stock = forms.BooleanField(
        required=False, label="Set stock", help_text="Set stock to the file's values. Unticked, they are added."
    )
    partial = forms.BooleanField(
        required=False, help_text="Load the good rows even if some are bad. Unticked, any bad row stops the import."
    )
    dry_run = forms.BooleanField(required=False, label="Dry run", help_text="Check the file and count; write nothing.")
    store = forms.ModelChoiceField(
        queryset=Store.objects.filter(is_active=True),
        required=False,
        help_text="The store whose stock the file sets or adds to (empty: the default store).",
    )


class StoreStockInline(admin.TabularInline):
    """The product's stock at each store: read-only (the stock ledger changes it)."""

    model = StoreStock
    fields = ("store", "stock", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "stock by store"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StorePriceForm(forms.ModelForm):
    class Meta:
        model = StorePrice
        fields = ("store", "price")


class StorePriceInline(admin.TabularInline):
    """A store's own price for the product (``services.store_price_set``: not above the MRP)."""

    model = StorePrice
    form = StorePriceForm
    fields = ("store", "price")
    extra = 0
    verbose_name_plural = "prices of its own at stores (bills at that store's tills charge them)"


def store_shown(request) -> int | None:
    """The store whose stock the product list shows (``?store=``): one the user sees, else None
    (none asked for, or one that ``StoreFilter`` answers with no products)."""
    value = request.GET.get(StoreFilter.parameter_name)
    if value and value.isdigit() and can_see_store(request.user, int(value)):
        return int(value)
    return None


class StoreFilter(admin.SimpleListFilter):
    """The stock shown (and the low-stock filter) at one store; unfiltered, over the stores the user sees."""

    title = "store"
    parameter_name = "store"

    def lookups(self, request, model_admin):
        return [(str(store.pk), str(store)) for store in visible_stores(request.user)]

    def queryset(self, request, queryset):
        store = store_shown(request)
        if store is not None:
            return queryset.with_stock(store)
        if self.value():
            return queryset.none()
        return queryset


class ProductChangeList(PageByIdsChangeList, RowLinksChangeList):
    """The products' list at a chain's 50,000 products (a store's stock page, its low-stock list):

    - a page's products are found before their stock is summed (``PageByIdsChangeList``): page 400 of
      every product took 1.07 s, summing the stock of the 39,900 products its OFFSET passed over;

    - in its own order (name, id), unsearched, it reads its page by ``product_name_order`` instead
      of sorting every product's name for 100 rows (a search, or the low-stock list, is a few
      products found by their own index and sorted: a walk in name order would read most of the
      index to find them);
    - the low-stock list reads its products once for its page and its count (``page_and_count``):
      they are the products without enough stock, which no index finds, and the count would find
      them all a second time;
    - a store's stock page, which lists every product, counts them once: its count is the total
      that Django counts a second time for "N total"."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        if ORDER_VAR not in self.params and not self.query and not _low_stock_listed(request):
            queryset = queryset.order_by(*NAME_ORDER)
        return queryset

    def get_results(self, request):
        if not _low_stock_listed(request):
            return self._results(request)
        # A stock sum per product (over the stores, every product without enough at one of them):
        # compiling its plan took longer than running it. The page is read here, in that transaction
        # (a queryset keeps the rows it read).
        with reads_without_jit():
            self._results(request)
            list(self.result_list)
        return None

    def _results(self, request):
        if self._lists_every_product(request):
            # The page's count is the products' total, which Django counts again for "N total".
            count = self.root_queryset.count()
            answer_count(self.queryset, count)
            answer_count(self.root_queryset, count)
            return super().get_results(request)
        page = None
        if _low_stock_listed(request) and not self.show_all:
            page = page_and_count(self.queryset, self.page_num, self.list_per_page)
            if page is None and self.page_num == 1:  # no product is low: nothing to count or read again
                page = (self.queryset.none(), 0)
        if page is None:  # not the low-stock list, or a page past its end: Django's count says so
            return super().get_results(request)
        rows, count = page
        answer_count(self.queryset, count)
        # Django's own results (its page replaced by ``rows`` below), not PageByIdsChangeList's, which
        # would read the page's ids a second time.
        super(PageByIdsChangeList, self).get_results(request)
        self.result_list = rows  # the paginator's page (or every row, when one page holds them), read already
        return None

    def _lists_every_product(self, request) -> bool:
        """Every product, unsearched, each with its stock at a store the user sees (a store's stock
        page) or over the stores: no filter leaves any out."""
        filters = set(self.get_filters_params())
        if self.query or not filters <= {StoreFilter.parameter_name}:
            return False
        return not filters or store_shown(request) is not None


def _low_stock_listed(request) -> bool:
    return request.GET.get(LowStockFilter.parameter_name) == "yes"


@admin.register(Product)
class ProductAdmin(DirectlyRenderedRows, DomainErrorsAsMessages, admin.ModelAdmin):
    """Every write goes through ``catalog.services``: add, change (also from the list), archive,
    delete (archives a product that is on a bill), and the file import."""

    # Fits 1280 pixels: the name gets the room; price and stock stay editable from the list.
    form = ProductAdminForm
    list_display = ("name", "sku", "price", money_column("mrp", "MRP"), "tax", "stock", "unit", "is_active")
    list_display_links = ("sku", "name")
    # Stock changes only through the ledger (an adjustment, goods received, a count): read-only here.
    list_editable = ("price",)
    list_filter = (StoreFilter, "is_active", LowStockFilter)
    inlines = (StoreStockInline, StorePriceInline)
    search_fields = ("name", "sku", "barcode", "plu")
    ordering = ("name", "id")
    list_per_page = 100
    fields = (
        "sku",
        "barcode",
        "plu",
        "name",
        "unit",
        "price",
        "mrp",
        "tax_percent",
        "hsn_code",
        "stock",
        "store",
        "lead_time_days",
        "cost_price",
        "ledger",
        "is_active",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("created_at", "updated_at", "cost_price", "ledger")
    actions = ("archive", "unarchive")

    def get_changelist(self, request, **kwargs):
        return ProductChangeList

    def get_readonly_fields(self, request, obj=None):
        # A new product starts with its stock (its ledger's opening row); after that it is read-only.
        return (*self.readonly_fields, "stock_level") if obj is not None else self.readonly_fields

    def get_fields(self, request, obj=None):
        fields = [f for f in self.fields if f != "ledger" or obj is not None]
        if obj is not None:
            fields[fields.index("stock")] = "stock_level"
            fields.remove("store")
        if not request.user.has_perm("catalog.view_cost"):
            fields.remove("cost_price")
        return fields

    @admin.display(description="stock")
    def stock_level(self, obj):
        """As people write it (``12.5 kg``, ``7``); changed through an adjustment, goods received or
        a count, never here."""
        shown = quantity_shown(obj.stock)
        return f"{shown} {obj.unit}" if obj.unit != Unit.EACH else f"{shown}"

    @admin.display(description="stock", ordering="stock")
    def stock(self, obj):
        """The sum over the stores (``Product.objects`` annotates it), or a store's (``StoreFilter``).
        No form field made per row: 100 a page."""
        return quantity_shown(obj.stock)

    @admin.display(description="stock ledger")
    def ledger(self, obj):
        url = reverse("admin:catalog_stockmovement_changelist") + f"?product__id__exact={obj.pk}"
        return format_html('<a href="{}">Every movement of its stock</a>', url)

    @admin.display(description="tax", ordering="tax_percent")
    def tax(self, obj):
        return f"{obj.tax_percent.normalize():f}%"

    # --- Writes through the services -------------------------------------------------------

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in _EDITABLE if name in form.cleaned_data}
        if change:
            changed = {
                name: data[name] for name in form.changed_data if name in data and data[name] != form.initial.get(name)
            }
            if "unit" in changed and changed["unit"] == form.initial.get("unit"):  # left out: it keeps its own
                changed.pop("unit")
            changed.pop("stock", None)
            saved = product_update(product=obj, **changed) if changed else obj
        else:
            store = form.cleaned_data.get("store")
            saved = product_create(**data, store=store.pk if store is not None else None, user=request.user)
        # The admin goes on with ``obj`` (messages, log entry, redirect): give it the saved state.
        for model_field in Product._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(saved, model_field.attname))
        mark_saved(obj, instance_db(saved))

    def save_formset(self, request, form, formset, change):
        if formset.model is not StorePrice:
            return super().save_formset(request, form, formset, change)
        # A store's own price through the service: not above the MRP, under the product's lock.
        product = form.instance
        for row in formset.forms:
            data = getattr(row, "cleaned_data", None) or {}
            store = data.get("store")
            if store is None:
                continue
            if data.get("DELETE"):
                store_price_delete(product=product, store=store.pk)
            elif row.has_changed():
                old = row.instance.store_id if row.instance.pk else None
                if old is not None and old != store.pk:
                    store_price_delete(product=product, store=old)
                store_price_set(product=product, store=store.pk, price=data["price"])
        return None

    def delete_model(self, request, obj):
        if not product_delete(product=obj):
            request.products_archived = [*getattr(request, "products_archived", []), obj]

    def delete_queryset(self, request, queryset):
        for product in queryset:
            self.delete_model(request, product)

    def log_deletions(self, request, queryset):
        # Runs just before delete_model: a product on a bill will be archived, so log a change.
        objs = list(queryset)
        archived = {p.pk for p in objs if p.purchase_items.exists()}
        for product in objs:
            if product.pk in archived:
                self.log_change(request, product, "Archived instead of deleted: it is on a bill.")
        rest = [p for p in objs if p.pk not in archived]
        if rest:
            super().log_deletions(request, rest)  # type: ignore[arg-type]  # any list of objects works; the stub asks for a QuerySet

    def get_deleted_objects(self, objs, request):
        # A product on a bill is archived instead of deleted, so its bill lines do not block it.
        # Its stock ledger goes with a product that is deleted (one never sold, received, adjusted or
        # counted: only its opening row), so deleting needs no permission on the ledger.
        to_delete, model_count, perms_needed, _protected = super().get_deleted_objects(objs, request)
        ledger = {str(StockMovement._meta.verbose_name), str(StockCountLine._meta.verbose_name)}
        return to_delete, model_count, {p for p in perms_needed if p not in ledger}, []

    def response_delete(self, request, obj_display, obj_id):
        archived = getattr(request, "products_archived", [])
        if not archived:
            return super().response_delete(request, obj_display, obj_id)
        self.message_user(
            request,
            f"“{obj_display}” is on a bill, so it was archived instead of deleted: past bills keep it.",
            messages.WARNING,
        )
        return HttpResponseRedirect(reverse("admin:catalog_product_changelist"))

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Bulk delete would report "deleted" for products that are archived instead: delete one
        # product at a time from its page, where the outcome is reported.
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Archive selected products (no longer sold)", permissions=["change"])
    def archive(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description="Unarchive selected products", permissions=["change"])
    def unarchive(self, request, queryset):
        self._set_active(request, queryset, True)

    def _set_active(self, request, queryset, is_active: bool):
        products = list(queryset.exclude(is_active=is_active).order_by("pk"))
        for product in products:
            product_set_active(product=product, is_active=is_active)
        word = "unarchived" if is_active else "archived"
        self.message_user(request, f"{len(products)} product(s) {word}.", messages.SUCCESS)

    # --- Import from a file ----------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="catalog_product_import"), *super().get_urls()]

    def has_import_permission(self, request) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"has_import_permission": self.has_import_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ProductImportForm(request.POST or None, request.FILES or None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import products from a file",
            "form": form,
            "result": None,
            "errors": [],
        }
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                parsed = parse_upload(data["file"])
            except DomainError as exc:
                form.add_error("file", exc.message)
                return TemplateResponse(request, "admin/catalog/product/import.html", context)
            context["errors"] = list(parsed.errors)
            context["read"] = parsed.total
            if parsed.errors and not data["partial"]:
                context["refused"] = True
                return TemplateResponse(request, "admin/catalog/product/import.html", context)
            try:
                result = product_import_rows(
                    rows=parsed.rows,
                    set_stock=data["set_stock"],
                    partial=data["partial"],
                    dry_run=data["dry_run"],
                    unit=parsed.unit,
                    store=data["store"].pk if data.get("store") else None,
                )
            except ImportRejected as exc:
                context["errors"] += exc.errors
                context["refused"] = True
                return TemplateResponse(request, "admin/catalog/product/import.html", context)
            context["errors"] += result.errors
            context["result"] = result
            summary = (
                f"{'Dry run: would create' if result.dry_run else 'Created'} {result.created}, "
                f"{'update' if result.dry_run else 'updated'} {result.updated}, unchanged {result.unchanged}, "
                f"skipped {len(context['errors'])} bad row(s)."
            )
            if not context["errors"] and not result.dry_run:
                self.message_user(request, f"Import done. {summary}", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:catalog_product_changelist"))
            context["summary"] = summary
        return TemplateResponse(request, "admin/catalog/product/import.html", context)


# --- The stock ledger, suppliers, goods received, adjustments and counts ---------------------------


class LedgerChangeList(IndexSortedChangeList, PageByIdsChangeList):
    """The stock ledger's list: a deep page joins its stores, products and users for its own rows only
    (``PageByIdsChangeList``), and a list of more than 50,000 movements sorts only by time
    (``IndexSortedChangeList``): at 16 million, sorting by its other columns took 0.5-3.1 s a page."""

    SORTED_BY_INDEX = ("when",)
    rows_called = "movements"
    sorted_by = "time"
    narrow_to_sort = "Search for a product, or open the ledger from its page, to sort by another column."

    def get_results(self, request):
        self.sort_for(request, self.queryset.count())
        super().get_results(request)


@admin.register(StockMovement)
class StockMovementAdmin(StoreScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The stock ledger: history, never changed. A product's page links here, filtered to it."""

    list_display = (
        "when",
        "store",
        "product",
        "kind",
        "quantity",
        "balance_after",
        "reference",
        "reason",
        "user",
    )
    list_filter = ("store", "kind")
    search_fields = ("product__name", "product__sku")
    list_select_related = ("store", "product", "user")
    list_per_page = 100
    # A filtered list (a product's movements, a store's) counts its own rows only, not the whole
    # ledger's again for "N total": 16 million rows at a chain's scale, a third of a second a page.
    show_full_result_count = False

    # Sorted by id, the order the ledger is written in (it is never changed): the primary key's index
    # holds it, where sorting 16 million movements by their time read and sorted every one.
    @admin.display(description="created at", ordering="id")
    def when(self, obj):
        return obj.created_at

    @admin.display(description="reference")
    def reference(self, obj):
        for name, label in (
            ("purchase_id", "bill"),
            ("refund_id", "refund"),
            ("receipt_id", "receipt"),
            ("adjustment_id", "adjustment"),
            ("stock_count_id", "count"),
            ("transfer_id", "transfer"),
        ):
            value = getattr(obj, name)
            if value is not None:
                return f"{label} #{value}"
        return ""

    def get_queryset(self, request):
        # Without the product filter this is the whole ledger, newest first.
        return super().get_queryset(request).order_by("-id")

    def get_changelist(self, request, **kwargs):
        return LedgerChangeList


class SupplierAdminForm(forms.ModelForm):
    class Meta:
        model = Supplier
        fields = ("name", "gstin", "phone", "email", "address")


@admin.register(Supplier)
class SupplierAdmin(DomainErrorsAsMessages, admin.ModelAdmin):
    form = SupplierAdminForm
    list_display = ("name", "gstin", "phone", "email")
    search_fields = ("name", "gstin", "phone")

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in SupplierAdminForm.Meta.fields}
        saved = supplier_save(supplier=obj if change else None, **data)
        for model_field in Supplier._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(saved, model_field.attname))
        mark_saved(obj, instance_db(saved))


class DocumentLinesInline(admin.TabularInline):
    """The lines of a stock document (a receipt, a transfer): they come with it, so whoever may enter
    the document enters its lines, and they are never changed or deleted afterwards."""

    add_permission = view_permission = ""

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm(self.add_permission)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.view_permission)


class ReceiptLineInline(DocumentLinesInline):
    model = ReceiptLine
    fields = ("product", "quantity", "unit_cost", "tax_percent", "subtotal", "tax_amount")
    readonly_fields = ("subtotal", "tax_amount")
    autocomplete_fields = ("product",)
    extra = 5

    add_permission, view_permission = "catalog.add_receipt", "catalog.view_receipt"

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else self.readonly_fields


class ReceiptAdminForm(forms.ModelForm):
    store = forms.ModelChoiceField(
        queryset=Store.objects.filter(is_active=True),
        required=False,
        help_text="The store the goods arrived at (empty: the default store).",
    )

    class Meta:
        model = Receipt
        fields = ("store", "supplier", "supplier_invoice", "invoice_date", "note")


@admin.register(Receipt)
class ReceiptAdmin(StoreScopedAdmin, DomainErrorsAsMessages, admin.ModelAdmin):
    """Goods received: listed and viewed here; a manager enters one as a form with lines
    (``stock.receipt_create``, as the API). A receipt is never changed once entered."""

    form = ReceiptAdminForm
    inlines = (ReceiptLineInline,)
    list_display = (
        "id",
        "created_at",
        "store",
        "supplier",
        "supplier_invoice",
        "invoice_date",
        "subtotal",
        "tax_total",
        "total",
    )
    list_select_related = ("supplier", "store")
    list_filter = ("store",)
    search_fields = ("supplier__name", "supplier_invoice")
    autocomplete_fields = ("supplier",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "store",
            "supplier",
            "supplier_invoice",
            "invoice_date",
            "note",
            "subtotal",
            "tax_total",
            "total",
            "created_by",
        )

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) or ReceiptAdminForm.Meta.fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pass  # written with its lines by save_related, in one call to the service

    def save_related(self, request, form, formsets, change):
        lines = [
            {
                "product_id": row["product"].pk,
                "quantity": row["quantity"],
                "unit_cost": row["unit_cost"],
                "tax_percent": row.get("tax_percent") or Decimal("0"),
            }
            for formset in formsets
            for row in formset.cleaned_data
            if row and not row.get("DELETE") and row.get("product") is not None
        ]
        data = form.cleaned_data
        saved = receipt_create(
            store=data["store"].pk if data.get("store") else None,
            supplier=data["supplier"].pk,
            supplier_invoice=data["supplier_invoice"],
            invoice_date=data["invoice_date"],
            note=data.get("note") or "",
            lines=lines,
            user=request.user,
        )
        for model_field in Receipt._meta.concrete_fields:
            setattr(form.instance, model_field.attname, getattr(saved, model_field.attname))
        mark_saved(form.instance, instance_db(saved))

    def construct_change_message(self, request, form, formsets, add=False):
        # The lines were written by the service, not by the formsets.
        return [{"added": {}}]


class AdjustmentLineInline(admin.TabularInline):
    model = AdjustmentLine
    fields = ("product", "quantity")
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Adjustment)
class AdjustmentAdmin(StoreScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "created_at", "store", "reason", "note", "created_by")
    list_filter = ("store", "reason")
    inlines = (AdjustmentLineInline,)


class StockCountLineInline(admin.TabularInline):
    model = StockCountLine
    fields = ("product", "opening", "counted", "expected", "difference", "value_at_cost", "counted_at")
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="variance at cost")
    def value_at_cost(self, obj):
        if obj.difference is None:
            return "not counted"
        return format_money(money(obj.difference * obj.product.cost_price))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(StockCount)
class StockCountAdmin(StoreScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Stock takes: those in progress first, with what is counted so far and the variance by product
    and its value at cost. Counting and posting are the API's (``/stock-counts``)."""

    list_display = ("id", "store", "status", "created_at", "counted_lines", "variance_at_cost", "posted_at")
    list_filter = ("store", "status")
    inlines = (StockCountLineInline,)
    fields = (
        "store",
        "status",
        "note",
        "created_by",
        "created_at",
        "posted_by",
        "posted_at",
        "counted_lines",
        "variance_at_cost",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-status", "-created_at", "-id")  # open before posted

    def get_changelist(self, request, **kwargs):
        return StockCountChangeList

    @admin.display(description="counted")
    def counted_lines(self, obj):
        variance = _variance(obj)
        return f"{variance['counted']} of {variance['lines']}"

    @admin.display(description="variance at cost")
    def variance_at_cost(self, obj):
        return format_money(_variance(obj)["value"])


class StockCountChangeList(ChangeList):
    """The counts' list, each row's variance worked out for the whole page in one query
    (``stock_count_variances``), not in two queries a row."""

    def get_results(self, request):
        super().get_results(request)
        counts = list(self.result_list)  # read here; the queryset keeps these rows for the page
        variances = stock_count_variances([count.pk for count in counts])
        for count in counts:
            count.variance = variances[count.pk]


def _variance(count: StockCount) -> dict:
    """A count's variance: the one its list's page worked out, else its own (its page)."""
    return getattr(count, "variance", None) or stock_count_variance(count)


class TransferLineInline(DocumentLinesInline):
    """A transfer's lines: entered with a new transfer (product and quantity sent); shown with what
    was received and lost once it exists."""

    model = TransferLine
    fields = ("product", "quantity", "received", "loss")
    autocomplete_fields = ("product",)
    extra = 5

    add_permission, view_permission = "catalog.add_transfer", "catalog.view_transfer"

    def get_fields(self, request, obj=None):
        return self.fields if obj is not None else ("product", "quantity")

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class TransferAdminForm(forms.ModelForm):
    class Meta:
        model = Transfer
        fields = ("from_store", "to_store", "note")


@admin.register(Transfer)
class TransferAdmin(DomainErrorsAsMessages, admin.ModelAdmin):
    """Goods sent between stores, in transit first, with their lines: sent, received and lost. A user
    sees the transfers from or to a store they see, and sends from such a store, as a form with
    lines (``transfers.transfer_create``, as the API). *Receive in full* receives the selected
    transfers through the same service as the API, when everything sent arrived. A transfer is never
    changed here otherwise."""

    form = TransferAdminForm
    inlines = (TransferLineInline,)
    list_display = ("id", "status", "from_store", "to_store", "created_at", "created_by", "received_at", "received_by")
    list_filter = ("status", "from_store", "to_store")
    list_select_related = ("from_store", "to_store", "created_by", "received_by")
    actions = ("receive_in_full",)
    SHOWN = ("status", "from_store", "to_store", "note", "created_by", "created_at", "received_by", "received_at")

    def get_queryset(self, request):
        ids = visible_store_ids(request.user)
        qs = super().get_queryset(request).order_by("status", "-created_at", "-id")  # in_transit before received
        return qs if ids is None else qs.filter(Q(from_store__in=ids) | Q(to_store__in=ids))

    def get_fields(self, request, obj=None):
        return self.SHOWN if obj is not None else TransferAdminForm.Meta.fields

    def get_readonly_fields(self, request, obj=None):
        return self.SHOWN if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "from_store":  # only from a store the user sees
            kwargs["queryset"] = visible_stores(request.user).filter(is_active=True)
        elif db_field.name == "to_store":
            kwargs["queryset"] = Store.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pass  # written with its lines by save_related, in one call to the service

    def save_related(self, request, form, formsets, change):
        lines = [
            {"product_id": row["product"].pk, "quantity": row["quantity"]}
            for formset in formsets
            for row in formset.cleaned_data
            if row and not row.get("DELETE") and row.get("product") is not None
        ]
        data = form.cleaned_data
        saved = transfer_create(
            from_store=data["from_store"].pk,
            to_store=data["to_store"].pk,
            lines=lines,
            note=data.get("note") or "",
            user=request.user,
        )
        for model_field in Transfer._meta.concrete_fields:
            setattr(form.instance, model_field.attname, getattr(saved, model_field.attname))
        mark_saved(form.instance, instance_db(saved))

    def construct_change_message(self, request, form, formsets, add=False):
        # The lines were written by the service, not by the formsets.
        return [{"added": {}}]

    def has_receive_permission(self, request) -> bool:
        return request.user.has_perm("catalog.receive_transfer")

    @admin.action(description="Receive in full (everything sent arrived)", permissions=["receive"])
    def receive_in_full(self, request, queryset):
        received = 0
        for transfer in queryset.prefetch_related("lines"):
            if not can_see_store(request.user, transfer.to_store_id):
                self.message_user(request, f"{transfer}: only its destination receives it.", messages.ERROR)
                continue
            lines = [{"product_id": line.product_id, "quantity": line.quantity} for line in transfer.lines.all()]
            try:
                transfer_receive(transfer_id=transfer.pk, lines=lines, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{transfer}: {exc.message}", messages.ERROR)
                continue
            received += 1
        if received:
            self.message_user(request, f"{received} transfer(s) received.", messages.SUCCESS)
