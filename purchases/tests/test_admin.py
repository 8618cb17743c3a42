import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing_project.core.money import format_money
from cashdrawer.tests.factories import drawer_with
from catalog.tests.factories import ProductFactory
from purchases.models import Purchase
from purchases.services import purchase_create, refund_create
from purchases.tests.factories import purchase_for

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:purchases_purchase_changelist")
INDEX = reverse("admin:index")


def change_url(purchase):
    return reverse("admin:purchases_purchase_change", args=[purchase.pk])


def bill(email="buyer@example.com", *, quantity=1, price="100.00", tax="18", user=None, tendered=None, paid=None):
    product = ProductFactory(price=Decimal(price), tax_percent=Decimal(tax), stock=100)
    if paid is None:
        return purchase_for(product, quantity=quantity, email=email)
    return purchase_create(
        customer_email=email,
        items=[{"product_id": product.pk, "quantity": quantity}],
        paid_amount=Decimal(paid),
        tendered=tendered,
        user=user,
    )


@pytest.mark.parametrize("who", ["manager_client", "cashier_client"])
def test_bills_list_and_bill_page_render(request, who):
    client = request.getfixturevalue(who)
    purchase = bill()

    listing = client.get(CHANGELIST)
    page = client.get(change_url(purchase))

    assert listing.status_code == 200
    assert page.status_code == 200
    assert [p.pk for p in listing.context["cl"].result_list] == [purchase.pk]


def test_bill_page_shows_lines_and_the_change_given(manager_client, cashier_user):
    drawer_with({"500": 2, "100": 5, "50": 2})
    purchase = bill(
        price="125.00", tax="0", quantity=2, paid="500", tendered=[{"value": "500", "count": 1}], user=cashier_user
    )

    response = manager_client.get(change_url(purchase))

    html = response.content.decode()
    assert response.context["inline_admin_formsets"]
    inline_names = [f.opts.__class__.__name__ for f in response.context["inline_admin_formsets"]]
    assert inline_names == ["PurchaseItemInline", "PaymentInline", "DrawerMovementInline", "RefundInline"]
    assert "Product " in html  # the line's product name
    assert "2 × ₹100, 1 × ₹50" in html  # change given: 500 - 250
    assert "1 × ₹500" in html  # tendered
    assert 'class="module no-row-labels"' in html  # no "PurchaseItem object" label over each line
    assert f'href="/billing/bills/{purchase.pk}/"' in html  # the printable receipt
    assert "₹250.00" in html  # payable, written as the till writes it
    assert "Change out" in html and "Tender in" in html


def test_bill_page_shows_the_discounts_their_reason_and_the_refunds(manager_client, manager_user):
    drawer_with({"500": 2, "100": 5, "50": 2, "20": 5, "10": 5, "5": 5, "2": 5, "1": 5})
    kettle = ProductFactory(name="Steel kettle", price=Decimal("285.00"), tax_percent=Decimal("0"), stock=10)
    purchase = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": kettle.pk, "quantity": 2, "discount_percent": Decimal("5")}],
        discount_percent=Decimal("5"),
        discount_reason="loyal customer",
        paid_amount=Decimal("515"),  # 570.00 − 55.58 = 514.42 → 514, paid 515
        user=manager_user,
    )
    refund = refund_create(
        purchase_id=purchase.pk,
        items=[{"product_id": kettle.pk, "quantity": 1}],
        reason="dented lid",
        user=manager_user,
    )

    response = manager_client.get(change_url(purchase))

    html = response.content.decode()
    fields = {
        line.field["name"]: str(line.contents())
        for fieldset in response.context["adminform"]
        for row in fieldset
        for line in row
    }
    assert fields["line_discounts"] == "₹28.50"
    assert fields["bill_discount"] == "5 %: ₹27.08"
    assert fields["discount_reason"] == "loyal customer"
    assert re.search(r'5 %</span> \+ <span class="nowrap">5 %</span> off <span class="nowrap">₹570.00</span>', html)
    refunds = re.search(
        r'<div class="js-inline-admin-formset inline-group" id="refunds-group".*?</fieldset>', html, re.S
    )
    assert refunds is not None
    assert f'href="/admin/purchases/refund/{refund.pk}/change/"' in refunds.group(0)
    assert "dented lid" in refunds.group(0) and format_money(refund.amount) in refunds.group(0)


def test_a_bill_without_discounts_shows_none(manager_client):
    response = manager_client.get(change_url(bill()))

    fields = {
        line.field["name"]: str(line.contents())
        for fieldset in response.context["adminform"]
        for row in fieldset
        for line in row
    }
    assert fields["line_discounts"] == fields["bill_discount"] == "—"


