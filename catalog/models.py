from decimal import Decimal
from functools import cache

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, Exists, F, Func, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Upper
from django.utils import timezone

from billing_project.core.money import CENT
from billing_project.core.quantities import QUANTITY_MAX_DIGITS, QUANTITY_PLACES, Unit, quantity_text
from billing_project.core.validators import validate_code_text, validate_gstin, validate_plain_text

from .barcodes import BARCODE_DIGITS, BARCODE_MAX_LENGTH, PLU_MAX_LENGTH, PLU_PATTERN

MAX_STOCK = 2_147_483_647
MAX_PRICE = 10**10  # NUMERIC(12, 2)


def _gstin_or_blank(value: str) -> None:
    if value:
        validate_gstin(value)


class Store(models.Model):
    """A shop of the chain: its own shelves (stock), tills and staff, and the GST registration its
    invoices carry. The catalogue (products, prices, tax, HSN, barcodes) is one for the chain.

    Exactly one store is the default (``is_default``): migration 0008 made it, code ``MAIN``, from the
    store settings (``STORE_NAME``, ``STORE_LEGAL_NAME``, ``STORE_ADDRESS``, ``STORE_GSTIN``,
    ``STORE_STATE_CODE``); a till, a product's opening stock or a bill that names no store is in it.
    ``staff`` are the users who work there: a user without ``view_all_stores`` sees only their
    stores (``catalog.stores``)."""

    code = models.CharField(
        max_length=16, unique=True, validators=[validate_code_text], help_text="Short unique code, such as MAIN."
    )
    name = models.CharField(max_length=200, validators=[validate_plain_text])
    legal_name = models.CharField(max_length=200, blank=True, default="", help_text="On tax invoices. Blank: the name.")
    address = models.TextField(blank=True, default="")
    state_code = models.CharField(
        max_length=2,
        blank=True,
        default="",
        help_text="The GST state code of the store's address, such as 29. Blank: the GSTIN's first two digits.",
    )
    gstin = models.CharField(
        "GSTIN",
        max_length=15,
        blank=True,
        default="",
        validators=[_gstin_or_blank],
        help_text="Blank for an unregistered store (a Bill of Supply).",
    )
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, editable=False)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="stores", blank=True, help_text="Who works at this store."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        permissions = [("view_all_stores", "Can see and manage every store")]
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="store_code_not_empty"),
            models.CheckConstraint(
                condition=Q(state_code="") | Q(state_code__regex=r"^[0-9]{2}$"), name="store_state_code_form"
            ),
            models.CheckConstraint(
                condition=Q(gstin="") | Q(gstin__regex=r"^[0-9]{2}[0-9A-Z]{13}$"), name="store_gstin_form"
            ),
            models.CheckConstraint(
                condition=Q(gstin="") | Q(state_code="") | Q(gstin__startswith=F("state_code")),
                name="store_gstin_in_state",
            ),
            models.CheckConstraint(condition=Q(is_default=False) | Q(is_active=True), name="store_default_active"),
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="store_one_default"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def gst_state_code(self) -> str:
        """The state its invoices are supplied from: ``state_code``, else its GSTIN's first two digits."""
        return self.state_code or self.gstin[:2]


ZERO_STOCK = Decimal("0.000")


def stock_sum(store_ids=None):
    """A product's stock as an expression for its queryset: the sum of its ``StoreStock`` rows over
    every store (``store_ids`` None), the stores named (a list), or one store (an id); 0 without a
    row. One correlated subquery per product row, on the ``storestock_product`` index."""
    rows = _rows_at(store_ids)
    total = rows.order_by().values("product").annotate(total=Sum("stock")).values("total")
    return Coalesce(Subquery(total, output_field=quantity_field()), Value(ZERO_STOCK), output_field=quantity_field())


def _rows_at(store_ids):
    """The outer product's ``StoreStock`` rows at every store (``store_ids`` None), the stores named
    (a list), or one store (an id)."""
    rows = StoreStock.objects.filter(product=OuterRef("pk"))
    if isinstance(store_ids, int):
        return rows.filter(store_id=store_ids)
    if store_ids is not None:
        return rows.filter(store_id__in=list(store_ids))
    return rows


