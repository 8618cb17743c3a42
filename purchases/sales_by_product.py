"""The sales report by product (``sales_report(group_by="product")``): a row per product sold, up to
a supermarket's 50,000, each shaped once.

The rollup's rows come in one of two forms (``sales_rollup_reads``):

- ``PRODUCT_ROW`` tuples, their amounts already the exact 2-place text the API writes (on
  PostgreSQL), with the product's name and unit. The bills and refunds past the rollup's seal (or
  every bill and refund, when the report reads no rollup) are collected as Decimal sums
  (``sales_report.COLLECTORS``) and added to their product's row (``added``), rounded as
  ``sales_report._finish`` rounds them. Then the rows are put in the report's order, best first
  (``net_after_refunds``, then the product's id), with Decimal amounts (``presented``), as
  ``sales_report`` returns every grouping's rows (the CSV, the dashboard's best sellers).
- For the API (``as_json=True``), ``WRITTEN_ROW`` tuples: each row written by PostgreSQL as
  ``SalesReportRowSerializer`` writes it. ``written`` puts them in the report's order and joins them
  into the answer's array; a row with sums past the seal is read back, added to and written again, and
  a row from another database is written here (``test_sales_by_product`` proves the API's rows are the
  serializer's, byte for byte).
"""

import heapq
from collections.abc import Callable, Iterable
from decimal import Decimal
from operator import itemgetter
from typing import Any

import orjson

from billing_project.core.api.renderers import WrittenJSON
from billing_project.core.db.scaled import from_units, to_units
from billing_project.core.money import money
from billing_project.core.quantities import Unit

from .sales_rollup_reads import (
    BILLS,
    GROSS,
    NAME,
    ORDER,
    PRODUCT_AMOUNTS,
    PRODUCT_ID,
    PRODUCT_ROW,
    REFUNDED,
    UNSHOWN,
    WRITTEN_JSON,
    WRITTEN_ROW,
    product_names,
    thousandths,
)

# ``PRODUCT_ROW``'s places (sales_rollup_reads); the amounts start at GROSS.
QUANTITY, UNIT = PRODUCT_ROW.index("quantity"), PRODUCT_ROW.index("unit")
WRITTEN_ORDER, WRITTEN_PIECES, WRITTEN_REFUNDED = (
    WRITTEN_ROW.index(name) for name in ("order", "pieces", "refunded_pieces")
)
# The amounts of a ``PRODUCT_ROW``, in its order, as the collected sums name them.
COLLECTED_AMOUNTS = ("gross", "discounts", "net_sales", "refunds", "tax", "cost", "_taxable", "taxable")


def added(rows: dict[Any, tuple], collected: dict[Any, dict]) -> dict[Any, tuple]:
    """``rows`` (``PRODUCT_ROW`` tuples by product id, from the rollup), changed in place: the sums of
    ``collected`` (collected rows by product id) added to their product's row; a product only in
    ``collected`` gets a row, with the product's current name and unit."""
    return _with_collected(rows, collected, lambda row: (_sums(row), row[NAME], row[UNIT]), lambda row: row)


def _with_collected(
    rows: dict[Any, tuple],
    collected: dict[Any, dict],
    read: Callable[[tuple], tuple[dict[str, Any], str, str]],
    shape: Callable[[tuple], tuple],
) -> dict[Any, tuple]:
    """``rows`` changed in place: each product of ``collected`` gets the row ``shape`` makes of its
    ``product_row``, of its collected sums plus its row's, which ``read`` gives with its name and unit
    (a product without a row: its current name and unit)."""
    names = product_names([pk for pk in collected if pk is not None and pk not in rows])
    for product_id, sums in collected.items():
        row = rows.get(product_id)
        if row is None:
            name, unit = names.get(product_id, ("", Unit.EACH))
        else:
            were, name, unit = read(row)
            sums = _plus(were, sums)
        rows[product_id] = shape(product_row(product_id, sums, name, unit))
    return rows


