"""Head office puts staff in stores: ``GET/PUT /api/v1/staff/{username}/stores``, the user form in
the admin, ``setup_roles --store``, and migration catalog 0011 for an upgraded shop."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from billing_project.core.roles import HEAD_OFFICE, MANAGER, role_assign
from catalog.models import Store
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/staff/{}/stores"


@pytest.fixture
def head_office(roles):
    user = UserFactory(username="hq", is_staff=True, stores=[])
    role_assign(user=user, role=HEAD_OFFICE)
    return user


@pytest.fixture
def head_api(head_office):
    client = APIClient()
    client.force_authenticate(head_office)
    return client


@pytest.fixture
def north(db):
    return Store.objects.create(code="NORTH", name="North store")


def test_head_office_reads_and_sets_a_users_stores(head_api, north):
    main = Store.objects.get(is_default=True)
    cashier = UserFactory(username="cash1")

    assert head_api.get(URL.format("cash1")).json() == {
        "username": "cash1",
        "stores": [{"id": main.pk, "code": "MAIN", "name": main.name}],
    }
    response = head_api.put(URL.format("cash1"), {"stores": [north.pk]}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "username": "cash1",
        "stores": [{"id": north.pk, "code": "NORTH", "name": "North store"}],
    }
    assert list(cashier.stores.all()) == [north]
    assert head_api.put(URL.format("cash1"), {"stores": []}, format="json").json()["stores"] == []


def test_an_unknown_store_is_a_validation_error_and_changes_nothing(head_api, north):
    cashier = UserFactory(username="cash1")
    before = list(cashier.stores.all())

    response = head_api.put(URL.format("cash1"), {"stores": [north.pk, 999_999]}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "stores" in response.json()["details"]
    assert list(cashier.stores.all()) == before


def test_an_unknown_user_is_not_found(head_api):
    assert head_api.get(URL.format("nobody")).json()["code"] == "not_found"
    assert head_api.put(URL.format("nobody"), {"stores": []}, format="json").status_code == 404


def test_only_head_office_puts_staff_in_stores(manager_api, manager_user, north):
    for response in (
        manager_api.get(URL.format(manager_user.username)),
        manager_api.put(URL.format(manager_user.username), {"stores": [north.pk]}, format="json"),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert north not in manager_user.stores.all()


def test_head_office_sets_stores_on_the_user_form(client, head_office, north):
    cashier = UserFactory(username="cash1")
    client.force_login(head_office)
    url = reverse("admin:auth_user_change", args=[cashier.pk])
    form = client.get(url).context["adminform"].form
    data = {
        "username": "cash1",
        "is_active": "on",
        "is_staff": "on",
        "groups": [g.pk for g in form.initial.get("groups", [])],
        "stores": [north.pk],
        "date_joined_0": "2026-12-01",
        "date_joined_1": "10:00:00",
    }

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert list(cashier.stores.all()) == [north]


def test_a_store_manager_sees_only_their_stores_users(manager_client, north):
    UserFactory(username="mine")
    other = UserFactory(username="theirs", stores=[north])

    listed = manager_client.get(reverse("admin:auth_user_changelist")).content.decode()

    assert "mine" in listed and "theirs" not in listed
    change = manager_client.get(reverse("admin:auth_user_change", args=[other.pk]))
    assert change.status_code == 302  # the admin's "no such user"
    assert "stores" not in manager_client.get(reverse("admin:auth_user_add")).context["adminform"].form.fields


def test_a_store_manager_cannot_change_head_office(manager_client, head_office):
    head_office.stores.add(Store.objects.get(is_default=True))
    response = manager_client.post(reverse("admin:auth_user_change", args=[head_office.pk]), {"username": "x"})
    assert response.status_code == 403


def test_head_office_manages_stores_in_the_admin(head_office, manager_client):
    head = Client()
    head.force_login(head_office)
    assert head.get(reverse("admin:catalog_store_changelist")).status_code == 200
    assert manager_client.get(reverse("admin:catalog_store_changelist")).status_code == 403


def test_setup_roles_puts_users_in_a_store(roles, north):
    main = Store.objects.get(is_default=True)
    alice = UserFactory(username="alice", stores=[])
    bob = UserFactory(username="bob", stores=[])

    call_command("setup_roles", "--manager", "alice", "--store", "NORTH", stdout=None)
    call_command("setup_roles", "--cashier", "bob", stdout=None)

    assert list(alice.stores.all()) == [north]
    assert list(bob.stores.all()) == [main]


def test_the_migration_puts_existing_staff_in_the_default_store(roles, superuser):
    main = Store.objects.get(is_default=True)
    staff = UserFactory(username="old-cashier", is_staff=True, stores=[])
    grouped = UserFactory(username="old-role", stores=[])
    grouped.groups.add(*Group.objects.filter(name=MANAGER))
    customer_like = UserFactory(username="not-staff", stores=[])
    migration = importlib.import_module("catalog.migrations.0011_staff_in_default_store")

    class Editor:
        class connection:  # the schema editor's attribute
            alias = "default"

    migration.staff_into_default_store(apps, Editor())

    assert set(main.staff.all()) == {staff, grouped}
    assert not superuser.stores.exists() and not customer_like.stores.exists()