def _stocked(store_ids, threshold) -> Exists:
    """A row of the product with at least ``threshold`` at one of ``store_ids`` (as ``_rows_at``)."""
    return Exists(_rows_at(store_ids).filter(stock__gte=threshold))


def default_store_pk() -> int:
    """The default store's id: the default of a receipt's, an adjustment's and a count's ``store``
    (``catalog.stores.default_store_id`` is the same, for the layers above)."""
    return Store.objects.values_list("pk", flat=True).get(is_default=True)


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def with_stock(self, store_ids=None):
        """``stock`` annotated: the sum over every store, the stores named, or one store (an id)."""
        return self.annotate(stock=stock_sum(store_ids))

    def stock_below(self, threshold, store_ids=None):
        """The products whose ``stock`` is below ``threshold``, where ``stock`` is the sum over
        ``store_ids`` (every store, the stores named, or one: as ``with_stock(store_ids)`` annotated
        it). A product with at least ``threshold`` at one of those stores is left out before its sum
        is worked out: no stock is negative (``storestock_stock_gte_0``), so its sum is at least
        that. Summing every product's rows to find the few below took 0.9 s at 50,000 products in 20
        stores (the admin's home page did it twice); only the products left are summed."""
        if threshold <= 0:  # no stock is below 0
            return self.none()
        # A CASE, whose WHEN PostgreSQL evaluates first: with the two conditions ANDed, it summed
        # every product's rows before the other condition left any out.
        short = Case(
            When(_stocked(store_ids, threshold), then=Value(threshold)),
            default=F("stock"),
            output_field=quantity_field(),
        )
        return self.alias(stock_unless_stocked=short).filter(stock_unless_stocked__lt=threshold)

    def stock_below_at(self, store_id: int, threshold):
        """The products whose stock at ``store_id`` is below ``threshold``: those without a row there
        of at least that much (no row is 0 there; a store has at most one row of a product). The
        same products as ``with_stock(store_id).filter(stock__lt=threshold)``, found through the
        store's rows (``storestock_one_per_store_product``) instead of a sum per product."""
        if threshold <= 0:  # no stock is below 0
            return self.none()
        return self.filter(~_stocked(store_id, threshold))

    def stock_at_least_at(self, store_id: int, threshold):
        """The rest: the products with at least ``threshold`` at ``store_id``."""
        if threshold <= 0:
            return self.all()
        return self.filter(_stocked(store_id, threshold))


class ProductManager(models.Manager.from_queryset(ProductQuerySet)):  # type: ignore[misc]
    """Every product read through ``Product.objects`` carries its ``stock``: the sum over stores."""

    def get_queryset(self):
        queryset = super().get_queryset()
        # A copy of the one query built with the stock: building the stock's subquery costs more
        # than the rest of a queryset, and some pages make a queryset per row (the admin's product
        # list, for its formset's hidden ids). A queryset copies its query on every change, so the
        # built one is never changed.
        queryset.query = _with_stock_query().chain()
        return queryset


@cache
def _with_stock_query():
    return ProductQuerySet(model=Product).with_stock().query


class SortsAsItself(Func):
    """``(text || '')``: the text itself, so it sorts as the text does (its collation), but as an
    expression that a query ordering by the plain column does not match. An index of it
    (``product_name_order``) serves only the queries that order by it: the admin's product list,
    unsearched, and not the searches ordered by name, which keep their trigram indexes
    (docs/performance.md)."""

    template = "(%(expressions)s || '')"
    output_field = models.CharField()


# The products' own order (``Meta.ordering``, name then id) as the index ``product_name_order`` has it.
NAME_ORDER = (SortsAsItself("name").asc(), F("id").asc())

PRICE_LTE_MRP_CONSTRAINT = "product_price_lte_mrp"

HSN_DIGITS = r"^[0-9]{4}([0-9]{2}){0,2}$"  # 4, 6 or 8 digits
HSN_PATTERN = r"^([0-9]{4}([0-9]{2}){0,2})?$"  # or blank


def quantity_field(**kwargs) -> models.DecimalField:
    """A quantity: whole for ``each`` products, to 3 places for measured ones (``core.quantities``)."""
    return models.DecimalField(max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_PLACES, **kwargs)


