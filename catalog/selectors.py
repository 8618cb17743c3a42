from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from billing_project.core.errors import ValidationFailed
from billing_project.core.money import CENT
from billing_project.core.quantities import MILLI, ONE, PER_THOUSAND, Unit, round_quantity

from .barcodes import (
    ScaleLabel,
    barcode_forms,
    barcode_problem,
    looks_like_barcode,
    plu_forms,
    read_scale_label,
)
from .errors import UnknownCode
from .models import ZERO_STOCK, Product, ProductQuerySet, StockMovement, StorePrice, StoreStock, Transfer, TransferLine
from .stores import visible_store_ids


def product_list(
    *, search: str | None = None, is_active: bool | None = None, store: int | None = None
) -> QuerySet[Product]:
    """The catalogue; each product's ``stock`` is the sum over the stores, or ``store``'s alone."""
    qs = Product.objects.all() if store is None else Product.objects.with_stock(store)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(sku__icontains=search))
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs


def at_store(products: Iterable[Product], store_id: int | None) -> list[Product]:
    """The products as a store sells them: each one's ``stock`` is that store's (0 without a row)
    and its ``price`` its ``StorePrice`` there when it has one, as a bill at that store's tills
    takes them (``purchases.services.bill_statements.take_stock``). ``store_id`` None: unchanged.
    Two queries."""
    products = list(products)
    if store_id is None or not products:
        return products
    ids = {p.pk for p in products}
    stocks = dict(StoreStock.objects.filter(store_id=store_id, product_id__in=ids).values_list("product_id", "stock"))
    prices = dict(StorePrice.objects.filter(store_id=store_id, product_id__in=ids).values_list("product_id", "price"))
    for product in products:
        product.stock = stocks.get(product.pk, ZERO_STOCK)
        if product.pk in prices:
            product.price = prices[product.pk]
    return products


def as_sold_at(queryset: ProductQuerySet, store_id: int) -> ProductQuerySet:
    """``at_store`` in the products' own query: each one's ``stock`` at ``store_id`` (0 without a
    row) and ``store_price``, its ``StorePrice`` there (None without one); ``store_priced`` then
    makes that its ``price``. No query of its own, where ``at_store`` sends two."""
    own_price = StorePrice.objects.filter(store_id=store_id, product=OuterRef("pk")).values("price")[:1]
    return queryset.with_stock(store_id).annotate(store_price=Subquery(own_price))


def store_priced(products: list[Product]) -> list[Product]:
    """The products of an ``as_sold_at`` query, each one's ``price`` its store's own where it has one."""
    for product in products:
        own_price = getattr(product, "store_price", None)
        if own_price is not None:  # to the paisa as the column has it (SQLite reads 95.5)
            product.price = own_price.quantize(CENT)
    return products


def low_stock_threshold() -> int:
    return settings.LOW_STOCK_THRESHOLD


def low_stock_products(*, threshold: int | None = None, stores: int | list[int] | None = None) -> QuerySet[Product]:
    """Active products with stock below the threshold (LOW_STOCK_THRESHOLD), emptiest first. The
    stock is summed over ``stores``: every store (None), the stores listed, or one store (an id)."""
    threshold = low_stock_threshold() if threshold is None else threshold
    qs = Product.objects.active()
    if stores is not None:
        qs = qs.with_stock(stores)
    return qs.stock_below(threshold, stores).order_by("stock", "name", "id")


SALES_WINDOW_DAYS = 28


def reorder_suggestions(
    products: Iterable[Product], *, now: datetime | None = None, stores: int | list[int] | None = None
) -> dict[int, Decimal]:
    """How much to reorder of each product: its average daily sales over the last
    ``SALES_WINDOW_DAYS`` days (its ``sale`` movements; refunds do not lower it) × its
    ``lead_time_days``, less what is in stock, never below 0; rounded up to a whole number for a
    product sold ``each``, to the gram (3 places) for a measured one. The sales are those of
    ``stores`` (every store, the stores listed, or one), as the products' ``stock`` is. One query."""
    products = list(products)
    since = (now or timezone.now()) - timedelta(days=SALES_WINDOW_DAYS)
    sales = StockMovement.objects.filter(
        product_id__in=[p.pk for p in products], kind=StockMovement.Kind.SALE, created_at__gte=since
    )
    if isinstance(stores, int):
        sales = sales.filter(store_id=stores)
    elif stores is not None:
        sales = sales.filter(store_id__in=stores)
    sold = dict(sales.order_by().values("product_id").annotate(sold=Sum("quantity")).values_list("product_id", "sold"))
    suggestions = {}
    for product in products:
        daily = -Decimal(sold.get(product.pk) or 0) / SALES_WINDOW_DAYS
        need = max(Decimal(0), daily * product.lead_time_days - product.stock)
        step = Decimal(1) if product.unit == Unit.EACH else MILLI
        suggestions[product.pk] = need.quantize(step, rounding=ROUND_CEILING)
    return suggestions


