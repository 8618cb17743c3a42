from decimal import Decimal

import pytest
from django.urls import reverse

from cashdrawer.models import Denomination, DrawerMovement
from cashdrawer.services import drawer_set_count
from cashdrawer.tests.factories import drawer_with
from catalog.tests.factories import ProductFactory
from purchases.services import purchase_create
from purchases.tests.factories import purchase_for

pytestmark = pytest.mark.django_db

DRAWER = reverse("admin:cashdrawer_denomination_changelist")
ADD = reverse("admin:cashdrawer_denomination_add")
LEDGER = reverse("admin:cashdrawer_drawermovement_changelist")


def counts():
    return {d.value: d.count for d in Denomination.objects.all()}


def drawer_form(denominations, new_counts: dict, reason="morning float"):
    """POST data for the drawer screen: every count as shown (the hidden initial) and as typed."""
    data = {"reason": reason}
    for d in denominations:
        data[f"initial-count_{d.pk}"] = str(d.count)
        data[f"count_{d.pk}"] = str(new_counts.get(str(d.value), d.count))
    return data


def test_drawer_screen_shows_counts_values_and_total(manager_client):
    drawer_with({"500": 2, "100": 3, "0.50": 4})

    response = manager_client.get(DRAWER)

    assert response.status_code == 200
    rows = [(r["denomination"].value, r["denomination"].count, r["total"]) for r in response.context["rows"]]
    assert rows == [
        (Decimal("500.00"), 2, Decimal("1000.00")),
        (Decimal("100.00"), 3, Decimal("300.00")),
        (Decimal("0.50"), 4, Decimal("2.00")),
    ]
    assert response.context["drawer_total"] == Decimal("1302.00")
    html = response.content.decode()
    assert "<strong>₹1,302.00</strong>" in html
    assert "₹0.50" in html and "₹1,000.00" in html
    assert 'name="count_' in html


def test_manager_sets_counts_and_each_lands_in_the_ledger(manager_client, manager_user):
    denominations = drawer_with({"500": 2, "100": 3, "50": 1})

    response = manager_client.post(DRAWER, drawer_form(denominations, {"500": 5, "50": 0}, reason="counted"))

    assert response.status_code == 302
    assert counts() == {Decimal("500.00"): 5, Decimal("100.00"): 3, Decimal("50.00"): 0}
    manual = DrawerMovement.objects.filter(reason="counted").order_by("denomination__value")
    assert [(m.denomination.value, m.delta, m.count_after, m.user, m.kind) for m in manual] == [
        (Decimal("50.00"), -1, 0, manager_user, "manual_set"),
        (Decimal("500.00"), 3, 5, manager_user, "manual_set"),
    ]


def test_a_count_the_manager_did_not_touch_is_not_overwritten(manager_client):
    denominations = drawer_with({"500": 2, "100": 3})
    seen = drawer_form(denominations, {"500": 4})
    drawer_set_count(value=Decimal("100"), count=7, reason="a bill took notes meanwhile")  # after the page loaded

    manager_client.post(DRAWER, seen)

    assert counts() == {Decimal("500.00"): 4, Decimal("100.00"): 7}


def test_setting_counts_needs_a_reason(manager_client):
    denominations = drawer_with({"500": 2})

    response = manager_client.post(DRAWER, drawer_form(denominations, {"500": 9}, reason=" "))

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert counts() == {Decimal("500.00"): 2}
    assert DrawerMovement.objects.count() == 1