def product_row(product_id: Any, sums: dict[str, Any], name: str, unit: str) -> tuple:
    """A ``PRODUCT_ROW`` of collected sums: each amount rounded to the paisa as ``_finish`` rounds it,
    ``net_after_refunds`` and ``margin`` worked out from them, the quantities in thousandths."""
    gross, discounts, net_sales, refunds, tax, cost, sold, taxable = (money(sums[f] or 0) for f in COLLECTED_AMOUNTS)
    net_after_refunds, margin = net_sales - refunds, sold - cost
    amounts = zip(
        PRODUCT_AMOUNTS,
        (gross, discounts, net_sales, refunds, tax, cost, sold, taxable, net_after_refunds, margin),
        strict=True,
    )
    return (
        "r",
        product_id,
        sums["bills"],
        # As ``_read_products`` reads them: the amounts shown as their text, the others in whole paise.
        *(to_units(amount, 2) if field in UNSHOWN else str(amount) for field, amount in amounts),
        thousandths(sums["quantity"]),
        thousandths(sums["refunded_quantity"]),
        to_units(net_after_refunds, 2),
        name,
        unit,
    )


def presented(rows: dict[Any, tuple], *, best: int | None = None) -> list[dict]:
    """The rows in the report's order (only the first ``best``, when given), each as a dict with
    Decimal amounts."""
    ordered: Iterable[tuple]
    if best is None:
        ordered = sorted(rows.values(), key=_report_order)
    else:
        ordered = heapq.nsmallest(best, rows.values(), key=_report_order)
    return [_decimal_row(row) for row in ordered]


def written(rows: dict[Any, tuple], collected: dict[Any, dict]) -> tuple[WrittenJSON, dict[str, int]]:
    """The report's rows as the API writes them, one JSON array in the report's order, and the pieces
    sold and refunded in all (the totals' quantities, which count the products sold ``each``).

    ``rows``: by product id, ``WRITTEN_ROW`` tuples written by PostgreSQL, or ``PRODUCT_ROW`` tuples
    (another database), written here. ``collected``: the sums past the seal (or every sum, when nothing
    is read from the rollup), added to their product's row, which is written again (``rows`` is
    changed in place)."""
    shown = rows
    first = next(iter(rows.values()), None)
    if first is not None and first[0] != "w":  # the rows of one read are all of one form
        shown = {pk: _written(row) for pk, row in rows.items()}
    if collected:
        _with_collected(shown, collected, _written_sums, _written)
    # The report's order (``_report_order``) in two stable sorts, each by one plain key: a third of the
    # time of one sort by a key made for each row.
    ordered = sorted(shown.values(), key=_product_id)
    ordered.sort(key=itemgetter(WRITTEN_ORDER), reverse=True)
    text = "[" + ",".join(map(itemgetter(WRITTEN_JSON), ordered)) + "]"
    pieces = {
        "quantity": sum(map(itemgetter(WRITTEN_PIECES), ordered)),
        "refunded_quantity": sum(map(itemgetter(WRITTEN_REFUNDED), ordered)),
    }
    return WrittenJSON(text), pieces


def _written(row: tuple) -> tuple:
    """A ``PRODUCT_ROW`` as a ``WRITTEN_ROW``: its JSON as orjson writes the row's ``_json_row``."""
    each = (row[UNIT] or Unit.EACH) == Unit.EACH
    return (
        "w",
        row[PRODUCT_ID],
        row[ORDER],
        row[QUANTITY] // 1000 if each else 0,
        row[REFUNDED] // 1000 if each else 0,
        orjson.dumps(_json_row(row)).decode(),
    )


def _written_sums(row: tuple) -> tuple[dict[str, Any], str, str]:
    """A ``WRITTEN_ROW``'s sums as a collected row names them (``COLLECTED_AMOUNTS``), its product's
    name and unit: read back from its JSON. The goods' taxable value is the margin plus the cost; the
    lines' taxable value, which no row by product shows, is not written and is read as nought."""
    shown = orjson.loads(row[WRITTEN_JSON])
    amounts = {name: Decimal(shown[name]) for name in COLLECTED_AMOUNTS[:6]}
    return (
        {
            "bills": shown["bills"],
            **amounts,
            "_taxable": Decimal(shown["margin"]) + amounts["cost"],
            "taxable": Decimal("0.00"),
            "quantity": Decimal(str(shown["quantity"])),
            "refunded_quantity": Decimal(str(shown["refunded_quantity"])),
        },
        shown["product_name"],
        shown["unit"],
    )