# --- Scanning ---------------------------------------------------------------------------------------

MAX_PRODUCT_ID = 2**63 - 1
CODE_MAX_LENGTH = 64


@dataclass(frozen=True)
class CodeMatch:
    """What a scanned or typed code names: the product, the quantity it stands for (1 of it, or a
    scale label's weight or price as a quantity in the product's unit) and how it was found
    (``barcode``, ``scale_label``, ``sku`` or ``id``)."""

    product: Product
    quantity: Decimal
    found_by: str


def product_for_code(*, code: str) -> CodeMatch:
    """Resolve what a scanner (or a cashier) sends, in this order: a product's barcode (a UPC-A in
    either its 12- or 13-digit form), one of the store's scale labels (``SCALE_BARCODE_FORMAT``),
    a SKU (exact, then ignoring case), a product id.

    A scale label's weight (grams) is a quantity in the product's unit: 750 g is ``0.750`` of a
    ``kg`` product and ``750.000`` of a ``g`` one (``l``, ``ml`` and ``m`` likewise, a thousandth of
    an ``l`` or ``m``). A price label's quantity is the price ÷ the product's price, rounded half-up
    to 3 places; the bill then charges price × that quantity, rounded to the paisa, which can differ
    from the printed price by up to half a thousandth of the unit price.

    Refuses with ``ValidationFailed`` a code with a bad check digit (a scale label's, or an 8-, 12-
    or 13-digit code that is no SKU or id), a scale label for a product sold ``each`` or weighing
    nothing; with ``UnknownCode`` (404 ``product_not_found``) a code no product has. Archived
    products are found too: ringing them up is refused by the bill."""
    code = code.strip()
    if not code or len(code) > CODE_MAX_LENGTH:
        problem = "Scan or type a barcode, a scale label, a SKU or a product id."
        raise ValidationFailed(problem, details={"code": [problem]})
    barcode_like = looks_like_barcode(code)
    if barcode_like:
        product = Product.objects.filter(barcode__in=barcode_forms(code)).order_by("pk").first()
        if product is not None:
            return CodeMatch(product=product, quantity=ONE, found_by="barcode")
        label = read_scale_label(code)
        if label is not None:
            _check_digit(code)
            return _scale_match(code, label)
    product = (
        Product.objects.filter(sku=code).first() or Product.objects.filter(sku__iexact=code).order_by("pk").first()
    )
    if product is not None:
        return CodeMatch(product=product, quantity=ONE, found_by="sku")
    if code.isascii() and code.isdigit() and 0 < int(code) <= MAX_PRODUCT_ID:
        product = Product.objects.filter(pk=int(code)).first()
        if product is not None:
            return CodeMatch(product=product, quantity=ONE, found_by="id")
    if barcode_like:
        _check_digit(code)
    raise UnknownCode(f"No product has the code {code}.", details={"code": code})


def _check_digit(code: str) -> None:
    problem = barcode_problem(code)
    if problem:
        raise ValidationFailed(f"{code}: {problem}", details={"code": [problem]})


def _scale_match(code: str, label: ScaleLabel) -> CodeMatch:
    product = Product.objects.filter(plu__in=plu_forms(label.plu)).first()
    if product is None:
        plu = label.plu.lstrip("0") or "0"
        raise UnknownCode(f"No product has PLU {plu} (scale label {code}).", details={"code": code, "plu": plu})
    if product.unit == Unit.EACH:
        problem = f"{product.name} is sold each; a scale label is for goods sold by weight or measure."
        raise ValidationFailed(problem, details={"code": [problem]})
    if label.grams is not None:
        grams = Decimal(label.grams)
        quantity = grams / 1000 if product.unit in PER_THOUSAND else grams
    else:
        assert label.price is not None
        quantity = round_quantity(label.price / product.price)
    if quantity <= 0:
        problem = "The label gives no quantity (0 g, or a price below a thousandth of the product's)."
        raise ValidationFailed(problem, details={"code": [problem]})
    return CodeMatch(product=product, quantity=quantity.quantize(MILLI), found_by="scale_label")


def transfer_list(*, user, status: str | None = None, store: int | None = None) -> QuerySet[Transfer]:
    """The transfers ``user`` sees (those from or to a store they see: ``catalog.stores``), newest
    first, with their lines and products; ``status`` and ``store`` (from or to it) narrow them."""
    qs = Transfer.objects.select_related("from_store", "to_store").prefetch_related(
        Prefetch("lines", queryset=TransferLine.objects.select_related("product").order_by("id"))
    )
    ids = visible_store_ids(user)
    if ids is not None:
        qs = qs.filter(Q(from_store__in=ids) | Q(to_store__in=ids))
    if status is not None:
        qs = qs.filter(status=status)
    if store is not None:
        qs = qs.filter(Q(from_store=store) | Q(to_store=store))
    return qs.order_by("-created_at", "-id")
