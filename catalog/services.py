import logging
import re
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_project.core.db import atomic_write
from billing_project.core.errors import ValidationFailed
from billing_project.core.money import format_money
from billing_project.core.quantities import UNITS, Unit, parse_quantity, quantity_problem

from .barcodes import PLU_PATTERN, barcode_forms, barcode_problem
from .errors import PriceAboveMrp
from .lock_objects import product_for_update
from .models import Product, StorePrice, StoreStock
from .stock import opening_movement, stock_store

logger = logging.getLogger("billing.catalog")

_EDITABLE = (
    "sku",
    "name",
    "price",
    "mrp",
    "tax_percent",
    "hsn_code",
    "is_active",
    "unit",
    "barcode",
    "plu",
    "lead_time_days",
)
STOCK_READ_ONLY = "Stock changes only through the stock ledger: record an adjustment (POST /api/v1/adjustments)."
_PLU = re.compile(PLU_PATTERN)


def _normalize_sku(sku: str | None) -> str | None:
    sku = (sku or "").strip()
    return sku or None


def _check_sku_free(sku: str | None, *, exclude_pk: int | None = None) -> None:
    others = Product.objects.exclude(pk=exclude_pk) if exclude_pk is not None else Product.objects.all()
    if sku and others.filter(sku=sku).exists():
        raise ValidationFailed(
            "That SKU is already used.", details={"sku": ["A product with this SKU already exists."]}
        )


def check_price_within_mrp(*, price: Decimal, mrp: Decimal | None) -> None:
    """The price may not be above the MRP printed on the pack (``price_above_mrp``); the CHECK
    constraint ``product_price_lte_mrp`` backs this up."""
    if mrp is not None and price > mrp:
        raise PriceAboveMrp(
            f"The price {format_money(price)} is above the MRP {format_money(mrp)}.",
            details={"price": f"{price:.2f}", "mrp": f"{mrp:.2f}"},
        )