def _report_order(row: tuple) -> tuple:
    """Best first: ``net_after_refunds``, then the product's id (a line of no product first)."""
    return (-row[ORDER], _product_id(row))


def _product_id(row: tuple) -> int:
    """A row's product id, 0 for a line of no product (the same place in ``PRODUCT_ROW`` and
    ``WRITTEN_ROW``)."""
    return row[PRODUCT_ID] or 0


def _json_row(row: tuple) -> dict[str, Any]:
    """As ``SalesReportRowSerializer`` writes a row by product: the figures, then the product."""
    _, product_id, bills, gross, discounts, net_sales, refunds, tax, cost, _, _, net_after, margin, *rest = row
    quantity, refunded, _, name, unit = rest
    if type(gross) is not str:  # whole paise, from a database other than PostgreSQL
        amounts = (gross, discounts, net_sales, refunds, tax, cost, net_after, margin)
        gross, discounts, net_sales, refunds, tax, cost, net_after, margin = (str(_decimal(a)) for a in amounts)
    unit = unit or Unit.EACH
    return {
        "bills": bills,
        "gross": gross,
        "discounts": discounts,
        "net_sales": net_sales,
        "refunds": refunds,
        "net_after_refunds": net_after,
        "tax": tax,
        "cost": cost,
        "margin": margin,
        "product_id": product_id,
        "product_name": name or "",
        "quantity": _quantity_json(quantity, unit),
        "refunded_quantity": _quantity_json(refunded, unit),
        "unit": unit,
    }


def _decimal_row(row: tuple) -> dict[str, Any]:
    """A row by product as ``sales_report`` returns it: the product, then the figures as Decimals."""
    _, product_id, bills, gross, discounts, net_sales, refunds, tax, cost, _, _, net_after, margin, *rest = row
    quantity, refunded, _, name, unit = rest
    unit = unit or Unit.EACH
    return {
        "product_id": product_id,
        "product_name": name or "",
        "bills": bills,
        "gross": _decimal(gross),
        "discounts": _decimal(discounts),
        "net_sales": _decimal(net_sales),
        "refunds": _decimal(refunds),
        "net_after_refunds": _decimal(net_after),
        "tax": _decimal(tax),
        "cost": _decimal(cost),
        "margin": _decimal(margin),
        "quantity": _quantity_json(quantity, unit),
        "refunded_quantity": _quantity_json(refunded, unit),
        "unit": unit,
    }


def _quantity_json(thousandths: int, unit: str) -> int | str:
    """``quantities.quantity_json`` of a quantity in thousandths (never negative): ``2``, ``"1.250"``."""
    if unit == Unit.EACH:
        return thousandths // 1000
    return f"{thousandths // 1000}.{thousandths % 1000:03d}"


def _decimal(amount: str | int) -> Decimal:
    """A ``PRODUCT_ROW``'s amount as a 2-place Decimal: its text, or its whole paise."""
    return Decimal(amount) if type(amount) is str else from_units(amount, 2)


def _sums(row: tuple) -> dict[str, Any]:
    """A ``PRODUCT_ROW``'s sums as a collected row names them (``COLLECTED_AMOUNTS``)."""
    amounts = row[GROSS : GROSS + len(COLLECTED_AMOUNTS)]
    return {
        "bills": row[BILLS],
        **{name: _decimal(amount) for name, amount in zip(COLLECTED_AMOUNTS, amounts, strict=True)},
        "quantity": from_units(row[QUANTITY], 3),
        "refunded_quantity": from_units(row[REFUNDED], 3),
    }


def _plus(sums: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    return {name: value + (more.get(name) or 0) for name, value in sums.items()}