def whole_unless_measured(field: str, unit_field: str = "unit") -> Q:
    """The CHECK that an ``each`` quantity is whole: ``unit <> 'each' OR q = CAST(q AS bigint)``
    (portable: SQLite has no trunc())."""
    return ~Q(**{unit_field: Unit.EACH}) | Q(**{field: Cast(field, models.BigIntegerField())})


class Product(models.Model):
    sku = models.CharField(
        max_length=64, null=True, blank=True, help_text="Unique when set.", validators=[validate_code_text]
    )
    name = models.CharField(max_length=200, validators=[validate_plain_text])
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(CENT)])
    # The maximum retail price printed on the pack: the price may not be above it (CHECK and the
    # services' ``price_above_mrp``). Bills snapshot it on their lines and print the saving.
    mrp = models.DecimalField(
        "MRP",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(CENT)],
        help_text="Maximum retail price printed on the pack (optional). The price may not be above it.",
    )
    tax_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    unit = models.CharField(
        max_length=4,
        choices=Unit.choices,
        default=Unit.EACH,
        db_default=Unit.EACH,  # the stock import inserts with its own SQL
        help_text="each: sold in whole numbers; kg, g, l, ml, m: by measure, to 3 decimal places.",
    )
    barcode = models.CharField(
        max_length=BARCODE_MAX_LENGTH,
        null=True,
        blank=True,
        unique=True,
        help_text="EAN-13, EAN-8 or UPC-A, with its check digit. Unique when set.",
    )
    plu = models.CharField(
        "PLU",
        max_length=PLU_MAX_LENGTH,
        null=True,
        blank=True,
        unique=True,
        validators=[RegexValidator(PLU_PATTERN, "Digits, without a leading zero.")],
        help_text="The number the weighing scales print on their labels. Unique when set.",
    )
    is_active = models.BooleanField(default=True, help_text="Archived products cannot be sold.")
    # The moving-average cost of what is in stock (goods received: ``stock.receipt_create``); bill
    # lines snapshot it. Seen only with ``catalog.view_cost``.
    cost_price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        db_default=Decimal("0.00"),  # the stock import inserts with its own SQL
        validators=[MinValueValidator(0)],
        help_text="Moving average of the goods received, to the paisa.",
    )
    lead_time_days = models.PositiveSmallIntegerField(
        default=7,
        db_default=7,
        help_text="Days a reorder takes to arrive: the low-stock list suggests this many days of sales.",
    )
    hsn_code = models.CharField(
        "HSN/SAC code",
        max_length=8,
        blank=True,
        default="",
        db_default="",  # the stock import inserts with its own SQL
        validators=[RegexValidator(HSN_PATTERN, "4, 6 or 8 digits.")],
        help_text="Goods and services classification (HSN or SAC): 4, 6 or 8 digits. Printed on tax invoices.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductManager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # A SKU typed in any case (``sku__iexact``: the scanner's lookup and the billing page's row).
            models.Index(Upper("sku"), name="product_sku_upper"),
            # The admin's product list in its order (``NAME_ORDER``): a page of 100 without sorting
            # 50,000 names.
            models.Index(SortsAsItself("name"), F("id"), name="product_name_order"),
            # On PostgreSQL, migration 0012 adds trigram indexes of UPPER(name) and UPPER(sku) for the
            # searches that look inside them (``icontains``, ``iexact``): docs/performance.md.
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_gt_0"),
            models.CheckConstraint(condition=Q(cost_price__gte=0), name="product_cost_price_gte_0"),
            models.CheckConstraint(condition=Q(mrp__isnull=True) | Q(mrp__gt=0), name="product_mrp_gt_0"),
            models.CheckConstraint(
                condition=Q(mrp__isnull=True) | Q(price__lte=F("mrp")),
                name=PRICE_LTE_MRP_CONSTRAINT,
                violation_error_message="The price may not be above the MRP.",
            ),
            models.CheckConstraint(
                condition=Q(tax_percent__gte=0, tax_percent__lte=100), name="product_tax_percent_0_100"
            ),
            models.CheckConstraint(condition=Q(hsn_code__regex=HSN_PATTERN), name="product_hsn_code_form"),
            models.CheckConstraint(condition=Q(unit__in=Unit.values), name="product_unit_valid"),
            models.CheckConstraint(
                condition=Q(barcode__isnull=True) | Q(barcode__regex=BARCODE_DIGITS), name="product_barcode_form"
            ),
            models.CheckConstraint(condition=Q(plu__isnull=True) | Q(plu__regex=PLU_PATTERN), name="product_plu_form"),
            models.UniqueConstraint(
                fields=["sku"], condition=Q(sku__isnull=False) & ~Q(sku=""), name="product_sku_unique_when_set"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})" if self.sku else self.name

    # The product's stock is not a column: it lives per store (``StoreStock``). ``stock`` is the sum
    # over the stores, as ``Product.objects`` annotates it (or ``with_stock(store)`` for one store);
    # on an instance read without it (a related object), it is read once on first use.
    @property
    def stock(self) -> Decimal:
        value = self.__dict__.get("_stock")
        if value is None:
            if self.pk is None:
                return ZERO_STOCK
            value = StoreStock.objects.filter(product_id=self.pk).aggregate(total=Sum("stock"))["total"]
            value = ZERO_STOCK if value is None else value
            self.__dict__["_stock"] = value
        return value

    @stock.setter
    def stock(self, value) -> None:
        self.__dict__["_stock"] = value

    def refresh_from_db(self, *args, **kwargs):
        self.__dict__.pop("_stock", None)
        super().refresh_from_db(*args, **kwargs)

    @property
    def stock_text(self) -> str:
        """``12`` or ``1.250 kg``."""
        return quantity_text(self.stock, self.unit)

    @property
    def price_unit(self) -> str:
        """What the price is for: ``each`` or ``per kg``."""
        return "each" if self.unit == Unit.EACH else f"per {self.unit}"


