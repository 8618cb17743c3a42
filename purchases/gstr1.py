"""GSTR-1, the return of outward supplies, for a month or a quarter (docs/gst.md).

Built from what the bills and refunds stored when they were made (the lines' HSN codes, rates and
tax heads, the bills' buyers and places of supply), never from the catalogue or the customers as
they are now. The JSON has the structure and the key names of the GST portal's offline tool; the
CSV sections lay out its templates.

Sections (the period's bills and the refunds made in it, each by its own local day):

- ``b2b``: the B2B bills, by buyer's GSTIN, one ``itms`` entry per rate;
- ``b2cl``: inter-state B2C bills whose invoice value (what was payable) is above ``B2CL_LIMIT``;
- ``b2cs``: every other B2C bill, one row per place of supply and rate, net of the credit notes of
  such bills (a refund in the period of a bill of an earlier period included);
- ``cdnr``: the credit notes of B2B bills; ``cdnur``: those of B2CL bills;
- ``hsn``: by HSN code, unit and rate, net of credit notes: ``hsn_b2b`` (b2b and cdnr) and
  ``hsn_b2c`` (b2cs, b2cl and cdnur);
- ``doc_issue``: the invoice and credit note series used in the period.

A refund's tax splits as its bill's did: CGST + SGST (``core.gst.split_tax``) for an intra-state
bill, IGST for an inter-state one. So, to the paisa, the taxable values of b2b + b2cl + b2cs −
cdnr − cdnur are the sales report's ``net_after_refunds − tax`` for the period (its bills' subtotal
less its refunds'), and each tax head adds up the same way.
"""

import calendar
import csv
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Case, Count, Max, Min, Q, Sum, Value, When
from django.db.models.functions import Left, Length
from django.http import HttpResponse
from django.utils import timezone

from billing_project.core import gst
from billing_project.core.db_router import reporting_reads
from billing_project.core.errors import ValidationFailed
from billing_project.core.money import money
from billing_project.core.quantities import Unit
from billing_project.core.validators import validate_gstin
from catalog.models import Store
from catalog.stores import store_filter

from .models import SEQUENCE_DIGITS, Purchase, PurchaseItem, Refund, RefundLine, SupplyType
from .reports import _text
from .sales_report import _bounds as day_bounds
from .sales_report import bound_report

ZERO = Decimal("0.00")
# An inter-state B2C invoice above this value is reported invoice by invoice (b2cl): ₹1,00,000 since
# August 2024 (it was ₹2,50,000).
B2CL_LIMIT = Decimal("100000.00")
# The portal's unit quantity codes, and their CSV spelling.
UQC = {Unit.EACH: "NOS", Unit.KG: "KGS", Unit.G: "GMS", Unit.L: "LTR", Unit.ML: "MLT", Unit.M: "MTR"}
UQC_NAMES = {
    "NOS": "NUMBERS",
    "KGS": "KILOGRAMS",
    "GMS": "GRAMMES",
    "LTR": "LITRES",
    "MLT": "MILILITRE",
    "MTR": "METERS",
}
HEADS = ("txval", "iamt", "camt", "samt")
SECTIONS = ("b2b", "b2cs", "b2cl", "cdnr", "cdnur", "hsn", "hsn_b2b", "hsn_b2c", "docs")

_PERIOD = re.compile(r"^(?P<year>[0-9]{4})-(?:(?P<month>[0-9]{2})|Q(?P<quarter>[0-9]))$")


@dataclass(frozen=True)
class Period:
    """A return period: its first and last day, and ``fp`` (``MMYYYY`` of its last month)."""

    text: str
    first: date
    last: date

    @property
    def fp(self) -> str:
        return f"{self.last:%m%Y}"


