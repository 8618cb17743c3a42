"""The drawer's caps and the change search's budget: a fuzzed drawer cannot freeze the shop.

Reproduces the reported incident: a manager (a schema fuzzer) left 157 denomination values, some
with hundreds of millions of pieces, and one bill's change computation ran for minutes.
"""

import random
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing_project.core.errors import ValidationFailed
from cashdrawer.change import DEFAULT_STEP_BUDGET, SearchBudgetExceeded, make_change
from cashdrawer.errors import ChangeTooComplex, TooManyDenominations
from cashdrawer.models import MAX_COUNT, MAX_DENOMINATIONS, MAX_VALUE, Denomination, DrawerMovement
from cashdrawer.services import denomination_create, drawer_plan_change, till_default
from catalog.tests.factories import ProductFactory
from purchases.tests.helpers import db_state

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/denominations"

# Slow for the unbounded search (seconds; see bench/change_bench.py), and within every cap:
# 16 close, pairwise awkward values with thousands of pieces each.
HARD_VALUES = [3439, 3389, 3338, 3211, 3202, 3154, 3145, 3062, 2992, 2940, 2923, 2899, 2779, 2755, 2737, 2707]
HARD_COUNTS = [122, 3989, 3876, 3733, 49, 1840, 1833, 1517, 3277, 3410, 4248, 4568, 896, 3866, 3062, 1038]
HARD_AMOUNT = 122018942  # cents


def fuzzed_drawer(seed: int = 157) -> list[tuple[Decimal, int]]:
    """157 values and counts like the fuzzer's: cents from 0.14 to 1.4 billion, counts up to 562 million."""
    rng = random.Random(seed)
    values = {D("0.14"), D("6.70"), D("85.00"), D("1417809170.27")}
    while len(values) < 157:
        values.add(D(rng.choice([rng.randint(1, 10_000), rng.randint(1, 10**8), rng.randint(1, 10**11)])) / 100)
    counts = {D("6.70"): 562_140_541, D("85.00"): 16_744_348}
    return [(v, counts.get(v, rng.choice([rng.randint(0, 50), rng.randint(0, 10**9)]))) for v in sorted(values)]


def hard_drawer() -> dict[Decimal, int]:
    return {D(v) / 100: c for v, c in zip(HARD_VALUES, HARD_COUNTS, strict=True)}


# --- the search's budget ----------------------------------------------------------------------


def test_the_budget_stops_a_hard_search_quickly():
    start = time.perf_counter()
    with pytest.raises(SearchBudgetExceeded):
        make_change(D(HARD_AMOUNT) / 100, hard_drawer())
    assert time.perf_counter() - start < 1.0  # unbounded, this input takes seconds


@pytest.mark.parametrize("budget", [1, 100, 5_000])
def test_a_smaller_budget_stops_sooner(budget):
    with pytest.raises(SearchBudgetExceeded):
        make_change(D(HARD_AMOUNT) / 100, hard_drawer(), budget=budget)


CURRENCIES = {
    "INR": ["2000", "500", "200", "100", "50", "20", "10", "5", "2", "1", "0.50", "0.25"],
    "USD": ["100", "50", "20", "10", "5", "2", "1", "0.50", "0.25", "0.10", "0.05", "0.01"],
    "EUR": ["500", "200", "100", "50", "20", "10", "5", "2", "1", "0.50", "0.20", "0.10", "0.05", "0.02", "0.01"],
    "JPY": ["10000", "5000", "2000", "1000", "500", "100", "50", "10", "5", "1"],
}