class ProductNamesVersion(models.Model):
    """The one row counting the changes to products' names and units, so that what holds them
    written out (a report by product, ``purchases.report_cache``) can tell whether they still hold. On
    PostgreSQL a trigger of the products table adds one to ``version`` in the same transaction as any
    statement that sets a name or unit, or deletes a product, however it is written (the admin, the
    API, the importer's SQL): a reader that sees a product's new name sees the new version too
    (migration 0015). Nothing else writes it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="productnamesversion_one_row"),
            models.CheckConstraint(condition=Q(version__gte=0), name="productnamesversion_version_gte_0"),
        ]

    def __str__(self):
        return f"Product names, version {self.version}"


class StoreStock(models.Model):
    """A product's stock at one store: what that store's shelves hold. Changed only through the
    stock ledger (``catalog.stock``, a bill's ``take_stock``, a refund's restock), each change with
    its ``StockMovement`` at the same store. No row: 0 there. An ``each`` product's stock is whole
    (the services check it with the product's unit)."""

    # Indexed by ``storestock_one_per_store_product`` and ``storestock_product``.
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="stock_rows", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="store_stock", db_index=False)
    stock = quantity_field(default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_STOCK)])
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["store_id", "product_id"]
        indexes = [models.Index(fields=["product"], name="storestock_product")]
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="storestock_one_per_store_product"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="storestock_stock_gte_0"),
            models.CheckConstraint(condition=Q(stock__lte=MAX_STOCK), name="storestock_stock_lte_max"),
        ]

    def __str__(self):
        return f"{self.stock} of product {self.product_id} at store {self.store_id}"


class StorePrice(models.Model):
    """A store's own price for a product, overriding ``Product.price`` on bills at that store's
    tills. Not above the product's MRP (the services' ``price_above_mrp``)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="prices")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="store_prices")
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(CENT)])
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["store_id", "product_id"]
        indexes = [models.Index(fields=["product"], name="storeprice_product")]
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="storeprice_one_per_store_product"),
            models.CheckConstraint(condition=Q(price__gt=0), name="storeprice_price_gt_0"),
        ]

    def __str__(self):
        return f"{self.price} for product {self.product_id} at store {self.store_id}"


def _within(field: str, expression, half: str) -> Q:
    """``field == expression``, written as "within half the last place" because SQLite evaluates
    CHECK arithmetic in floating point; on PostgreSQL's NUMERIC columns the two are equivalent."""
    margin = Value(Decimal(half))
    return Q(**{f"{field}__gt": expression - margin, f"{field}__lt": expression + margin})