def gstr1_period(text: str | None) -> Period:
    """``2026-11`` (a month) or ``2026-Q3`` (a quarter of the financial year starting in 2026, with
    ``FINANCIAL_YEAR_START_MONTH`` April: Q1 April–June … Q3 October–December, Q4 January–March of
    2027). ``ValidationFailed`` for anything else."""
    found = _PERIOD.match(text or "")
    problem = "Give period as YYYY-MM (a month) or YYYY-Qn (a quarter of the financial year, n = 1 to 4)."
    if found is None:
        raise ValidationFailed(problem, details={"period": [problem]})
    year = int(found["year"])
    if found["month"] is not None:
        month = int(found["month"])
        if not 1 <= month <= 12 or year < 2017:
            raise ValidationFailed(problem, details={"period": [problem]})
        first_month, months = (year, month), 1
    else:
        quarter = int(found["quarter"])
        if not 1 <= quarter <= 4 or year < 2017:
            raise ValidationFailed(problem, details={"period": [problem]})
        start = settings.FINANCIAL_YEAR_START_MONTH - 1 + 3 * (quarter - 1)
        first_month, months = (year + start // 12, start % 12 + 1), 3
    end = first_month[1] - 1 + months - 1
    last_year, last_month = first_month[0] + end // 12, end % 12 + 1
    return Period(
        text=text or "",
        first=date(first_month[0], first_month[1], 1),
        last=date(last_year, last_month, calendar.monthrange(last_year, last_month)[1]),
    )


def _bounds(period: Period) -> tuple[datetime, datetime]:
    return day_bounds(period.first, period.last)


def _inter(*, igst_total: Decimal, tax_total: Decimal, pos: str | None, store: str | None) -> bool:
    """A bill's supply is inter-state: its tax went to IGST (a bill without tax: its place of supply
    is another state than the store's). As ``documents.content.is_inter_state``."""
    if igst_total and money(igst_total) > 0:
        return True
    if tax_total and money(tax_total) > 0:
        return False
    return bool(pos and store and pos != store)


def _is_b2cl(*, supply_type: str, inter: bool, payable: Decimal) -> bool:
    return supply_type == SupplyType.B2C and inter and money(payable) > B2CL_LIMIT


def _heads() -> dict[str, Decimal]:
    return dict.fromkeys(HEADS, ZERO)


def _add(into: dict[str, Any], txval, iamt, camt, samt, sign: int = 1) -> None:
    into["txval"] += sign * money(txval or ZERO)
    into["iamt"] += sign * money(iamt or ZERO)
    into["camt"] += sign * money(camt or ZERO)
    into["samt"] += sign * money(samt or ZERO)


def _itm_det(rate: Decimal, heads: dict[str, Decimal]) -> dict[str, Any]:
    return {
        "rt": rate,
        "txval": heads["txval"],
        "iamt": heads["iamt"],
        "camt": heads["camt"],
        "samt": heads["samt"],
        "csamt": ZERO,
    }


def _itms(by_rate: dict[Decimal, dict[str, Decimal]]) -> list[dict]:
    return [{"num": n, "itm_det": _itm_det(rate, by_rate[rate])} for n, rate in enumerate(sorted(by_rate), start=1)]


def _date(value: datetime) -> str:
    return f"{timezone.localtime(value):%d-%m-%Y}"


def gstr1(*, period: str, gstin: str | None = None, store_ids: list[int] | None = None) -> dict[str, Any]:
    """The GSTR-1 of ``period`` (``gstr1_period``) for one GSTIN, as the portal's JSON, amounts as
    2-place Decimals and rates as Decimals (``gstr1_json`` writes them as numbers).

    A return is per GSTIN: it holds the bills that carried ``gstin`` as their seller's when they were
    rung up (``Purchase.seller_gstin``), so the stores that share a GSTIN are filed together, and
    the refunds of those bills. ``gstin`` omitted: the default store's. A GSTIN that no store has and
    no bill of the period carried is a ``ValidationFailed`` (``gstr1_gstin``). ``store_ids``: of those
    stores' bills only (``None``: every store), for a user who sees only their stores."""
    span = gstr1_period(period)
    start, end = _bounds(span)
    with reporting_reads() as alias, transaction.atomic(using=alias):
        # A month of a chain's bills: the memory to read them through a bitmap of their date's index
        # and to hash the lines' sums rather than sort them on disk (bench/RESULTS.md).
        bound_report(alias, work_mem=True)
        gstin, store = gstr1_gstin(gstin, start=start, end=end)
        bills = Purchase.objects.filter(created_at__gte=start, created_at__lt=end, seller_gstin=gstin)
        # A line carries its bill's created_at; the bills' own range too lets the join read the
        # period's bills by their date rather than every bill of the GSTIN (a chain's whole history).
        lines = PurchaseItem.objects.filter(
            created_at__gte=start,
            created_at__lt=end,
            purchase__created_at__gte=start,
            purchase__created_at__lt=end,
            purchase__seller_gstin=gstin,
        )
        refund_lines = RefundLine.objects.filter(
            refund__created_at__gte=start, refund__created_at__lt=end, refund__purchase__seller_gstin=gstin
        )
        refunds = Refund.objects.filter(created_at__gte=start, created_at__lt=end, purchase__seller_gstin=gstin)
        if store_ids is not None:  # a user who sees only their stores: their bills and refunds
            bills = bills.filter(store_filter(Purchase, store_ids))
            lines = lines.filter(store_filter(PurchaseItem, store_ids))
            refund_lines = refund_lines.filter(store_filter(RefundLine, store_ids))
            refunds = refunds.filter(store_filter(Refund, store_ids))
        b2b, b2cl, b2cs, hsn = _sales(bills, lines, store)
        cdnr, cdnur = _credit_notes(refund_lines, store, b2cs, hsn)
        doc_issue = _doc_issue(bills, refunds)
    return {
        "gstin": gstin,
        "fp": span.fp,
        "b2b": b2b,
        "b2cl": b2cl,
        "b2cs": _b2cs_rows(b2cs, store),
        "cdnr": cdnr,
        "cdnur": cdnur,
        "hsn": {"hsn_b2b": _hsn_rows(hsn[SupplyType.B2B]), "hsn_b2c": _hsn_rows(hsn[SupplyType.B2C])},
        "doc_issue": doc_issue,
    }


def gstr1_gstin(given: str | None, *, start: datetime, end: datetime) -> tuple[str, str | None]:
    """The GSTIN to file for and its state: ``given`` (normalised), else the default store's GSTIN
    (blank for an unregistered store, whose state is the store's own). Refuses, as a
    ``validation_error`` naming ``gstin``, a GSTIN that is malformed, or that no store has and no
    bill of ``[start, end)`` carried."""
    if given is None or not given.strip():
        store = Store.objects.get(is_default=True)
        return store.gstin, store.gst_state_code or None
    try:
        gstin = validate_gstin(given)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], details={"gstin": exc.messages}) from None
    known = Store.objects.filter(gstin=gstin).exists() or (
        Purchase.objects.filter(created_at__gte=start, created_at__lt=end, seller_gstin=gstin).exists()
    )
    if not known:
        raise ValidationFailed(f"No store files GST under {gstin}.", details={"gstin": ["No store has this GSTIN."]})
    return gstin, gstin[:2]


