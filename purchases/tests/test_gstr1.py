"""GSTR-1 (issue 27): the period, the endpoint's contract, its sections, and the property that the
return adds up to the sales report to the paisa, section by section and head by head."""

import csv
import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from billing_project.core.gst import split_tax
from billing_project.core.testing.db_settings import current_settings, settings_at_each_statement
from billing_project.core.testing.properties import examples
from billing_project.core.types import BillLine
from catalog.tests.factories import ProductFactory
from catalog.tests.stores import set_default_store
from purchases.gstr1 import B2CL_LIMIT, _series_of, gstr1, gstr1_period
from purchases.models import Purchase, PurchaseItem, Refund, RefundLine
from purchases.pricing import quote
from purchases.sales_report import sales_report
from purchases.services import purchase_create, refund_create

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/reports/gstr1"
ZONE = "Asia/Kolkata"
KOLKATA = ZoneInfo(ZONE)
STORE = "29AAGCB7383J1Z4"  # Karnataka (29)
BUYER_KA = "29AAACR4849R1ZH"  # Karnataka (29), as the store: intra-state B2B
BUYER_MH = "27AAACR4849R1ZL"  # Maharashtra (27)
BUYER_DL = "07AABCS1429B1ZW"  # Delhi (07)


def paise(value) -> int:
    return int((D(str(value)) * 100).to_integral_value())


@pytest.fixture
def store(db, settings):
    set_default_store(gstin=STORE, state_code="29")
    settings.TIME_ZONE = ZONE
    timezone.deactivate()


def bill(product, quantity, **gst):
    total = quote({product.pk: product}, {product.pk: quantity}).total
    return purchase_create(
        items=[{"product_id": product.pk, "quantity": quantity}],
        payments=[{"method": "card", "amount": total}],
        send_invoice=False,
        **gst,
    )


def at(purchase: Purchase, when: datetime) -> None:
    Purchase.objects.filter(pk=purchase.pk).update(created_at=when)
    PurchaseItem.objects.filter(purchase=purchase).update(created_at=when)


# --- The period ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first", "last", "fp"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30), "112026"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "022024"),
        ("2026-Q1", date(2026, 4, 1), date(2026, 6, 30), "062026"),
        ("2026-Q3", date(2026, 10, 1), date(2026, 12, 31), "122026"),
        ("2026-Q4", date(2027, 1, 1), date(2027, 3, 31), "032027"),
    ],
)
def test_a_period_is_a_month_or_a_quarter_of_the_financial_year(text, first, last, fp):
    period = gstr1_period(text)
    assert (period.first, period.last, period.fp) == (first, last, fp)


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "2026-Q0", "2026-00", "2026-1", "26-11", "2026/11", ""])
def test_a_malformed_period_is_400(manager_api, period):
    response = manager_api.get(URL, {"period": period})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "period" in response.json()["details"]


def test_a_bad_csv_section_is_400(manager_api, store):
    response = manager_api.get(URL, {"period": "2026-11", "format": "csv", "section": "b2x"})
    assert response.status_code == 400 and response.json()["details"]["section"]


def test_the_return_needs_the_sales_report_permission(cashier_api, api_client):
    assert cashier_api.get(URL, {"period": "2026-11"}).status_code == 403
    assert api_client.get(URL, {"period": "2026-11"}).status_code == 401


# --- The sections -------------------------------------------------------------------------------------