def _user_field() -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )


def _cost_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class Supplier(models.Model):
    """Who goods are received from."""

    name = models.CharField(max_length=200, validators=[validate_plain_text])
    gstin = models.CharField(
        "GSTIN", max_length=15, blank=True, default="", validators=[_gstin_or_blank], help_text="Optional."
    )
    phone = models.CharField(max_length=20, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    address = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="supplier_name_not_blank"),
            models.CheckConstraint(
                condition=Q(gstin="") | Q(gstin__regex=r"^[0-9A-Z]{15}$"), name="supplier_gstin_form"
            ),
        ]

    def __str__(self):
        return self.name


class Receipt(models.Model):
    """Goods received from a supplier against their invoice (a goods received note). Written once by
    ``stock.receipt_create``; each line adds stock through a ``receipt`` movement. ``subtotal`` is
    the lines' quantity × unit cost, ``tax_total`` their input tax, ``total`` the invoice's total."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="receipts", default=default_store_pk)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="receipts")
    supplier_invoice = models.CharField(max_length=64, validators=[validate_code_text])
    invoice_date = models.DateField()
    note = models.CharField(max_length=255, blank=True, default="")
    subtotal = _cost_field()
    tax_total = _cost_field()
    total = _cost_field()
    created_by = _user_field()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("view_cost", "Can see cost prices")]
        constraints = [
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="receipt_subtotal_gte_0"),
            models.CheckConstraint(condition=Q(tax_total__gte=0), name="receipt_tax_total_gte_0"),
            models.CheckConstraint(
                condition=_within("total", F("subtotal") + F("tax_total"), "0.005"), name="receipt_total_sum"
            ),
            models.CheckConstraint(condition=~Q(supplier_invoice=""), name="receipt_invoice_not_blank"),
        ]

    def __str__(self):
        return f"Receipt #{self.pk} ({self.supplier_invoice})"


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="receipt_lines")
    quantity = quantity_field()
    unit_cost = _cost_field()
    tax_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    subtotal = _cost_field()
    tax_amount = _cost_field()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="receiptline_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="receiptline_unit_cost_gte_0"),
            models.CheckConstraint(
                condition=Q(tax_percent__gte=0, tax_percent__lte=100), name="receiptline_tax_percent_0_100"
            ),
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="receiptline_subtotal_gte_0"),
            models.CheckConstraint(condition=Q(tax_amount__gte=0), name="receiptline_tax_amount_gte_0"),
        ]

    def __str__(self):
        return f"{quantity_text(self.quantity, self.product.unit)} × {self.product.name}"


class Adjustment(models.Model):
    """A manager's change of stock, with its reason: goods damaged, expired, stolen or found."""

    class Reason(models.TextChoices):
        DAMAGED = "damaged", "Damaged"
        EXPIRED = "expired", "Expired"
        THEFT = "theft", "Theft"
        FOUND = "found", "Found"
        OTHER = "other", "Other"

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="adjustments", default=default_store_pk)
    reason = models.CharField(max_length=8, choices=Reason.choices)
    note = models.CharField(max_length=255, blank=True, default="")
    created_by = _user_field()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=["damaged", "expired", "theft", "found", "other"]),
                name="adjustment_reason_valid",
            ),
            models.CheckConstraint(condition=~Q(reason="other") | ~Q(note=""), name="adjustment_other_has_note"),
        ]

    def __str__(self):
        return f"Adjustment #{self.pk} ({self.reason})"


class AdjustmentLine(models.Model):
    adjustment = models.ForeignKey(Adjustment, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="adjustment_lines")
    quantity = quantity_field()  # signed

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="adjustmentline_quantity_not_0")]

    def __str__(self):
        return f"{self.quantity.normalize():f} × {self.product.name}"


