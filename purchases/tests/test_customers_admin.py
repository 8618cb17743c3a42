from decimal import Decimal

import pytest
from django.urls import reverse

from billing_project.core.money import format_money
from catalog.tests.factories import ProductFactory
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from purchases.tests.factories import purchase_for

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:customers_customer_changelist")


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def bills_for(email, *prices):
    return [
        purchase_for(ProductFactory(price=Decimal(p), tax_percent=Decimal("18"), stock=5), email=email) for p in prices
    ]


@pytest.mark.parametrize("who", ["manager_client", "cashier_client"])
def test_customer_pages_render(request, who):
    client = request.getfixturevalue(who)
    (bill,) = bills_for("asha@example.com", "100.00")

    assert client.get(CHANGELIST).status_code == 200
    assert client.get(change_url(bill.customer)).status_code == 200


def test_list_shows_lifetime_totals(manager_client):
    bills = bills_for("asha@example.com", "100.00", "50.00")
    CustomerFactory(email="new@example.com")

    response = manager_client.get(CHANGELIST)

    rows = {c.email: (c.purchase_count, c.total_spent) for c in response.context["cl"].result_list}
    assert rows == {
        "asha@example.com": (2, sum(b.payable for b in bills)),
        "new@example.com": (0, Decimal("0.00")),
    }


@pytest.mark.parametrize("term", ["asha", "ASHA@EXAMPLE.COM", "example.com"])
def test_search_by_email(manager_client, term):
    bills_for("asha@example.com", "10.00")
    CustomerFactory(email="ravi@other.org")

    response = manager_client.get(CHANGELIST, {"q": term})

    assert [c.email for c in response.context["cl"].result_list] == ["asha@example.com"]


def test_customer_page_lists_their_bills_and_totals(manager_client):
    bills = bills_for("asha@example.com", "100.00", "50.00")
    other = bills_for("ravi@example.com", "70.00")[0]

    response = manager_client.get(change_url(bills[0].customer))

    html = response.content.decode()
    for bill in bills:
        assert reverse("admin:purchases_purchase_change", args=[bill.pk]) in html
    assert reverse("admin:purchases_purchase_change", args=[other.pk]) not in html
    payable = sum(b.payable for b in bills)
    tax = sum(b.tax_total for b in bills)
    assert f"2 bill(s); spent {format_money(payable)}" in html
    assert f"tax {format_money(tax)}" in html
    assert f"?customer__id__exact={bills[0].customer_id}" in html


def test_link_to_all_of_a_customers_bills_filters_the_bills_list(manager_client):
    bills = bills_for("asha@example.com", "100.00", "50.00")
    bills_for("ravi@example.com", "70.00")

    response = manager_client.get(
        reverse("admin:purchases_purchase_changelist"), {"customer__id__exact": bills[0].customer_id}
    )

    assert sorted(p.pk for p in response.context["cl"].result_list) == sorted(b.pk for b in bills)


def test_customers_are_read_only_in_the_admin_but_for_their_gst_details(manager_client):
    customer = CustomerFactory(email="asha@example.com")

    assert manager_client.get(reverse("admin:customers_customer_add")).status_code == 403
    # The email is not a field of the form: posting it changes nothing.
    assert manager_client.post(change_url(customer), {"email": "x@example.com"}).status_code == 302
    delete = reverse("admin:customers_customer_delete", args=[customer.pk])
    assert manager_client.post(delete, {"post": "yes"}).status_code == 403
    assert Customer.objects.get(pk=customer.pk).email == "asha@example.com"


def test_a_manager_records_a_business_buyers_gst_details(manager_client):
    customer = CustomerFactory(email="buyer@example.com")
    refused = manager_client.post(change_url(customer), {"gstin": "27AAACR4849R1ZM", "legal_name": "Ravi"})
    assert refused.status_code == 200 and "valid GSTIN" in refused.content.decode()
    assert Customer.objects.get(pk=customer.pk).gstin is None

    saved = manager_client.post(
        change_url(customer),
        {"gstin": "27aaacr4849r1zl", "legal_name": "Ravi Traders", "billing_address": "Pune", "state_code": ""},
    )
    assert saved.status_code == 302
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.gstin, stored.state_code, stored.legal_name) == ("27AAACR4849R1ZL", "27", "Ravi Traders")


def test_a_cashier_may_not_change_a_customer(cashier_client):
    customer = CustomerFactory(email="buyer@example.com")
    assert cashier_client.post(change_url(customer), {"gstin": "27AAACR4849R1ZL"}).status_code == 403
    assert Customer.objects.get(pk=customer.pk).gstin is None


def test_customer_list_query_budget(manager_client, django_assert_max_num_queries):
    for i in range(15):
        bills_for(f"c{i}@example.com", "10.00")

    with django_assert_max_num_queries(10):
        response = manager_client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 15


FIGURES = ("pk", "purchase_count", "total_spent", "discount_total")


def _customers_with_figures() -> list[tuple]:
    """Six customers, five with bills (or none), one known by phone only; each one's figures as
    ``customer_list`` has them, in the list's order."""
    from purchases.selectors import customer_list

    for n, prices in enumerate((("100.00",), ("50.00", "20.00"), (), ("10.00",), ("5.00", "5.00", "5.00"))):
        if prices:
            bills_for(f"c{n}@example.com", *prices)
        else:
            CustomerFactory(email=f"c{n}@example.com")
    CustomerFactory(email=None, phone="+919876543210")  # known by phone only: last
    return [tuple(getattr(c, f) for f in FIGURES) for c in customer_list()]


def _figured(ctx) -> list[str]:
    """The queries that worked out customers' figures (subqueries of the bills)."""
    return [q["sql"] for q in ctx.captured_queries if "purchases_purchase" in q["sql"]]