@pytest.fixture
def month(store, db):
    """November 2026: an intra-state B2B bill, an inter-state one, B2C bills (one inter-state above the
    B2CL limit), and refunds of a B2B, a B2CL and a B2C bill."""
    rice = ProductFactory(name="Rice", price=D("100.00"), tax_percent=D("5"), hsn_code="1006", stock=10_000)
    soap = ProductFactory(name="Soap", price=D("33.33"), tax_percent=D("18"), hsn_code="3401", stock=10_000)
    tv = ProductFactory(name="Television", price=D("90000.00"), tax_percent=D("18"), hsn_code="8528", stock=10)
    day = datetime(2026, 11, 10, 12, 0, tzinfo=KOLKATA)
    bills = {
        "b2b_mh": purchase_create(
            items=[{"product_id": rice.pk, "quantity": 3}, {"product_id": soap.pk, "quantity": 2}],
            payments=[{"method": "card", "amount": D("393.66")}],
            customer_gstin=BUYER_MH,
            send_invoice=False,
        ),
        "b2cs": bill(soap, 3),
        "b2cl": bill(tv, 2, place_of_supply="07"),
        "b2cs_inter": bill(rice, 1, place_of_supply="33"),
    }
    for index, purchase in enumerate(bills.values()):
        at(purchase, day + timedelta(hours=index))
    refunds = {
        "b2b_mh": refund_create(
            purchase_id=bills["b2b_mh"].pk, items=[{"product_id": rice.pk, "quantity": 1}], reason="r"
        ),
        "b2cl": refund_create(purchase_id=bills["b2cl"].pk, items=[{"product_id": tv.pk, "quantity": 1}], reason="r"),
        "b2cs": refund_create(purchase_id=bills["b2cs"].pk, items=[{"product_id": soap.pk, "quantity": 1}], reason="r"),
    }
    Refund.objects.update(created_at=day + timedelta(days=1))
    return bills, refunds


