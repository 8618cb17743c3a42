"""Race tests of a bill's customer by mobile number, or by email and number: real threads, real
connections, PostgreSQL."""

from decimal import Decimal

import pytest

from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from customers.models import Customer
from purchases.models import Purchase
from purchases.services import purchase_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal
SPELLINGS = ["9876543210", "+91 98765 43210", "098765-43210", "919876543210", "+919876543210", "98765-43210"]


@pytest.fixture
def tea():
    drawer_with({"10": 10})
    return ProductFactory(price=D("10"), tax_percent=D("0"), stock=100)


def bill(product, **customer):
    return purchase_create(items=[{"product_id": product.pk, "quantity": 1}], paid_amount=D("10"), **customer)


def test_first_bills_for_a_new_phone_at_once_make_one_customer(postgres_only, tea):
    results = run_concurrently(6, lambda i: bill(tea, customer_phone=SPELLINGS[i]))

    assert all(isinstance(r, Purchase) for r in results), results
    customer = Customer.objects.get()
    assert (customer.email, customer.phone) == (None, "+919876543210")
    assert Purchase.objects.filter(customer=customer).count() == 6


@pytest.mark.parametrize(
    "alone", [{"customer_email": "New@Example.com"}, {"customer_phone": "+91 98765 43210"}], ids=["email", "phone"]
)
def test_first_bills_by_the_pair_and_by_one_of_it_at_once_make_one_customer_with_both(postgres_only, tea, alone):
    pair = {"customer_email": "new@example.com", "customer_phone": "9876543210"}

    results = run_concurrently(6, lambda i: bill(tea, **(pair if i % 2 else alone)))

    # Whichever commits first, the other waits on the unique index, inserts nothing, and finds it:
    # a bill by one identifier takes the pair's customer, the pair completes the one-identifier one.
    assert all(isinstance(r, Purchase) for r in results), results
    assert list(Customer.objects.values_list("email", "phone")) == [("new@example.com", "+919876543210")]
    assert Purchase.objects.filter(customer=Customer.objects.get()).count() == 6


def test_one_new_phone_given_to_two_customers_at_once_goes_to_one_and_the_other_is_refused(postgres_only, tea):
    for email in ("ann@example.com", "bob@example.com"):
        bill(tea, customer_email=email)

    results = run_concurrently(
        2, lambda i: bill(tea, customer_email=["ann@example.com", "bob@example.com"][i], customer_phone="9876543210")
    )

    assert sorted(type(r).__name__ for r in results) == ["CustomerConflict", "Purchase"], results
    assert Customer.objects.filter(phone="+919876543210").count() == 1
    assert Purchase.objects.count() == 3  # the two first bills and the one that won
    assert Product.objects.get().stock == 97  # the refused bill took nothing


def test_an_email_added_to_a_known_phone_while_its_other_bills_run_neither_deadlocks_nor_splits(postgres_only, tea):
    """The bills by phone lock the customer's row (FOR KEY SHARE, as their foreign key does) in their
    first statement; the bills that add the email lock it FOR UPDATE there too, so none of them
    waits for the row after it has locked the products."""
    bill(tea, customer_phone="9876543210")

    by_phone = {"customer_phone": "98765 43210"}
    adding_email = {"customer_email": "new@example.com", "customer_phone": "9876543210"}

    results = run_concurrently(8, lambda i: bill(tea, **(adding_email if i % 2 else by_phone)))

    assert all(isinstance(r, Purchase) for r in results), results
    assert list(Customer.objects.values_list("email", "phone")) == [("new@example.com", "+919876543210")]
    assert Purchase.objects.filter(customer=Customer.objects.get()).count() == 9