@pytest.mark.parametrize("currency", CURRENCIES)
def test_real_currency_drawers_are_far_from_the_budget(currency):
    denominations = [D(v) for v in CURRENCIES[currency]]
    rng = random.Random(currency)
    for _ in range(200):
        available = {v: rng.choice([0, rng.randint(0, 20), rng.randint(0, 500), MAX_COUNT]) for v in denominations}
        amount = D(rng.randint(0, 40_000_000)) / 100
        # a fifth of the budget is plenty: real currencies never come near it
        result = make_change(amount, available, budget=DEFAULT_STEP_BUDGET // 5)
        if result is not None:
            assert sum(v * k for v, k in result.items()) == amount
            assert all(k <= available[v] for v, k in result.items())


def test_the_service_turns_a_spent_budget_into_change_too_complex():
    denominations = [Denomination(value=v, count=c) for v, c in hard_drawer().items()]
    with pytest.raises(ChangeTooComplex) as caught:
        drawer_plan_change(denominations=denominations, tendered={}, change_due=D(HARD_AMOUNT) / 100)
    assert caught.value.code == "change_too_complex"
    assert caught.value.status_code == 409


def test_a_bill_on_a_hard_drawer_is_refused_and_writes_nothing(admin_api):
    main = till_default()
    Denomination.objects.bulk_create(Denomination(till=main, value=v, count=c) for v, c in hard_drawer().items())
    product = ProductFactory(price=D("1.00"), tax_percent=D("0"), stock=5)
    before = db_state()

    response = admin_api.post(
        "/api/v1/purchases",
        {
            "customer_email": "ann@example.com",
            "items": [{"product_id": product.pk, "quantity": 1}],
            "paid_amount": str(D(HARD_AMOUNT) / 100 + 1),
        },
        format="json",
    )

    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "change_too_complex"
    assert db_state() == before


# --- caps on what a manager can put in the drawer ---------------------------------------------


def test_the_fuzzed_drawer_cannot_be_created_through_the_api(manager_api):
    answers = []
    for value, count in fuzzed_drawer():
        response = manager_api.post(URL, {"value": str(value), "available_count": count}, format="json")
        answers.append((value, count, response.status_code, response.json().get("code")))

    created = [(v, c) for v, c, status, _ in answers if status == 201]
    assert len(created) == MAX_DENOMINATIONS
    assert all(v <= MAX_VALUE and c <= MAX_COUNT for v, c in created)
    for value, count, status, code in answers:
        if value > MAX_VALUE or count > MAX_COUNT:
            assert (status, code) == (400, "validation_error"), (value, count)
        elif status != 201:
            assert (status, code) == (409, "too_many_denominations"), (value, count)
    assert sorted(Denomination.objects.values_list("value", "count")) == sorted(created)
    assert DrawerMovement.objects.count() == sum(1 for _, c in created if c)


def test_the_24th_value_is_the_last():
    for cents in range(1, MAX_DENOMINATIONS + 1):
        denomination_create(value=D(cents), count=1)

    with pytest.raises(TooManyDenominations) as caught:
        denomination_create(value=D("1000"), count=5)

    assert caught.value.details == {"held": MAX_DENOMINATIONS, "max": MAX_DENOMINATIONS}
    assert Denomination.objects.count() == MAX_DENOMINATIONS
    assert not Denomination.objects.filter(value=D("1000")).exists()


@pytest.mark.parametrize(
    ("value", "count"),
    [(MAX_VALUE + D("0.01"), 1), (D("1417809170.27"), 0), (D("6.70"), MAX_COUNT + 1), (D("6.70"), 562_140_541)],
)
def test_the_service_refuses_values_and_counts_over_the_caps(value, count):
    with pytest.raises(ValidationFailed):
        denomination_create(value=value, count=count)
    assert not Denomination.objects.exists()


def test_the_caps_themselves_are_accepted():
    denomination_create(value=MAX_VALUE, count=MAX_COUNT)
    assert Denomination.objects.get().count == MAX_COUNT


@pytest.mark.parametrize(
    "row", [{"value": MAX_VALUE + D("0.01"), "count": 0}, {"value": D("1"), "count": MAX_COUNT + 1}]
)
def test_the_database_refuses_rows_over_the_caps(row):
    with pytest.raises(IntegrityError), transaction.atomic():
        Denomination.objects.create(**row)


def test_a_count_can_not_be_set_over_the_cap(manager_api):
    denomination_create(value=D("10"), count=3)
    response = manager_api.put(f"{URL}/10", {"available_count": MAX_COUNT + 1}, format="json")
    assert response.status_code == 400
    assert Denomination.objects.get().count == 3


# --- an old drawer already over the number-of-values cap (forced in, as an upgraded shop may have)


def test_a_bill_on_a_forced_157_value_drawer_is_answered_or_refused_within_a_bound(admin_api):
    rows = [(v, c) for v, c in fuzzed_drawer() if v <= MAX_VALUE]  # the CHECKs keep the rest out
    rows = [(v, min(c, MAX_COUNT)) for v, c in rows]
    main = till_default()
    Denomination.objects.bulk_create(Denomination(till=main, value=v, count=c) for v, c in rows)
    assert Denomination.objects.count() > MAX_DENOMINATIONS
    product = ProductFactory(price=D("1.00"), tax_percent=D("0"), stock=50)
    for paid in ("9876543.21", "123456.78", "1000.01"):
        before = db_state()
        start = time.perf_counter()
        response = admin_api.post(
            "/api/v1/purchases",
            {
                "customer_email": "ann@example.com",
                "items": [{"product_id": product.pk, "quantity": 1}],
                "paid_amount": paid,
            },
            format="json",
        )
        elapsed = time.perf_counter() - start

        assert elapsed < 2.0  # seconds, on a slow shared test machine; the search alone is < 50 ms
        assert response.status_code in (201, 409), response.json()
        if response.status_code == 409:
            assert response.json()["code"] in ("change_too_complex", "change_unavailable")
            assert db_state() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_managers_adding_the_last_values_at_once_stay_within_the_cap(postgres_only):
    import threading

    from django.db import close_old_connections, connection

    for cents in range(1, MAX_DENOMINATIONS):  # one short of the cap
        denomination_create(value=D(cents), count=1)
    barrier = threading.Barrier(4)
    results: list[object] = [None] * 4

    def add(i):
        try:
            barrier.wait(timeout=10)
            results[i] = denomination_create(value=D(1000 + i), count=2)
        except Exception as exc:
            results[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sum(isinstance(r, Denomination) for r in results) == 1
    assert sum(isinstance(r, TooManyDenominations) for r in results) == 3
    assert Denomination.objects.count() == MAX_DENOMINATIONS
