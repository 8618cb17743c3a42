"""Roles: the groups roles_setup creates, what each role may do through the API, and who may
give roles in the admin."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from billing_project.core.roles import CASHIER, MANAGER, ROLE_PERMISSIONS, roles_setup
from cashdrawer.models import Denomination
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory
from purchases.models import Purchase
from purchases.tests.factories import purchase_for

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def shop(roles):
    """A product, a drawer and a bill to point the requests at."""
    product = ProductFactory(sku="TEA-1", price=Decimal("100.00"), tax_percent=Decimal("0"), stock=50)
    drawer_with({"500": 2, "100": 5})
    purchase = purchase_for(product, email="buyer@example.com")
    return {"product": product, "purchase": purchase}


def product_body(**overrides):
    return {"sku": "NEW-1", "name": "New", "price": "10.00", "tax_percent": "5.00", "stock": 3, **overrides}


def put_body(**overrides):
    """A PUT leaves the stock out: it changes only through the stock ledger."""
    return {key: value for key, value in product_body(**overrides).items() if key != "stock"}


def bill_body(product):
    return {
        "customer_email": "walk-in@example.com",
        "items": [{"product_id": product.pk, "quantity": 1}],
        "paid_amount": "100",
    }


# (name, method, path, body) — path and body may use the shop's objects.
ENDPOINTS = {
    "list products": ("get", lambda s: f"{API}/products", None),
    "get product": ("get", lambda s: f"{API}/products/{s['product'].pk}", None),
    "create product": ("post", lambda s: f"{API}/products", lambda s: product_body()),
    "put product": ("put", lambda s: f"{API}/products/{s['product'].pk}", lambda s: put_body(sku="TEA-1")),
    "patch product price": ("patch", lambda s: f"{API}/products/{s['product'].pk}", lambda s: {"price": "1.00"}),
    "patch product lead time": (
        "patch",
        lambda s: f"{API}/products/{s['product'].pk}",
        lambda s: {"lead_time_days": 9},
    ),
    "product movements": ("get", lambda s: f"{API}/products/{s['product'].pk}/movements", None),
    "create supplier": ("post", lambda s: f"{API}/suppliers", lambda s: {"name": "Wholesaler"}),
    "list receipts": ("get", lambda s: f"{API}/receipts", None),
    "adjust stock": (
        "post",
        lambda s: f"{API}/adjustments",
        lambda s: {"lines": [{"product_id": s["product"].pk, "quantity": -1}], "reason": "damaged"},
    ),
    "open stock count": ("post", lambda s: f"{API}/stock-counts", lambda s: {"products": [s["product"].pk]}),
    "list stock counts": ("get", lambda s: f"{API}/stock-counts", None),
    "delete product": ("delete", lambda s: f"{API}/products/{s['product'].pk}", None),
    "list denominations": ("get", lambda s: f"{API}/denominations", None),
    "create denomination": ("post", lambda s: f"{API}/denominations", lambda s: {"value": "200", "available_count": 5}),
    "set denomination count": ("put", lambda s: f"{API}/denominations/500", lambda s: {"available_count": 40}),
    "list purchases": ("get", lambda s: f"{API}/purchases", None),
    "get purchase": ("get", lambda s: f"{API}/purchases/{s['purchase'].pk}", None),
    "create purchase": ("post", lambda s: f"{API}/purchases", lambda s: bill_body(s["product"])),
    "list customers": ("get", lambda s: f"{API}/customers", None),
    "customer purchases": ("get", lambda s: f"{API}/customers/{s['purchase'].customer_id}/purchases", None),
}

OK = {"get": 200, "post": 201, "put": 200, "patch": 200, "delete": 204}
CASHIER_MAY = {
    "list products",
    "get product",
    "list denominations",
    "list purchases",
    "get purchase",
    "create purchase",
    "list customers",
    "customer purchases",
}


def call(client, shop, endpoint):
    method, path, body = ENDPOINTS[endpoint]
    kwargs = {"format": "json"} if body else {}
    return getattr(client, method)(path(shop), body(shop) if body else None, **kwargs)


def state():
    """What a refused write must leave untouched."""
    return (
        sorted(Product.objects.values_list("sku", "price", "stock", "is_active")),
        sorted(Denomination.objects.values_list("value", "count")),
        Purchase.objects.count(),
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_manager_may_do_everything(manager_api, shop, endpoint):
    response = call(manager_api, shop, endpoint)

    assert response.status_code == OK[ENDPOINTS[endpoint][0]], response.content


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_superuser_may_do_everything(admin_api, shop, endpoint):
    response = call(admin_api, shop, endpoint)

    assert response.status_code == OK[ENDPOINTS[endpoint][0]], response.content


@pytest.mark.parametrize("endpoint", sorted(CASHIER_MAY))
def test_cashier_may_read_and_ring_up_bills(cashier_api, shop, endpoint):
    response = call(cashier_api, shop, endpoint)

    assert response.status_code == OK[ENDPOINTS[endpoint][0]], response.content


@pytest.mark.parametrize("endpoint", sorted(set(ENDPOINTS) - CASHIER_MAY))
def test_cashier_cannot_change_products_stock_or_the_drawer(cashier_api, shop, endpoint):
    before = state()

    response = call(cashier_api, shop, endpoint)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert state() == before


def test_cashiers_bill_changes_stock_and_drawer_through_the_bill(cashier_api, cashier_user, shop):
    response = cashier_api.post(
        f"{API}/purchases",
        {**bill_body(shop["product"]), "tendered": [{"value": "100", "count": 1}]},
        format="json",
    )

    assert response.status_code == 201
    assert Product.objects.get(pk=shop["product"].pk).stock == 48
    assert Denomination.objects.get(value=100).count == 6
    assert Purchase.objects.get(pk=response.json()["id"]).created_by == cashier_user


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_user_without_a_role_cannot_even_read(shop, endpoint):
    client = APIClient()
    client.force_authenticate(UserFactory(username="nobody"))
    before = state()

    response = call(client, shop, endpoint)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert state() == before


@pytest.mark.parametrize("endpoint", ["list products", "create product", "create purchase", "list customers"])
def test_anonymous_gets_401(api_client, shop, endpoint):
    response = call(api_client, shop, endpoint)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_login_as_a_cashier_then_ring_up(api_client, shop):
    user = UserFactory(username="till-1")
    call_command("setup_roles", "--cashier", "till-1", stdout=io.StringIO())

    token = api_client.post(f"{API}/auth/token", {"username": "till-1", "password": "pass-word-123"}, format="json")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    assert api_client.post(f"{API}/purchases", bill_body(shop["product"]), format="json").status_code == 201
    assert api_client.post(f"{API}/products", product_body(), format="json").status_code == 403
    assert user.groups.get().name == CASHIER


# --- roles_setup and setup_roles --------------------------------------------------------------


def group_permissions():
    return {
        group.name: sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all())
        for group in Group.objects.prefetch_related("permissions__content_type")
    }


def test_roles_setup_creates_the_groups_with_exactly_their_permissions(db):
    roles_setup()

    assert group_permissions() == {role: sorted(perms) for role, perms in ROLE_PERMISSIONS.items()}


def test_roles_setup_is_idempotent_and_repairs_a_group(db):
    roles_setup()
    Group.objects.get(name=CASHIER).permissions.clear()
    Group.objects.get(name=MANAGER).permissions.remove(*Group.objects.get(name=MANAGER).permissions.all()[:3])

    roles_setup()
    roles_setup()

    assert Group.objects.count() == 3
    assert group_permissions() == {role: sorted(perms) for role, perms in ROLE_PERMISSIONS.items()}


def test_setup_roles_command_assigns_roles(db):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    out = io.StringIO()

    call_command("setup_roles", "--manager", "alice", "--cashier", "bob", stdout=out)
    call_command("setup_roles", "--cashier", "alice", stdout=out)  # a new role replaces the old one

    alice.refresh_from_db()
    assert [g.name for g in alice.groups.all()] == [CASHIER]
    assert alice.is_staff
    assert [g.name for g in bob.groups.all()] == [CASHIER]
    assert "Roles are set up." in out.getvalue()


def test_setup_roles_with_an_unknown_user_fails_and_assigns_nothing(db):
    alice = UserFactory(username="alice")

    with pytest.raises(CommandError, match="No such user: ghost"):
        call_command("setup_roles", "--manager", "alice", "--manager", "ghost", stdout=io.StringIO())

    assert not alice.groups.exists()


# --- Giving roles in the admin ----------------------------------------------------------------


def test_manager_gives_a_user_a_role_but_cannot_make_a_superuser(manager_client):
    user = UserFactory(username="newbie")
    url = reverse("admin:auth_user_change", args=[user.pk])
    cashier_group = Group.objects.get(name=CASHIER)
    other_group = Group.objects.create(name="Auditors")
    user.groups.add(other_group)

    page = manager_client.get(url)
    form = page.context["adminform"].form
    response = manager_client.post(
        url,
        {
            "username": "newbie",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",  # not on the form: ignored
            "groups": [str(cashier_group.pk)],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )

    assert "is_superuser" not in form.fields
    assert "user_permissions" not in form.fields
    assert sorted(g.name for g in form.fields["groups"].queryset) == [CASHIER, MANAGER]
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    user.refresh_from_db()
    assert (user.is_superuser, user.is_staff) == (False, True)
    assert sorted(g.name for g in user.groups.all()) == ["Auditors", CASHIER]


def test_manager_cannot_change_a_superuser(manager_client, superuser):
    # One who works at the manager's store (a manager sees no user of another store at all).
    superuser.stores.add(*superuser.stores.model.objects.filter(is_default=True))
    url = reverse("admin:auth_user_change", args=[superuser.pk])

    response = manager_client.post(url, {"username": "root", "is_active": ""})

    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.is_active
    assert manager_client.get(reverse("admin:auth_user_password_change", args=[superuser.pk])).status_code == 403


def test_cashier_cannot_manage_users(cashier_client, manager_user):
    assert cashier_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    url = reverse("admin:auth_user_change", args=[manager_user.pk])
    assert cashier_client.post(url, {"username": "x"}).status_code == 403