def test_a_page_of_customers_is_found_before_its_figures_are_worked_out(manager_client, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from purchases.admin import CustomerAdmin

    monkeypatch.setattr(CustomerAdmin, "list_per_page", 2)
    every = _customers_with_figures()

    pages, figured = [], []
    for p in (1, 2, 3):
        with CaptureQueriesContext(connection) as ctx:
            response = manager_client.get(CHANGELIST, {"p": p})
        pages.append([tuple(getattr(c, f) for f in FIGURES) for c in response.context["cl"].result_list])
        figured += _figured(ctx)

    assert pages == [every[0:2], every[2:4], every[4:6]]
    # The figures are worked out in a query of the page's ids only.
    assert len(figured) == 3 and all(" IN (" in sql and "OFFSET" not in sql for sql in figured)


def test_a_page_of_customers_through_the_api_is_found_before_its_figures_are_worked_out(admin_api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    every = _customers_with_figures()

    pages, figured = [], []
    for p in (1, 2, 3):
        with CaptureQueriesContext(connection) as ctx:
            body = admin_api.get("/api/v1/customers", {"page": p, "page_size": 2}).json()
        assert body["count"] == 6
        pages.append([(c["id"], c["purchase_count"], Decimal(c["total_spent"])) for c in body["results"]])
        figured += _figured(ctx)

    assert pages == [[row[:3] for row in every[n : n + 2]] for n in (0, 2, 4)]
    assert len(figured) == 3 and all(" IN (" in sql and "OFFSET" not in sql for sql in figured)


def _customers_with_refunds_and_discounts() -> None:
    """Customers whose figures differ in each way: a discount, a bill refunded in part or in full,
    no bills at all (two, a tie), one known by phone only."""
    from purchases.pricing import quote
    from purchases.services import purchase_create, refund_create

    def bill(email, price, *, phone=None, discount=Decimal("0")):
        product = ProductFactory(price=Decimal(price), tax_percent=Decimal("18"), stock=5)
        total = quote({product.pk: product}, {product.pk: 2}, bill_discount=discount).total
        return purchase_create(
            customer_email=email,
            customer_phone=phone,
            items=[{"product_id": product.pk, "quantity": 2}],
            payments=[{"method": "card", "amount": total}],
            discount_percent=discount,
            discount_reason="regular customer" if discount else "",
        )

    def refund(purchase, quantity):
        (item,) = purchase.items.all()
        refund_create(
            purchase_id=purchase.pk, items=[{"product_id": item.product_id, "quantity": quantity}], reason="back"
        )

    bill("a@example.com", "100.00", discount=Decimal("10"))
    refund(bill("a@example.com", "40.00"), 1)
    refund(bill("b@example.com", "300.00"), 2)  # all of it paid back: spent nothing
    bill("c@example.com", "20.00")
    bill("c@example.com", "20.00")
    bill("c@example.com", "25.00", discount=Decimal("5"))
    CustomerFactory(email="d@example.com")
    CustomerFactory(email="e@example.com")
    bill(None, "60.00", phone="+919876543210")


def test_every_customers_figures_at_once_are_each_customers_figures():
    from purchases.selectors import CUSTOMER_FIGURES, customer_list, customers_by_figures

    _customers_with_refunds_and_discounts()

    def figures(customers):
        return {c.pk: tuple(getattr(c, f) for f in CUSTOMER_FIGURES) for c in customers}

    one_by_one = figures(customer_list())
    assert figures(customers_by_figures(customer_list())) == one_by_one
    # Each way a figure can differ is there to be compared: a refund, a discount, no bills.
    assert {spent for _, refunded, spent, _ in one_by_one.values() if refunded} == {Decimal("0.00"), Decimal("259.60")}
    assert sum(1 for count, _, _, discounts in one_by_one.values() if discounts) == 2
    assert sum(1 for count, *_ in one_by_one.values() if count == 0) == 2


# list_display's columns of the figures, as the admin's ``o`` parameter numbers them.
FIGURE_COLUMNS = {"purchase_count": 3, "total_spent": 4, "discount_total": 5}


@pytest.mark.parametrize("figure", list(FIGURE_COLUMNS))
@pytest.mark.parametrize("descending", [False, True])
def test_customers_ordered_by_a_figure_page_by_page(manager_client, monkeypatch, figure, descending):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from purchases.admin import CustomerAdmin
    from purchases.selectors import customer_list

    monkeypatch.setattr(CustomerAdmin, "list_per_page", 2)
    _customers_with_refunds_and_discounts()
    customers = list(customer_list())

    def key(c):  # the figure, then the list's own order: by email, those known by phone only last
        value = getattr(c, figure)
        return (-value if descending else value, c.email is None, c.email or "", c.phone or "", c.pk)

    expected = [c.pk for c in sorted(customers, key=key)]
    order = f"-{FIGURE_COLUMNS[figure]}" if descending else str(FIGURE_COLUMNS[figure])
    pages, ranked = [], []
    for p in (1, 2, 3):
        with CaptureQueriesContext(connection) as ctx:
            response = manager_client.get(CHANGELIST, {"o": order, "p": p})
        pages += [c.pk for c in response.context["cl"].result_list]
        ranked += [q["sql"] for q in ctx.captured_queries if "purchases_customerfigures" in q["sql"]]

    assert pages == expected
    # Each page's ids are found with every customer's figures at once, not a subquery per customer.
    assert len(ranked) == 3 and all("OFFSET" in sql or p == 1 for p, sql in zip((1, 2, 3), ranked, strict=True))


def test_an_empty_search_ordered_by_a_figure(manager_client):
    _customers_with_refunds_and_discounts()

    response = manager_client.get(CHANGELIST, {"o": "-4", "q": "nobody-here"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