def _normalize_code(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check_barcode(barcode: str | None, *, exclude_pk: int | None = None) -> None:
    """A barcode is an EAN-13, EAN-8 or UPC-A with a valid check digit, used by no other product
    (a UPC-A and its EAN-13 form, with a leading 0, are the same code)."""
    if barcode is None:
        return
    problem = barcode_problem(barcode)
    if problem:
        raise ValidationFailed(problem, details={"barcode": [problem]})
    others = Product.objects.exclude(pk=exclude_pk) if exclude_pk is not None else Product.objects.all()
    if others.filter(barcode__in=barcode_forms(barcode)).exists():
        raise ValidationFailed(
            "That barcode is already used.", details={"barcode": ["A product with this barcode already exists."]}
        )


def _check_plu(plu: str | None, *, exclude_pk: int | None = None) -> None:
    if plu is None:
        return
    if not _PLU.fullmatch(plu):
        problem = "A PLU is 1 to 8 digits, without a leading zero."
        raise ValidationFailed(problem, details={"plu": [problem]})
    others = Product.objects.exclude(pk=exclude_pk) if exclude_pk is not None else Product.objects.all()
    if others.filter(plu=plu).exists():
        raise ValidationFailed(
            "That PLU is already used.", details={"plu": ["A product with this PLU already exists."]}
        )


def _check_stock(stock, unit: str) -> Decimal:
    """The stock as stored: whole for ``each``, to 3 places for a measure, not below 0."""
    if unit not in UNITS:
        raise ValidationFailed(f"Unknown unit {unit!r}.", details={"unit": [f"One of {', '.join(Unit.values)}."]})
    quantity = parse_quantity(stock)
    problem = "A number is required." if quantity is None else quantity_problem(quantity, unit, allow_zero=True)
    if problem:
        raise ValidationFailed(f"Stock: {problem}", details={"stock": [problem]})
    assert quantity is not None
    return quantity


def _save(product: Product) -> Product:
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        # A concurrent writer took the SKU, the barcode or the PLU between the check and the write.
        others = Product.objects.exclude(pk=product.pk) if product.pk is not None else Product.objects.all()
        if product.barcode and others.filter(barcode=product.barcode).exists():
            raise ValidationFailed(
                "That barcode is already used.", details={"barcode": ["A product with this barcode already exists."]}
            ) from None
        if product.plu and others.filter(plu=product.plu).exists():
            raise ValidationFailed(
                "That PLU is already used.", details={"plu": ["A product with this PLU already exists."]}
            ) from None
        raise ValidationFailed(
            "That SKU is already used.", details={"sku": ["A product with this SKU already exists."]}
        ) from None
    return product


@atomic_write()
def product_create(
    *,
    name: str,
    price: Decimal,
    tax_percent: Decimal = Decimal("0"),
    stock: int | Decimal = 0,
    sku: str | None = None,
    is_active: bool = True,
    hsn_code: str = "",
    mrp: Decimal | None = None,
    unit: str = Unit.EACH,
    barcode: str | None = None,
    plu: str | None = None,
    lead_time_days: int = 7,
    user=None,
    opening_kind: str = "opening",
    store=None,
) -> Product:
    """A new product, with its first stock ledger row: an ``opening`` movement of its stock (also
    of 0: every product's ledger starts with one; ``import`` for the stock import). ``unit`` is
    ``each`` (whole quantities) or a measure (``kg``, ``g``, ``l``, ``ml``, ``m``: up to 3 decimal
    places); ``stock`` must suit it. ``barcode`` (EAN-13, EAN-8 or UPC-A, check digit valid) and
    ``plu`` (the scales' number: digits without a leading zero) are optional and unique, as the
    SKU is. The price may not be above the MRP (``price_above_mrp``); other refusals are
    ``ValidationFailed``. The stock is at ``store`` (an id; default: the default store;
    ``store_not_found`` for an unknown or inactive one); the other stores have none of it."""
    check_price_within_mrp(price=price, mrp=mrp)
    store_id = stock_store(store)
    sku = _normalize_sku(sku)
    barcode, plu = _normalize_code(barcode), _normalize_code(plu)
    stock = _check_stock(stock, unit)
    _check_sku_free(sku)
    _check_barcode(barcode)
    _check_plu(plu)
    new = Product(
        sku=sku,
        name=name.strip(),
        price=price,
        mrp=mrp,
        tax_percent=tax_percent,
        unit=unit,
        is_active=is_active,
        hsn_code=hsn_code,
        barcode=barcode,
        plu=plu,
        lead_time_days=lead_time_days,
    )
    new.stock = stock  # not a column: its opening movement puts it at the store
    product = _save(new)
    opening_movement(product, kind=opening_kind, user=user, store=store_id)
    logger.info("product %s created: sku=%s price=%s mrp=%s stock=%s", product.pk, sku, price, mrp, stock)
    return product


@atomic_write()
def product_update(*, product: Product, **fields) -> Product:
    """Change catalogue fields. Bills keep their own snapshot, so past bills are unaffected. The
    rules of ``product_create`` hold; the unit cannot change once the product has been sold. A price
    or MRP change is checked against the other as it stands under the row lock."""
    if "stock" in fields:
        raise ValidationFailed(STOCK_READ_ONLY, details={"stock": [STOCK_READ_ONLY]})
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    if "sku" in fields:
        fields["sku"] = _normalize_sku(fields["sku"])
        _check_sku_free(fields["sku"], exclude_pk=product.pk)
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    for code in ("barcode", "plu"):
        if code in fields:
            fields[code] = _normalize_code(fields[code])
    if fields.get("barcode") is not None:
        _check_barcode(fields["barcode"], exclude_pk=product.pk)
    if fields.get("plu") is not None:
        _check_plu(fields["plu"], exclude_pk=product.pk)
    # Re-read under a row lock so a concurrent bill's stock decrement is not overwritten.
    locked = product_for_update(product.pk).get()
    unit = fields.get("unit", locked.unit)
    if unit != locked.unit and locked.purchase_items.exists():
        # Its bill lines keep their own unit, but its stock, refunds and reports are in one unit.
        problem = f"It has been sold by {locked.unit}; a product's unit cannot change once it has been sold."
        raise ValidationFailed(problem, details={"unit": [problem]})
    if "unit" in fields:
        for stock in StoreStock.objects.filter(product_id=locked.pk).values_list("stock", flat=True):
            _check_stock(stock, unit)
    for name, value in fields.items():
        setattr(locked, name, value)
    check_price_within_mrp(price=locked.price, mrp=locked.mrp)
    if "mrp" in fields and locked.mrp is not None:
        # A store's own price may not be above the MRP either (``store_price_set``, under this lock).
        above = StorePrice.objects.filter(product_id=locked.pk, price__gt=locked.mrp).order_by("price").last()
        if above is not None:
            check_price_within_mrp(price=above.price, mrp=locked.mrp)
    _save(locked)
    logger.info("product %s updated: %s", locked.pk, ", ".join(sorted(fields)))
    return locked


@atomic_write()
def product_delete(*, product: Product) -> bool:
    """Delete a product, or archive it when a bill references it, since history is never changed.

    Locks the product's row (``FOR NO KEY UPDATE``, as goods received do), then its stock rows at
    every store, as a bill locks them (``catalog.lock_objects``): a bill selling it either
    committed before (its line is then seen, and the product is archived) or waits and then finds
    the product gone (``product_not_found``). Without the locks, the bill's line committed between
    the check and the DELETE, and the DELETE failed on its foreign key at COMMIT.

    Returns True when the row was deleted (or already was, by a concurrent delete), False when it
    was archived instead. Raises ``Busy`` when the lock is not had in time."""
    pk = product.pk
    locked = product_for_update(pk).first()
    if locked is None:
        logger.info("product %s already deleted", pk)
        return True
    list(StoreStock.objects.select_for_update(of=("self",)).filter(product_id=pk).order_by("store_id"))
    # A fresh statement after the lock: sees committed bills. A product whose ledger has more than
    # its first row (goods received, adjusted, counted, sold) keeps its history: archived.
    if locked.purchase_items.exists() or locked.stock_movements.exclude(kind__in=["opening", "import"]).exists():
        product_set_active(product=locked, is_active=False)
        product.is_active = False
        return False
    locked.delete()
    logger.info("product %s deleted", pk)
    return True


@atomic_write()
def product_set_active(*, product: Product, is_active: bool) -> Product:
    Product.objects.filter(pk=product.pk).update(is_active=is_active)
    product.refresh_from_db()
    logger.info("product %s %s", product.pk, "unarchived" if is_active else "archived")
    return product


# --- Store prices ------------------------------------------------------------------------------


@atomic_write()
def store_price_set(*, product: Product, store, price: Decimal) -> StorePrice:
    """Set ``product``'s own price at ``store`` (an id): bills at that store's tills charge it.
    Above 0 (``ValidationFailed``), not above the product's MRP (``price_above_mrp``, checked under
    the product's lock, as ``product_update`` checks an MRP change against the store prices), at a
    store that exists and is active (``store_not_found``)."""
    store_id = stock_store(store)
    if not price.is_finite() or price <= 0 or price != price.quantize(Decimal("0.01")) or price >= 10**10:
        raise ValidationFailed("A price above 0, to the paisa.", details={"price": ["Must be above 0, to the paisa."]})
    locked = product_for_update(product.pk).get()
    check_price_within_mrp(price=price, mrp=locked.mrp)
    row, _ = StorePrice.objects.update_or_create(
        store_id=store_id, product_id=locked.pk, defaults={"price": price, "updated_at": timezone.now()}
    )
    logger.info("product %s priced %s at store %s", locked.pk, price, store_id)
    return row


@atomic_write()
def store_price_delete(*, product: Product, store: int) -> bool:
    """Remove ``product``'s own price at ``store``: its bills there charge the product's price
    again. True when there was one."""
    deleted, _ = StorePrice.objects.filter(store_id=store, product_id=product.pk).delete()
    if deleted:
        logger.info("product %s: store %s's own price removed", product.pk, store)
    return bool(deleted)