class StockCount(models.Model):
    """A stock take: opened over all products or some, counted line by line while the shop trades,
    then posted once (``stock.stock_count_post``)."""

    class Status(models.TextChoices):
        OPEN = "open", "In progress"
        POSTED = "posted", "Posted"

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="stock_counts", default=default_store_pk)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    note = models.CharField(max_length=255, blank=True, default="")
    created_by = _user_field()
    created_at = models.DateTimeField(default=timezone.now)
    posted_by = _user_field()
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "posted"]), name="stockcount_status_valid"),
            models.CheckConstraint(
                condition=Q(status="open", posted_at__isnull=True) | Q(status="posted", posted_at__isnull=False),
                name="stockcount_posted_has_time",
            ),
        ]

    def __str__(self):
        return f"Stock count #{self.pk}"


class StockCountLine(models.Model):
    """One product of a count. ``opening``: its stock when the count opened. Once counted,
    ``expected`` is its stock at the moment the count was recorded and ``difference = counted −
    expected``; posting applies the difference."""

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="count_lines")
    opening = quantity_field()
    counted = quantity_field(null=True, blank=True)
    expected = quantity_field(null=True, blank=True)
    difference = quantity_field(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    counted_by = _user_field()

    class Meta:
        ordering = ["product__name", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["count", "product"], name="stockcountline_one_per_product"),
            models.CheckConstraint(
                condition=Q(counted__isnull=True, expected__isnull=True, difference__isnull=True)
                | (Q(counted__gte=0, expected__gte=0) & _within("difference", F("counted") - F("expected"), "0.0005")),
                name="stockcountline_difference",
            ),
        ]

    def __str__(self):
        return f"{self.product.name} in stock count #{self.count_id}"


class Transfer(models.Model):
    """Goods sent from one store to another (``catalog.transfers``). Created ``in_transit``: the
    stock left ``from_store`` at once (``transfer_out`` movements); received once, by someone at
    ``to_store``, with what arrived (``transfer_in``), a shortfall recorded as lost in transit
    (``transfer_loss``, naming the receiver). The two halves are two transactions by design."""

    class Status(models.TextChoices):
        IN_TRANSIT = "in_transit", "In transit"
        RECEIVED = "received", "Received"

    from_store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="transfers_out")
    to_store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="transfers_in")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.IN_TRANSIT)
    note = models.CharField(max_length=255, blank=True, default="")
    created_by = _user_field()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    received_by = _user_field()
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("receive_transfer", "Can receive goods transferred from another store")]
        indexes = [
            models.Index(fields=["from_store", "-id"], name="transfer_from_store"),
            models.Index(fields=["to_store", "-id"], name="transfer_to_store"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(from_store=F("to_store")), name="transfer_two_stores"),
            models.CheckConstraint(condition=Q(status__in=["in_transit", "received"]), name="transfer_status_valid"),
            models.CheckConstraint(
                condition=Q(status="in_transit", received_at__isnull=True, received_by__isnull=True)
                | Q(status="received", received_at__isnull=False),
                name="transfer_received_has_time",
            ),
        ]

    def __str__(self):
        return f"Transfer #{self.pk}"