@pytest.mark.parametrize("bad", ["-1", "x", "2147483648"])
def test_invalid_count_is_a_form_error_and_nothing_changes(manager_client, bad):
    denominations = drawer_with({"500": 2, "100": 1})
    data = drawer_form(denominations, {"100": 5})
    data[f"count_{denominations[0].pk}"] = bad

    response = manager_client.post(DRAWER, data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert counts() == {Decimal("500.00"): 2, Decimal("100.00"): 1}


def test_cashier_neither_sees_the_drawer_nor_sets_counts(cashier_client):
    """The close is blind: what the drawer holds is not for a cashier, in the admin either."""
    denominations = drawer_with({"500": 2})

    page = cashier_client.get(DRAWER)
    post = cashier_client.post(DRAWER, drawer_form(denominations, {"500": 50}))

    assert page.status_code == 403
    assert post.status_code == 403
    assert counts() == {Decimal("500.00"): 2}


def test_cashier_cannot_add_denominations_or_see_the_ledger(cashier_client):
    assert cashier_client.get(ADD).status_code == 403
    assert cashier_client.post(ADD, {"value": "200", "count": "5"}).status_code == 403
    assert cashier_client.get(LEDGER).status_code == 403
    assert not Denomination.objects.exists()


def test_manager_adds_a_denomination_with_its_count_in_the_ledger(manager_client, manager_user):
    response = manager_client.post(ADD, {"value": "200", "count": "5", "reason": "new notes"})

    assert response.status_code == 302
    assert counts() == {Decimal("200.00"): 5}
    movement = DrawerMovement.objects.get()
    assert (movement.delta, movement.count_after, movement.user, movement.reason) == (5, 5, manager_user, "new notes")


def test_adding_an_existing_denomination_is_a_form_error(manager_client):
    drawer_with({"200": 1})

    response = manager_client.post(ADD, {"value": "200.00", "count": "5"})

    assert response.status_code == 200
    assert "value" in response.context["adminform"].form.errors
    assert counts() == {Decimal("200.00"): 1}


def test_denomination_change_page_leads_to_the_drawer_screen(manager_client):
    (denomination,) = drawer_with({"200": 1})

    response = manager_client.get(reverse("admin:cashdrawer_denomination_change", args=[denomination.pk]))

    assert response.status_code == 302
    assert response.url == DRAWER


def bill_with_change(email="buyer@example.com"):
    drawer_with({"500": 1, "100": 5})
    product = ProductFactory(price=Decimal("300.00"), tax_percent=Decimal("0"), stock=10)
    return purchase_create(
        customer_email=email,
        items=[{"product_id": product.pk, "quantity": 1}],
        paid_amount=Decimal("500"),
        tendered=[{"value": Decimal("500"), "count": 1}],
    )


def test_ledger_renders_and_is_read_only(manager_client):
    purchase = bill_with_change()
    movement = DrawerMovement.objects.filter(purchase=purchase).first()
    assert movement is not None
    change = reverse("admin:cashdrawer_drawermovement_change", args=[movement.pk])

    listing = manager_client.get(LEDGER)
    page = manager_client.get(change)
    post = manager_client.post(change, {"delta": "99"})

    assert listing.status_code == 200
    assert page.status_code == 200
    assert post.status_code == 403
    assert manager_client.get(reverse("admin:cashdrawer_drawermovement_add")).status_code == 403
    assert manager_client.post(reverse("admin:cashdrawer_drawermovement_delete", args=[movement.pk])).status_code == 403
    assert DrawerMovement.objects.get(pk=movement.pk).delta == movement.delta


def test_ledger_filters_by_kind_bill_and_date(manager_client):
    purchase = bill_with_change()
    other = purchase_for(ProductFactory(stock=5), email="other@example.com")
    assert other.pk != purchase.pk

    def listed(params):
        return {(m.kind, m.denomination.value) for m in manager_client.get(LEDGER, params).context["cl"].result_list}

    assert listed({"kind__exact": "change_out"}) == {("change_out", Decimal("100.00"))}
    assert listed({"bill": str(purchase.pk)}) == {("tender_in", Decimal("500.00")), ("change_out", Decimal("100.00"))}
    assert listed({"bill": f"#{purchase.pk}"}) == listed({"bill": str(purchase.pk)})
    assert listed({"bill": "none"}) == {("manual_set", Decimal("500.00")), ("manual_set", Decimal("100.00"))}
    assert listed({"bill": "nonsense"}) == set()
    today = purchase.created_at.date()
    by_date = {"created_at__year": today.year, "created_at__month": today.month, "created_at__day": today.day}
    assert len(listed(by_date)) == 4
    assert listed({"created_at__year": today.year - 1}) == set()


def test_drawer_screen_and_ledger_query_budgets(manager_client, django_assert_max_num_queries):
    drawer_with(dict.fromkeys(("2000", "500", "200", "100", "50", "20", "10", "5", "2", "1"), 3))
    product = ProductFactory(price=Decimal("300.00"), tax_percent=Decimal("0"), stock=10)
    for i in range(3):
        purchase_create(
            customer_email=f"b{i}@example.com",
            items=[{"product_id": product.pk, "quantity": 1}],
            paid_amount=Decimal("500"),
            tendered=[{"value": Decimal("500"), "count": 1}],
        )

    with django_assert_max_num_queries(10):
        manager_client.get(DRAWER)
    with django_assert_max_num_queries(14):
        response = manager_client.get(LEDGER)

    assert len(response.context["cl"].result_list) == DrawerMovement.objects.count() == 16