_BILL_HEAD = (
    "number",
    "created_at",
    "payable",
    "supply_type",
    "place_of_supply",
    "customer_gstin",
    "tax_total",
    "igst_total",
)


def _line_sums() -> dict[str, Any]:
    return {
        "txval": Sum("subtotal"),
        "iamt": Sum("igst"),
        "camt": Sum("cgst"),
        "samt": Sum("sgst"),
        "qty": Sum("quantity"),
        "desc": Max("product_name"),
    }


def _sales(bills, lines, store: str | None):
    """b2b and b2cl invoice by invoice (their bills read one by one: few), b2cs and the HSN summary
    summed by the database."""
    b2cl_candidates = Q(supply_type=SupplyType.B2C, payable__gt=B2CL_LIMIT)
    listed = bills.filter(Q(supply_type=SupplyType.B2B) | b2cl_candidates).values("id", *_BILL_HEAD)
    heads = {row["id"]: row for row in listed}
    b2cl_ids = {
        pk
        for pk, row in heads.items()
        if _is_b2cl(
            supply_type=row["supply_type"],
            inter=_inter(
                igst_total=row["igst_total"], tax_total=row["tax_total"], pos=row["place_of_supply"], store=store
            ),
            payable=row["payable"],
        )
    }
    invoices: dict[int, dict[Decimal, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(_heads))
    b2b_ids = [pk for pk, row in heads.items() if row["supply_type"] == SupplyType.B2B]
    for row in (
        lines.filter(purchase_id__in=[*b2b_ids, *b2cl_ids])
        .values("purchase_id", "tax_percent")
        .annotate(**_line_sums())
    ):
        _add(invoices[row["purchase_id"]][row["tax_percent"]], row["txval"], row["iamt"], row["camt"], row["samt"])

    by_buyer: dict[str, list[dict]] = defaultdict(list)
    b2cl_by_pos: dict[str, list[dict]] = defaultdict(list)
    for pk in sorted(invoices, key=lambda pk: (heads[pk]["created_at"], pk)):
        head = heads[pk]
        invoice = {
            "inum": head["number"] or f"#{pk}",
            "idt": _date(head["created_at"]),
            "val": money(head["payable"]),
        }
        if pk in b2cl_ids:
            b2cl_by_pos[head["place_of_supply"] or ""].append({**invoice, "itms": _itms(invoices[pk])})
        else:
            by_buyer[head["customer_gstin"]].append(
                {
                    **invoice,
                    "pos": head["place_of_supply"] or store or "",
                    "rchrg": "N",
                    "inv_typ": "R",
                    "itms": _itms(invoices[pk]),
                }
            )
    b2b = [{"ctin": ctin, "inv": by_buyer[ctin]} for ctin in sorted(by_buyer)]
    b2cl = [{"pos": pos, "inv": b2cl_by_pos[pos]} for pos in sorted(b2cl_by_pos)]

    # b2cs (the B2C lines but b2cl's, by place of supply and rate) and the HSN summary (every line,
    # by supply type, HSN, unit and rate) from one pass over the period's lines, grouped by both keys
    # at once (a few thousand groups), then added up each way here.
    b2cs: dict[tuple[str, Decimal], dict[str, Decimal]] = defaultdict(_heads)
    hsn: dict[str, dict[tuple, dict[str, Any]]] = {SupplyType.B2B: {}, SupplyType.B2C: {}}
    in_b2cl = Case(When(purchase_id__in=b2cl_ids, then=Value(True)), default=Value(False))
    keys = ("purchase__supply_type", "purchase__place_of_supply", "hsn_code", "unit", "tax_percent")
    for row in lines.values(*keys, b2cl=in_b2cl).annotate(**_line_sums()).order_by():
        if row["purchase__supply_type"] == SupplyType.B2C and not row["b2cl"]:
            key = (row["purchase__place_of_supply"] or store or "", row["tax_percent"])
            _add(b2cs[key], row["txval"], row["iamt"], row["camt"], row["samt"])
        entry = _hsn_entry(hsn[row["purchase__supply_type"]], row["hsn_code"], row["unit"], row["tax_percent"])
        entry["desc"] = max(entry["desc"], row["desc"] or "")
        entry["qty"] += row["qty"] or 0
        _add(entry, row["txval"], row["iamt"], row["camt"], row["samt"])
    return b2b, b2cl, b2cs, hsn


def _hsn_entry(rows: dict[tuple, dict[str, Any]], code: str, unit: str, rate: Decimal) -> dict[str, Any]:
    key = (code, unit, rate)
    if key not in rows:
        rows[key] = {"desc": "", "qty": Decimal("0"), **_heads()}
    return rows[key]


def _credit_notes(refund_lines, store: str | None, b2cs: dict, hsn: dict) -> tuple[list[dict], list[dict]]:
    """cdnr and cdnur note by note, and the other B2C credit notes netted into ``b2cs``; every
    credit note netted into the HSN summary. A refund line's tax splits as its bill's."""
    rows = refund_lines.values(
        "refund_id",
        "refund__number",
        "refund__created_at",
        "refund__amount",
        "quantity",
        "subtotal",
        "tax_amount",
        "item__tax_percent",
        "item__hsn_code",
        "item__unit",
        "item__product_name",
        *(f"refund__purchase__{name}" for name in _BILL_HEAD),
    ).order_by("refund__created_at", "refund_id", "id")
    notes: dict[int, dict[str, Any]] = {}
    for row in rows:
        bill = {name: row[f"refund__purchase__{name}"] for name in _BILL_HEAD}
        inter = _inter(
            igst_total=bill["igst_total"], tax_total=bill["tax_total"], pos=bill["place_of_supply"], store=store
        )
        cgst, sgst, igst = gst.split_tax(money(row["tax_amount"]), intra_state=not inter)
        rate = row["item__tax_percent"]
        supply = bill["supply_type"]
        b2cl = _is_b2cl(supply_type=supply, inter=inter, payable=bill["payable"])
        entry = _hsn_entry(hsn[supply], row["item__hsn_code"], row["item__unit"], rate)
        entry["desc"] = max(entry["desc"], row["item__product_name"] or "")
        entry["qty"] -= row["quantity"]
        _add(entry, row["subtotal"], igst, cgst, sgst, sign=-1)
        pos = bill["place_of_supply"] or store or ""
        if supply == SupplyType.B2C and not b2cl:
            _add(b2cs[(pos, rate)], row["subtotal"], igst, cgst, sgst, sign=-1)
            continue
        note = notes.setdefault(
            row["refund_id"],
            {
                "b2b": supply == SupplyType.B2B,
                "ctin": bill["customer_gstin"],
                "nt_num": row["refund__number"] or f"R{row['refund_id']}",
                "nt_dt": _date(row["refund__created_at"]),
                "val": money(row["refund__amount"]),
                "pos": pos,
                "rates": defaultdict(_heads),
            },
        )
        _add(note["rates"][rate], row["subtotal"], igst, cgst, sgst)
    by_buyer: dict[str, list[dict]] = defaultdict(list)
    cdnur = []
    for note in notes.values():
        common = {"ntty": "C", "nt_num": note["nt_num"], "nt_dt": note["nt_dt"], "val": note["val"]}
        if note["b2b"]:
            by_buyer[note["ctin"]].append(
                {**common, "pos": note["pos"], "rchrg": "N", "inv_typ": "R", "itms": _itms(note["rates"])}
            )
        else:
            cdnur.append({**common, "typ": "B2CL", "pos": note["pos"], "itms": _itms(note["rates"])})
    cdnr = [{"ctin": ctin, "nt": by_buyer[ctin]} for ctin in sorted(by_buyer)]
    return cdnr, cdnur


def _b2cs_rows(b2cs: dict[tuple[str, Decimal], dict[str, Decimal]], store: str | None) -> list[dict]:
    return [
        {
            "sply_ty": "INTER" if store and pos and pos != store else "INTRA",
            "pos": pos,
            "typ": "OE",
            "rt": rate,
            "txval": heads["txval"],
            "iamt": heads["iamt"],
            "camt": heads["camt"],
            "samt": heads["samt"],
            "csamt": ZERO,
        }
        for (pos, rate), heads in sorted(b2cs.items())
    ]


def _hsn_rows(rows: dict[tuple, dict[str, Any]]) -> list[dict]:
    out = []
    for num, ((code, unit, rate), entry) in enumerate(sorted(rows.items(), key=lambda kv: kv[0]), start=1):
        out.append(
            {
                "num": num,
                "hsn_sc": code,
                "desc": entry["desc"][:30],
                "uqc": UQC.get(unit, "OTH"),
                "qty": entry["qty"] if unit != Unit.EACH else entry["qty"].quantize(Decimal("1")),
                "rt": rate,
                "txval": entry["txval"],
                "iamt": entry["iamt"],
                "camt": entry["camt"],
                "samt": entry["samt"],
                "csamt": ZERO,
            }
        )
    return out


_SEQUENCE = re.compile(r"^(?P<series>.+/)(?P<seq>[0-9]+)$")


def _series_rows(numbers: Iterable[tuple[str, str, int]]) -> list[dict]:
    """One ``docs`` entry per series: its first and last number in the period, how many numbers lie
    between them (``totnum``), the ones among them not issued (``cancel``: bills and credit notes
    are never cancelled, and a refused bill takes no number, so it is 0 unless a number was lost)
    and the ones issued (``net_issue``)."""
    out = []
    for num, (first, last, count) in enumerate(numbers, start=1):
        low, high = _SEQUENCE.match(first), _SEQUENCE.match(last)
        span = int(high["seq"]) - int(low["seq"]) + 1 if low and high else count
        out.append({"num": num, "from": first, "to": last, "totnum": span, "cancel": span - count, "net_issue": count})
    return out


def _series_of(queryset) -> list[tuple[str, str, int]]:
    """Each series' first and last number and how many numbers it has, in the order of the series,
    summed by the database (a chain's month is 375,000 bills). A number is its series and a sequence
    of ``SEQUENCE_DIGITS`` digits (``NUMBER_PATTERN``, a CHECK constraint), so its series is all but
    its last ``SEQUENCE_DIGITS`` characters, and a series' numbers sort as their sequences do."""
    series = Left("number", Length("number") - SEQUENCE_DIGITS)
    rows = (
        queryset.exclude(number__isnull=True)
        .values(series=series)
        .annotate(first=Min("number"), last=Max("number"), count=Count("*"))
        .order_by()
    )
    return [(row["first"], row["last"], row["count"]) for row in sorted(rows, key=lambda row: row["series"])]


def _doc_issue(bills, refunds) -> dict:
    return {
        "doc_det": [
            {"doc_num": 1, "docs": _series_rows(_series_of(bills))},
            {"doc_num": 5, "docs": _series_rows(_series_of(refunds))},
        ]
    }


# --- The portal's JSON: amounts as numbers with 2 places -------------------------------------------

_NUMBER = re.compile(r'"\\u0000(-?[0-9]+(?:\.[0-9]+)?)"')


def _marked(value: Any) -> Any:
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and value.as_tuple().exponent == 0:
            return f"\x00{value}"
        return f"\x00{value:.{max(2, -int(value.as_tuple().exponent))}f}"
    if isinstance(value, dict):
        return {key: _marked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_marked(item) for item in value]
    return value


def gstr1_json(report: dict, *, indent: int | None = None) -> str:
    """``report`` as JSON text whose amounts are numbers written with 2 places (``1180.50``, not
    ``1180.5``), rates as numbers (``18``, ``2.5``), as the portal's files have them. (A NUL, which
    no text a person types may hold, marks a number on its way through the encoder.)"""
    return _NUMBER.sub(r"\1", json.dumps(_marked(_rates(report)), ensure_ascii=False, indent=indent))


def _rates(value: Any, key: str | None = None) -> Any:
    """Rates (``rt``) and quantities are written without trailing zeros; amounts keep 2 places."""
    if isinstance(value, dict):
        return {k: _rates(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_rates(item) for item in value]
    if key in ("rt", "qty") and isinstance(value, Decimal):
        normal = value.normalize()
        return normal.quantize(Decimal("1")) if normal == normal.to_integral_value() else normal
    if isinstance(value, Decimal):
        return money(value)
    return value


def gstr1_json_response(report: dict, period: str) -> HttpResponse:
    response = HttpResponse(gstr1_json(report), content_type="application/json")
    response["Content-Disposition"] = f'inline; filename="gstr1-{period}.json"'
    return response


# --- The offline tool's CSV templates --------------------------------------------------------------


def _pos_text(code: str) -> str:
    return f"{code}-{gst.state_name(code)}" if code else ""


def _csv_date(dmy: str) -> str:
    """dd-mm-yyyy as the templates write a date: 05-Nov-2026."""
    day, month, year = dmy.split("-")
    return f"{day}-{calendar.month_abbr[int(month)]}-{year}"


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _rate(value: Decimal) -> str:
    normal = value.normalize()
    return f"{normal:f}" if normal != normal.to_integral_value() else f"{normal.quantize(Decimal('1')):f}"


def _uqc(code: str) -> str:
    return f"{code}-{UQC_NAMES.get(code, 'OTHERS')}"


def gstr1_csv_rows(report: dict, section: str) -> Iterator[list]:
    """One section of ``report`` as the offline tool's CSV template: the header, then the rows."""
    if section == "b2b":
        yield [
            "GSTIN/UIN of Recipient",
            "Receiver Name",
            "Invoice Number",
            "Invoice date",
            "Invoice Value",
            "Place Of Supply",
            "Reverse Charge",
            "Applicable % of Tax Rate",
            "Invoice Type",
            "E-Commerce GSTIN",
            "Rate",
            "Taxable Value",
            "Cess Amount",
        ]
        for buyer in report["b2b"]:
            for inv in buyer["inv"]:
                for item in inv["itms"]:
                    det = item["itm_det"]
                    yield [
                        buyer["ctin"],
                        "",
                        inv["inum"],
                        _csv_date(inv["idt"]),
                        _amount(inv["val"]),
                        _pos_text(inv["pos"]),
                        "N",
                        "",
                        "Regular B2B",
                        "",
                        _rate(det["rt"]),
                        _amount(det["txval"]),
                        _amount(det["csamt"]),
                    ]
    elif section == "b2cl":
        yield [
            "Invoice Number",
            "Invoice date",
            "Invoice Value",
            "Place Of Supply",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
            "E-Commerce GSTIN",
        ]
        for group in report["b2cl"]:
            for inv in group["inv"]:
                for item in inv["itms"]:
                    det = item["itm_det"]
                    yield [
                        inv["inum"],
                        _csv_date(inv["idt"]),
                        _amount(inv["val"]),
                        _pos_text(group["pos"]),
                        "",
                        _rate(det["rt"]),
                        _amount(det["txval"]),
                        _amount(det["csamt"]),
                        "",
                    ]
    elif section == "b2cs":
        yield [
            "Type",
            "Place Of Supply",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
            "E-Commerce GSTIN",
        ]
        for row in report["b2cs"]:
            yield [
                row["typ"],
                _pos_text(row["pos"]),
                "",
                _rate(row["rt"]),
                _amount(row["txval"]),
                _amount(row["csamt"]),
                "",
            ]
    elif section == "cdnr":
        yield [
            "GSTIN/UIN of Recipient",
            "Receiver Name",
            "Note Number",
            "Note Date",
            "Note Type",
            "Place Of Supply",
            "Reverse Charge",
            "Note Supply Type",
            "Note Value",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
        ]
        for buyer in report["cdnr"]:
            for note in buyer["nt"]:
                for item in note["itms"]:
                    det = item["itm_det"]
                    yield [
                        buyer["ctin"],
                        "",
                        note["nt_num"],
                        _csv_date(note["nt_dt"]),
                        note["ntty"],
                        _pos_text(note["pos"]),
                        "N",
                        "Regular B2B",
                        _amount(note["val"]),
                        "",
                        _rate(det["rt"]),
                        _amount(det["txval"]),
                        _amount(det["csamt"]),
                    ]
    elif section == "cdnur":
        yield [
            "UR Type",
            "Note Number",
            "Note Date",
            "Note Type",
            "Place Of Supply",
            "Note Value",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
        ]
        for note in report["cdnur"]:
            for item in note["itms"]:
                det = item["itm_det"]
                yield [
                    note["typ"],
                    note["nt_num"],
                    _csv_date(note["nt_dt"]),
                    note["ntty"],
                    _pos_text(note["pos"]),
                    _amount(note["val"]),
                    "",
                    _rate(det["rt"]),
                    _amount(det["txval"]),
                    _amount(det["csamt"]),
                ]
    elif section in ("hsn", "hsn_b2b", "hsn_b2c"):
        halves = {"hsn": ("hsn_b2b", "hsn_b2c"), "hsn_b2b": ("hsn_b2b",), "hsn_b2c": ("hsn_b2c",)}[section]
        both = section == "hsn"
        yield [
            *(["Supply"] if both else []),
            "HSN",
            "Description",
            "UQC",
            "Total Quantity",
            "Total Value",
            "Rate",
            "Taxable Value",
            "Integrated Tax Amount",
            "Central Tax Amount",
            "State/UT Tax Amount",
            "Cess Amount",
        ]
        for half in halves:
            for row in report["hsn"][half]:
                value = row["txval"] + row["iamt"] + row["camt"] + row["samt"] + row["csamt"]
                yield [
                    *([half[4:].upper()] if both else []),
                    row["hsn_sc"],
                    _text(row["desc"]),
                    _uqc(row["uqc"]),
                    f"{row['qty']:f}",
                    _amount(value),
                    _rate(row["rt"]),
                    _amount(row["txval"]),
                    _amount(row["iamt"]),
                    _amount(row["camt"]),
                    _amount(row["samt"]),
                    _amount(row["csamt"]),
                ]
    elif section == "docs":
        yield ["Nature of Document", "Sr. No. From", "Sr. No. To", "Total Number", "Cancelled"]
        natures = {1: "Invoices for outward supply", 5: "Credit Note"}
        for group in report["doc_issue"]["doc_det"]:
            for doc in group["docs"]:
                yield [natures[group["doc_num"]], doc["from"], doc["to"], doc["totnum"], doc["cancel"]]
    else:
        raise ValueError(section)


def gstr1_section(value: str | None) -> str:
    if value not in SECTIONS:
        problem = f"Give section as one of {', '.join(SECTIONS)}."
        raise ValidationFailed(problem, details={"section": [problem]})
    return value


def gstr1_csv_response(report: dict, period: str, section: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="gstr1-{period}-{section}.csv"'
    csv.writer(response).writerows(gstr1_csv_rows(report, section))
    return response