def test_bills_cannot_be_added_changed_or_deleted_from_the_admin(manager_client, superuser, client):
    purchase = bill()
    client.force_login(superuser)

    for user_client in (manager_client, client):
        assert user_client.get(reverse("admin:purchases_purchase_add")).status_code == 403
        assert user_client.post(change_url(purchase), {"paid_amount": "1"}).status_code == 403
        delete = reverse("admin:purchases_purchase_delete", args=[purchase.pk])
        assert user_client.post(delete, {"post": "yes"}).status_code == 403
    assert Purchase.objects.get(pk=purchase.pk).paid_amount == purchase.paid_amount


def test_list_shows_totals_of_the_filtered_bills(manager_client):
    first = bill("a@example.com", price="100.00", tax="18")  # 118.00
    second = bill("b@example.com", price="50.00", tax="5")  # 52.50 -> payable 53.00 (cash rounding)

    everything = manager_client.get(CHANGELIST).context["totals"]
    only_b = manager_client.get(CHANGELIST, {"q": "b@example"}).context["totals"]

    assert everything == {
        "count": 2,
        "subtotal": first.subtotal + second.subtotal,
        "tax_total": first.tax_total + second.tax_total,
        "total": first.total + second.total,
        "payable": first.payable + second.payable,
        "discount_total": first.discount_total + second.discount_total,
    }
    assert only_b["count"] == 1
    assert only_b["payable"] == second.payable


@pytest.mark.parametrize("term", ["b@example", "B@EXAMPLE.COM", "#{b}", "{b}"])
def test_search_by_customer_email_or_bill_number(manager_client, term):
    a = bill("a@example.com")
    b = bill("b@example.com")
    assert a.pk != b.pk

    response = manager_client.get(CHANGELIST, {"q": term.format(b=b.pk)})

    assert [p.pk for p in response.context["cl"].result_list] == [b.pk]


@pytest.mark.parametrize("most", [5000, 1])  # the customers' ids, or (more than ``most``) a subquery of them
@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("ann", ["ann", "joanna"]),
        ("ANNA@", ["joanna"]),
        ("ann example.org", ["joanna"]),  # every word
        ("{number}", ["bob"]),  # an invoice number
        ("{series}", ["ann", "joanna", "bob"]),  # its start: its series
        ("nobody", []),
    ],
)
def test_a_search_finds_the_customers_first_then_their_bills(manager_client, monkeypatch, term, found, most):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from purchases import selectors

    monkeypatch.setattr(selectors, "SEARCH_CUSTOMERS_MAX", most)
    bills = {
        "ann": bill("ann@example.com"),
        "joanna": bill("joanna@example.org"),
        "bob": bill("bob@example.com"),
    }
    number = bills["bob"].number
    term = term.format(number=number, series=number[: number.rindex("/") + 1])

    with CaptureQueriesContext(connection) as ctx:
        response = manager_client.get(CHANGELIST, {"q": term})

    assert sorted(p.pk for p in response.context["cl"].result_list) == sorted(bills[name].pk for name in found)
    assert response.context["totals"]["count"] == len(found)
    # The bills are never joined to their customers to be searched: the customers are searched alone.
    joined_search = re.compile(r'"customers_customer"\."(email|phone)"(::text)?\)? LIKE')
    for sql in (q["sql"] for q in ctx.captured_queries if 'FROM "purchases_purchase"' in q["sql"]):
        assert not joined_search.search(sql)


def test_filter_by_date(manager_client):
    old, new = bill("old@example.com"), bill("new@example.com")
    Purchase.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    today = timezone.localdate()
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)

    drilled = manager_client.get(
        CHANGELIST, {"created_at__year": today.year, "created_at__month": today.month, "created_at__day": today.day}
    )
    past_week = manager_client.get(
        CHANGELIST,
        {
            "created_at__gte": str(midnight - timedelta(days=7)),
            "created_at__lt": str(midnight + timedelta(days=1)),
        },
    )

    assert [p.pk for p in drilled.context["cl"].result_list] == [new.pk]
    assert [p.pk for p in past_week.context["cl"].result_list] == [new.pk]


def export(client, purchases, **extra):
    return client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [str(p.pk) for p in purchases], **extra}
    )