class TransferLine(models.Model):
    """One product of a transfer: ``quantity`` sent; once received, ``received`` (0 to the quantity
    sent) and ``loss = quantity − received``, both null until then."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="transfer_lines")
    quantity = quantity_field()
    received = quantity_field(null=True, blank=True)
    loss = quantity_field(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "product"], name="transferline_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transferline_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(received__isnull=True, loss__isnull=True)
                | (
                    # NULL compares to nothing: both named, or a CHECK on NULL would pass.
                    Q(received__isnull=False, loss__isnull=False)
                    & Q(received__gte=0, received__lte=F("quantity"), loss__gte=0)
                    & _within("loss", F("quantity") - F("received"), "0.0005")
                ),
                name="transferline_received_within_sent",
            ),
        ]

    def __str__(self):
        return f"{quantity_text(self.quantity, self.product.unit)} × {self.product.name}"


class StockMovement(models.Model):
    """The stock ledger: every change of a product's stock, with what caused it. A product's stock
    is the sum of its movements, and ``balance_after`` is the stock right after this one
    (``manage.py stock_audit`` checks both). Rows are never changed."""

    class Kind(models.TextChoices):
        SALE = "sale", "Sale"
        REFUND_RESTOCK = "refund_restock", "Refund (restocked)"
        RECEIPT = "receipt", "Goods received"
        ADJUSTMENT = "adjustment", "Adjustment"
        COUNT = "count", "Stock count"
        IMPORT = "import", "Import"
        OPENING = "opening", "Opening"
        TRANSFER_OUT = "transfer_out", "Transfer out"
        TRANSFER_IN = "transfer_in", "Transfer in"
        TRANSFER_LOSS = "transfer_loss", "Lost in transit"

    # Indexed by ``stockmovement_store_product`` and ``stockmovement_product_id``, which lead with them.
    # The store of the stock row it moved (``StoreStock``, whose foreign key checks it is a store): no
    # constraint of its own; ``stock_audit`` reports a movement at no store, and a sale at another
    # store than its bill's (docs/architecture.md, "A row's store").
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="stock_movements", db_index=False, db_constraint=False
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_movements", db_index=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    quantity = quantity_field()  # signed
    balance_after = quantity_field()
    unit_cost = _cost_field(null=True, blank=True)
    purchase = models.ForeignKey(
        "purchases.Purchase", on_delete=models.PROTECT, null=True, blank=True, related_name="stock_movements"
    )
    # The documents below are null on most rows (a sale has none of them): each is indexed only
    # where it is set (``stockmovement_<document>``), so a bill's rows add nothing to those indexes.
    refund = models.ForeignKey(
        "purchases.Refund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_movements",
        db_index=False,
    )
    receipt = models.ForeignKey(
        Receipt, on_delete=models.PROTECT, null=True, blank=True, related_name="movements", db_index=False
    )
    adjustment = models.ForeignKey(
        Adjustment, on_delete=models.PROTECT, null=True, blank=True, related_name="movements", db_index=False
    )
    stock_count = models.ForeignKey(
        StockCount, on_delete=models.PROTECT, null=True, blank=True, related_name="movements", db_index=False
    )
    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="movements", db_index=False
    )
    reason = models.CharField(max_length=255, blank=True, default="")
    user = _user_field()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["product", "-id"], name="stockmovement_product_id"),
            models.Index(fields=["store", "product", "-id"], name="stockmovement_store_product"),
            *(
                models.Index(
                    fields=[document], name=f"stockmovement_{document}", condition=Q(**{f"{document}__isnull": False})
                )
                for document in ("refund", "receipt", "adjustment", "stock_count", "transfer")
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="stockmovement_balance_gte_0"),
            models.CheckConstraint(
                condition=~Q(quantity=0) | Q(kind__in=["opening", "import", "transfer_loss"]),
                name="stockmovement_quantity_not_0",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "sale",
                        "refund_restock",
                        "receipt",
                        "adjustment",
                        "count",
                        "import",
                        "opening",
                        "transfer_out",
                        "transfer_in",
                        "transfer_loss",
                    ]
                ),
                name="stockmovement_kind_valid",
            ),
            models.CheckConstraint(
                condition=(Q(kind="sale") & Q(purchase__isnull=False) & Q(quantity__lt=0))
                | (Q(kind="refund_restock") & Q(refund__isnull=False) & Q(quantity__gt=0))
                | (Q(kind="receipt") & Q(receipt__isnull=False) & Q(quantity__gt=0))
                | Q(kind="adjustment", adjustment__isnull=False)
                | Q(kind="count", stock_count__isnull=False)
                | (Q(kind="transfer_out") & Q(transfer__isnull=False) & Q(quantity__lt=0))
                | (Q(kind="transfer_in") & Q(transfer__isnull=False) & Q(quantity__gt=0))
                # Lost in transit: the stock left the source at dispatch, so the loss moves none.
                | Q(kind="transfer_loss", transfer__isnull=False, quantity=0)
                | Q(
                    kind__in=["import", "opening"],
                    purchase__isnull=True,
                    refund__isnull=True,
                    receipt__isnull=True,
                    adjustment__isnull=True,
                    stock_count__isnull=True,
                    transfer__isnull=True,
                ),
                name="stockmovement_reference",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.quantity} of product {self.product_id}"