def test_the_return_has_the_portals_structure_and_values(manager_api, month):
    bills, refunds = month
    response = manager_api.get(URL, {"period": "2026-11"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    # Amounts are numbers written with 2 places.
    assert '"txval": 300.00' in response.content.decode()
    body = json.loads(response.content, parse_float=D)
    assert body["gstin"] == STORE and body["fp"] == "112026"

    [buyer] = body["b2b"]
    assert buyer["ctin"] == BUYER_MH
    [invoice] = buyer["inv"]
    assert invoice["inum"] == bills["b2b_mh"].number and invoice["idt"] == "10-11-2026"
    assert (invoice["pos"], invoice["rchrg"], invoice["inv_typ"]) == ("27", "N", "R")
    assert invoice["val"] == bills["b2b_mh"].payable
    # One entry per rate, counted from 1; inter-state: all IGST.
    assert [(i["num"], i["itm_det"]["rt"]) for i in invoice["itms"]] == [(1, 5), (2, 18)]
    five = invoice["itms"][0]["itm_det"]
    assert five == {"rt": 5, "txval": D("300.00"), "iamt": D("15.00"), "camt": 0, "samt": 0, "csamt": 0}

    [b2cl] = body["b2cl"]
    assert b2cl["pos"] == "07" and [i["inum"] for i in b2cl["inv"]] == [bills["b2cl"].number]
    assert b2cl["inv"][0]["val"] > B2CL_LIMIT

    rows = {(row["pos"], row["rt"]): row for row in body["b2cs"]}
    assert set(rows) == {("29", 18), ("33", 5)}
    # Soap × 3 less the one refunded: 66.66 taxable, 12.00 tax split 6.00 + 6.00 (each line's halves).
    intra = rows[("29", 18)]
    assert (intra["sply_ty"], intra["typ"], intra["txval"]) == ("INTRA", "OE", D("66.66"))
    assert intra["camt"] + intra["samt"] == D("18.00") - D("6.00") and intra["iamt"] == 0
    assert rows[("33", 5)]["sply_ty"] == "INTER" and rows[("33", 5)]["iamt"] == D("5.00")

    [cdnr] = body["cdnr"]
    assert cdnr["ctin"] == BUYER_MH
    [note] = cdnr["nt"]
    assert (note["ntty"], note["nt_num"], note["pos"], note["val"]) == (
        "C",
        refunds["b2b_mh"].number,
        "27",
        D("105.00"),
    )
    assert note["itms"][0]["itm_det"]["iamt"] == D("5.00")
    [cdnur] = body["cdnur"]
    assert (cdnur["typ"], cdnur["nt_num"], cdnur["pos"]) == ("B2CL", refunds["b2cl"].number, "07")

    hsn_b2b = {(row["hsn_sc"], row["rt"]): row for row in body["hsn"]["hsn_b2b"]}
    assert hsn_b2b[("1006", 5)]["qty"] == 2 and hsn_b2b[("1006", 5)]["uqc"] == "NOS"
    assert hsn_b2b[("1006", 5)]["txval"] == D("200.00")
    assert [row["num"] for row in body["hsn"]["hsn_b2c"]] == list(range(1, len(body["hsn"]["hsn_b2c"]) + 1))

    invoices, notes = body["doc_issue"]["doc_det"]
    assert invoices["doc_num"] == 1 and notes["doc_num"] == 5
    [series] = invoices["docs"]
    assert (series["totnum"], series["cancel"], series["net_issue"]) == (4, 0, 4)
    assert notes["docs"][0]["net_issue"] == 3


def test_another_period_is_empty(manager_api, month):
    body = manager_api.get(URL, {"period": "2026-10"}).json()
    assert body["b2b"] == body["b2cs"] == body["cdnr"] == [] and body["fp"] == "102026"
    assert body["doc_issue"]["doc_det"][0]["docs"] == []
    quarter = manager_api.get(URL, {"period": "2026-Q3"}).json()
    assert quarter["fp"] == "122026" and quarter["b2b"][0]["ctin"] == BUYER_MH


@pytest.mark.parametrize(
    ("section", "header", "first"),
    [
        ("b2b", "GSTIN/UIN of Recipient", BUYER_MH),
        ("b2cl", "Invoice Number", None),
        ("b2cs", "Type", "OE"),
        ("cdnr", "GSTIN/UIN of Recipient", BUYER_MH),
        ("cdnur", "UR Type", "B2CL"),
        ("hsn", "Supply", "B2B"),
        ("hsn_b2c", "HSN", None),
        ("docs", "Nature of Document", "Invoices for outward supply"),
    ],
)
def test_each_section_as_the_offline_tools_csv(manager_api, month, section, header, first):
    response = manager_api.get(URL, {"period": "2026-11", "format": "csv", "section": section})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"gstr1-2026-11-{section}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == header and len(rows) > 1
    if first is not None:
        assert rows[1][0] == first
    if section == "b2b":
        assert rows[1][3] == "10-Nov-2026" and rows[1][5] == "27-Maharashtra" and rows[1][10] == "5"


def test_the_return_reads_the_bills_not_the_catalogue(manager_api, month):
    before = manager_api.get(URL, {"period": "2026-11"}).json()
    from catalog.models import Product

    Product.objects.update(hsn_code="9999", tax_percent=D("28"), name="Renamed")
    assert manager_api.get(URL, {"period": "2026-11"}).json() == before


# --- The property: the return adds up -------------------------------------------------------------------

BASE = date(2026, 3, 29)  # the examples straddle March and April
TIMES = [(0, 0), (0, 1), (12, 0), (23, 59)]
CATALOGUE = [
    (D("45.50"), D("5"), "1006"),
    (D("199.99"), D("18"), "3401"),
    (D("12.35"), D("12"), ""),
    (D("80.00"), D("0"), "0701"),
    (D("61000.00"), D("28"), "8528"),  # two make a bill above the B2CL limit
    (D("0.05"), D("5"), "1704"),  # a paisa of tax: halves that are not equal
]
BUYERS = [None, None, BUYER_KA, BUYER_MH, BUYER_DL]
PLACES = [None, None, "29", "27", "33"]

line = st.tuples(st.integers(0, len(CATALOGUE) - 1), st.integers(1, 3), st.sampled_from([D("0"), D("5")]))
bill_plan = st.fixed_dictionaries(
    {
        "lines": st.lists(line, min_size=1, max_size=3, unique_by=lambda item: item[0]),
        "buyer": st.integers(0, len(BUYERS) - 1),
        "place": st.integers(0, len(PLACES) - 1),
        "day": st.integers(-1, 3),
        "time": st.sampled_from(TIMES),
        "refunds": st.lists(st.tuples(st.integers(0, 3), st.floats(0, 1)), max_size=2),
    }
)


def _ring_up(products, plan) -> None:
    chosen = [(products[index], quantity, discount) for index, quantity, discount in plan["lines"]]
    discounted = any(discount for _, _, discount in chosen)
    total = quote(
        {p.pk: p for p, _, _ in chosen},
        {p.pk: q for p, q, _ in chosen},
        line_discounts={p.pk: d for p, _, d in chosen},
    ).total
    purchase = purchase_create(
        items=[{"product_id": p.pk, "quantity": q, "discount_percent": d} for p, q, d in chosen],
        payments=[{"method": "card", "amount": total}],
        discount_reason="regular customer" if discounted else "",
        customer_gstin=BUYERS[plan["buyer"]],
        place_of_supply=PLACES[plan["place"]],
        send_invoice=False,
    )
    hour, minute = plan["time"]
    when = datetime.combine(BASE + timedelta(days=plan["day"]), datetime.min.time()).replace(
        hour=hour, minute=minute, tzinfo=KOLKATA
    )
    at(purchase, when)
    for later, share in plan["refunds"]:
        items: list[BillLine] = []
        for item in PurchaseItem.objects.filter(purchase=purchase):
            left = item.quantity - item.refunded_quantity
            if left and share > 0:
                items.append({"product_id": item.product_id, "quantity": min(left, max(1, round(float(left) * share)))})
        if items:
            refund = refund_create(purchase_id=purchase.pk, items=items, reason="returned")
            Refund.objects.filter(pk=refund.pk).update(created_at=when + timedelta(days=later))


def _sum(rows, key) -> int:
    return sum(paise(row[key]) for row in rows)


def _items(groups, inner):
    return [item["itm_det"] for group in groups for doc in group[inner] for item in doc["itms"]]


def _direct_heads(first: date, last: date) -> dict[str, int]:
    """Each tax head straight from the rows: the bills' stored heads less their refunds' lines split
    as their bills were."""

    def inside(moment) -> bool:
        return first <= timezone.localtime(moment, KOLKATA).date() <= last

    heads = {"iamt": 0, "camt": 0, "samt": 0}
    for purchase in Purchase.objects.all():
        if inside(purchase.created_at):
            heads["iamt"] += paise(purchase.igst_total)
            heads["camt"] += paise(purchase.cgst_total)
            heads["samt"] += paise(purchase.sgst_total)
    for line in RefundLine.objects.select_related("refund", "item__purchase"):
        if inside(line.refund.created_at):
            cgst, sgst, igst = split_tax(line.tax_amount, intra_state=line.item.purchase.igst_total == 0)
            heads["iamt"] += -paise(igst)
            heads["camt"] += -paise(cgst)
            heads["samt"] += -paise(sgst)
    return heads


def check_the_return_adds_up(period: str) -> None:
    span = gstr1_period(period)
    report = gstr1(period=period)
    sales = sales_report(date_from=span.first, date_to=span.last, group_by="day")["totals"]
    net_taxable = paise(sales["net_after_refunds"]) - paise(sales["tax"])
    b2b, b2cl = _items(report["b2b"], "inv"), _items(report["b2cl"], "inv")
    cdnr, cdnur = _items(report["cdnr"], "nt"), [i["itm_det"] for n in report["cdnur"] for i in n["itms"]]
    b2cs = report["b2cs"]
    hsn_b2b, hsn_b2c = report["hsn"]["hsn_b2b"], report["hsn"]["hsn_b2c"]
    direct = _direct_heads(span.first, span.last)

    def net(key):
        return _sum(b2b, key) + _sum(b2cl, key) + _sum(b2cs, key) - _sum(cdnr, key) - _sum(cdnur, key)

    assert net("txval") == net_taxable
    assert _sum(hsn_b2b, "txval") + _sum(hsn_b2c, "txval") == net_taxable
    assert _sum(hsn_b2b, "txval") == _sum(b2b, "txval") - _sum(cdnr, "txval")
    assert _sum(hsn_b2c, "txval") == _sum(b2cl, "txval") + _sum(b2cs, "txval") - _sum(cdnur, "txval")
    heads_total = 0
    for key in ("iamt", "camt", "samt"):
        assert net(key) == direct[key], key
        assert _sum(hsn_b2b, key) == _sum(b2b, key) - _sum(cdnr, key), key
        assert _sum(hsn_b2c, key) == _sum(b2cl, key) + _sum(b2cs, key) - _sum(cdnur, key), key
        heads_total += net(key)
    assert heads_total == paise(sales["tax"])
    # Intra-state rows carry no IGST; inter-state ones nothing but IGST.
    for row in b2cs:
        assert (paise(row["iamt"]) == 0) if row["sply_ty"] == "INTRA" else (row["camt"] == row["samt"] == 0)
    # b2cl is inter-state B2C above the limit, invoice by invoice.
    for group in report["b2cl"]:
        assert group["pos"] != "29" and all(inv["val"] > B2CL_LIMIT for inv in group["inv"])
    assert json.loads(json.dumps(report, default=str))  # plain data


@pytest.fixture
def catalogue(store):
    return [
        ProductFactory(price=price, tax_percent=rate, hsn_code=hsn, stock=100_000) for price, rate, hsn in CATALOGUE
    ]


def _plan(lines, buyer=0, place=0, refunds=()):
    return {"lines": lines, "buyer": buyer, "place": place, "day": 0, "time": (12, 0), "refunds": list(refunds)}


@pytest.mark.property
@settings(
    max_examples=examples(20),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(plans=st.lists(bill_plan, min_size=1, max_size=5), period=st.sampled_from(["2026-03", "2026-04", "2025-Q4"]))
# A B2CL bill (two televisions, inter-state) refunded in part, beside a B2B one: cdnur and cdnr.
@example(
    plans=[_plan([(4, 2, D("0"))], place=4, refunds=[(0, 0.5)]), _plan([(0, 3, D("5")), (5, 1, D("0"))], buyer=2)],
    period="2026-03",
).via("every section")
def test_the_return_adds_up_to_the_sales_report_to_the_paisa(catalogue, plans, period):
    with transaction.atomic():
        for plan in plans:
            _ring_up(catalogue, plan)
        check_the_return_adds_up(period)
        transaction.set_rollback(True)


# --- PostgreSQL: the return's reads and its document series -------------------------------------------

GSTR1_SETTINGS = "SELECT current_setting('work_mem'), current_setting('jit')"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's settings")
@pytest.mark.django_db(transaction=True)  # the return's transaction is the outermost, as in a request
def test_the_return_reads_a_month_with_the_reports_memory_and_no_jit(month, settings):
    settings.REPORT_WORK_MEM_MB = 48
    default = current_settings(GSTR1_SETTINGS)

    with settings_at_each_statement(GSTR1_SETTINGS) as seen:
        report = gstr1(period="2026-11")

    assert report["b2b"]
    # Every read of the return, for its transaction only (SET LOCAL).
    assert seen and set(seen) == {("48MB", "off")}
    assert current_settings(GSTR1_SETTINGS) == default != ("48MB", "off")


def test_each_document_series_runs_from_its_first_number_to_its_last(month):
    """``_series_of`` sums each series in the database: the same as reading its numbers in order."""
    bills, _ = month
    Purchase.objects.filter(pk=bills["b2cs"].pk).update(number="XB/2627/000042")
    for queryset in (Purchase.objects.all(), Refund.objects.all()):
        numbers = sorted(number for number in queryset.values_list("number", flat=True) if number is not None)
        expected: dict[str, list] = {}
        for number in numbers:
            series = number.rsplit("/", 1)[0]
            expected.setdefault(series, [number, number, 0])
            expected[series][1:] = [number, expected[series][2] + 1]
        assert _series_of(queryset) == [tuple(expected[series]) for series in sorted(expected)]
    assert [count for _, _, count in _series_of(Purchase.objects.all())] == [3, 1]