def test_csv_export_of_the_selected_bills(manager_client, cashier_user):
    drawer_with({"500": 2, "100": 5, "50": 2})
    first = bill(
        "a@example.com",
        price="125.00",
        tax="0",
        quantity=2,
        paid="500",
        tendered=[{"value": "500", "count": 1}],
        user=cashier_user,
    )
    second = bill("=cmd@example.com", price="100.00", tax="18")
    bill("not-selected@example.com")

    response = export(manager_client, [second, first])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="bills-')
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0] == [
        "bill_id",
        "invoice_number",
        "created_at",
        "customer_email",
        "customer_phone",
        "lines",
        "quantity",
        "discount_percent",
        "discount_total",
        "discount_reason",
        "subtotal",
        "tax_total",
        "total",
        "rounding",
        "payable",
        "payment_methods",
        "paid_amount",
        "change_due",
        "cashier",
    ]
    rows = [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    assert len(rows) == 2
    assert rows[0]["bill_id"] == str(first.pk)  # oldest first
    assert rows[0] == {
        "bill_id": str(first.pk),
        "invoice_number": first.number,
        "created_at": timezone.localtime(first.created_at).isoformat(timespec="seconds"),
        "customer_email": "a@example.com",
        "customer_phone": "",
        "lines": "1",
        "quantity": "2",
        "discount_percent": "0.00",
        "discount_total": "0.00",
        "discount_reason": "",
        "subtotal": "250.00",
        "tax_total": "0.00",
        "total": "250.00",
        "rounding": "0.00",
        "payable": "250.00",
        "payment_methods": "Cash",
        "paid_amount": "500.00",
        "change_due": "250.00",
        "cashier": "cashier",
    }
    assert rows[1]["customer_email"] == "'=cmd@example.com"  # no spreadsheet formula
    assert [rows[1][key] for key in ("subtotal", "tax_total", "total", "rounding", "payable")] == [
        "100.00",
        "18.00",
        "118.00",
        "0.00",
        "118.00",
    ]
    assert rows[1]["cashier"] == ""


def test_csv_export_has_the_discounts_and_every_payment_method(manager_client, manager_user):
    drawer_with({"500": 2, "100": 5, "50": 2, "20": 5, "10": 5, "5": 5, "2": 5, "1": 5})
    product = ProductFactory(price=Decimal("200.00"), tax_percent=Decimal("0"), stock=10)
    purchase = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": product.pk, "quantity": 1, "discount_percent": Decimal("10")}],
        discount_percent=Decimal("5"),
        discount_reason="=loyal customer",
        payments=[
            {"method": "card", "amount": Decimal("100.00"), "reference": "SLIP-1"},
            {"method": "cash", "amount": Decimal("100"), "tendered": [{"value": Decimal("100"), "count": 1}]},
        ],
        user=manager_user,
    )

    table = list(csv.reader(io.StringIO(export(manager_client, [purchase]).content.decode())))

    row = dict(zip(table[0], table[1], strict=True))
    assert row["invoice_number"] == purchase.number != ""
    assert (row["discount_percent"], row["discount_total"], row["discount_reason"]) == (
        "5.00",
        "29.00",  # 200.00 at 10 % then 5 %: 14.5 % off
        "'=loyal customer",
    )
    assert row["payment_methods"] == "Card + Cash"


def test_export_all_bills_of_a_filtered_day(manager_client):
    purchases = [bill(f"c{i}@example.com") for i in range(3)]
    today = timezone.localdate()
    query = f"?created_at__year={today.year}&created_at__month={today.month}&created_at__day={today.day}"

    response = manager_client.post(
        CHANGELIST + query,
        {"action": "export_csv", "select_across": "1", "_selected_action": [str(purchases[0].pk)]},
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [int(r[0]) for r in rows[1:]] == [p.pk for p in purchases]


def test_cashier_cannot_export(cashier_client):
    purchase = bill()

    listing = cashier_client.get(CHANGELIST)
    response = export(cashier_client, [purchase])

    action_form = listing.context["action_form"]  # None when no action is offered at all
    assert action_form is None or "export_csv" not in dict(action_form.fields["action"].choices)
    assert not response.get("Content-Type", "").startswith("text/csv")


# --- Admin index ------------------------------------------------------------------------------


def test_index_shows_todays_sales_and_low_stock(manager_client, manager_user, settings):
    from catalog.stores import default_store

    default_store().staff.add(manager_user)  # the low stock of the stores the manager sees
    settings.LOW_STOCK_THRESHOLD = 5
    today = [bill("a@example.com", price="100.00", tax="18"), bill("b@example.com", price="10.00", tax="5")]
    yesterday = bill("old@example.com")
    Purchase.objects.filter(pk=yesterday.pk).update(created_at=timezone.now() - timedelta(days=2))
    ProductFactory(name="Almost gone", stock=2)
    ProductFactory(name="Archived and empty", stock=0, is_active=False)

    response = manager_client.get(INDEX)

    sales = response.context["today_sales"]
    assert (sales["count"], sales["revenue"], sales["tax"]) == (
        2,
        sum(p.payable for p in today),
        sum(p.tax_total for p in today),
    )
    assert [p.name for p in response.context["low_stock"]] == ["Almost gone"]
    html = response.content.decode()
    assert "Almost gone" in html
    assert f'<td id="today-revenue">{format_money(sales["revenue"])}</td>' in html


def test_cashier_index_renders(cashier_client):
    response = cashier_client.get(INDEX)

    assert response.status_code == 200
    assert "today_sales" in response.context


# --- Query budgets: a page's queries do not grow with the number of rows ---------------------


@pytest.mark.parametrize("count", [1, 15])
def test_bills_list_and_index_query_budget(manager_client, django_assert_max_num_queries, count):
    for i in range(count):
        bill(f"c{i}@example.com")

    with django_assert_max_num_queries(14):
        listing = manager_client.get(CHANGELIST)
    with django_assert_max_num_queries(14):
        manager_client.get(INDEX)

    assert len(listing.context["cl"].result_list) == count


def test_bill_page_query_budget(manager_client, django_assert_max_num_queries):
    drawer_with({"500": 2, "100": 5, "50": 2, "20": 5, "10": 5})
    products = [ProductFactory(price=Decimal("12.50"), tax_percent=Decimal("0"), stock=10) for _ in range(8)]
    purchase = purchase_create(
        customer_email="big@example.com",
        items=[{"product_id": p.pk, "quantity": 1} for p in products],
        paid_amount=Decimal("500"),
        tendered=[{"value": Decimal("500"), "count": 1}],
    )

    with django_assert_max_num_queries(20):
        response = manager_client.get(change_url(purchase))

    assert response.status_code == 200


def test_admin_searches_bills_by_invoice_number_and_links_the_pdf(manager_client):
    first, second = bill("ann@example.com"), bill("bob@example.com")

    found = manager_client.get(CHANGELIST, {"q": second.number})
    page = manager_client.get(change_url(second)).content.decode()

    assert list(found.context["cl"].result_list) == [Purchase.objects.get(pk=second.pk)]
    assert str(first.number) not in found.content.decode()
    assert str(second.number) in page
    assert reverse("billing:invoice-pdf", args=[second.pk]) in page


def test_a_long_list_of_bills_sorts_only_by_bill_or_time(manager_client, monkeypatch):
    from django.contrib.messages import get_messages

    from purchases.admin import BillChangeList

    bills = [bill(f"{c}@example.com", price=p) for c, p in (("a", "10.00"), ("b", "90.00"), ("c", "40.00"))]
    newest_first = [b.pk for b in sorted(bills, key=lambda b: (b.created_at, b.pk), reverse=True)]
    dearest_first = [b.pk for b in sorted(bills, key=lambda b: b.payable, reverse=True)]
    by_amount = {"o": "-5"}  # the checkbox, bill, time, customer, lines, then the amount payable

    def listed(params):
        response = manager_client.get(CHANGELIST, params)
        notes = [str(m) for m in get_messages(response.wsgi_request)]
        return response.context["cl"], notes

    monkeypatch.setattr(BillChangeList, "sort_any_max", 3)
    cl, notes = listed(by_amount)
    assert [b.pk for b in cl.result_list] == dearest_first
    assert {"customer_email", "line_count", "cashier"} <= set(cl.sortable_by)
    assert cl.get_ordering_field_columns() == {5: "desc"} and notes == []

    # One bill more than a list sorts by any column: newest first, and the manager is told why.
    monkeypatch.setattr(BillChangeList, "sort_any_max", 2)
    cl, notes = listed(by_amount)
    assert [b.pk for b in cl.result_list] == newest_first
    assert cl.sortable_by == ("bill", "created_at")
    assert cl.get_ordering_field_columns() == {2: "desc", 1: "desc"} and "o" not in cl.params  # as unsorted
    assert notes == [
        "Shown newest first: a list of more than 2 bills sorts only by bill or time. Choose a day or a"
        " month in the date bar, or search, to sort by another column."
    ]
    # By time, or by bill, it still sorts as asked.
    cl, notes = listed({"o": "2"})
    assert [b.pk for b in cl.result_list] == newest_first[::-1] and notes == []
    # A search narrowing it to fewer bills sorts by any column again.
    cl, notes = listed({**by_amount, "q": "example.com", "created_at__gte": bills[1].created_at.isoformat()})
    assert [b.pk for b in cl.result_list] == [pk for pk in dearest_first if pk != bills[0].pk] and notes == []
