from decimal import Decimal

import pytest

from cashdrawer.models import Denomination, DrawerMovement
from cashdrawer.tests.factories import drawer_with

pytestmark = pytest.mark.django_db

URL = "/api/v1/denominations"


def test_create_denomination_records_the_starting_count(admin_api, superuser):
    response = admin_api.post(URL, {"value": "500", "available_count": 10}, format="json")

    assert response.status_code == 201
    assert response.json() == {"value": "500.00", "available_count": 10}
    movement = DrawerMovement.objects.get()
    assert (movement.kind, movement.delta, movement.count_after, movement.user) == ("manual_set", 10, 10, superuser)


@pytest.mark.parametrize("value", ["0.50", "0.25", 0.5])
def test_coins_are_denominations_too(admin_api, value):
    response = admin_api.post(URL, {"value": value, "available_count": 4}, format="json")

    assert response.status_code == 201
    assert Denomination.objects.get().value == Decimal(str(value))


def test_list_is_sorted_highest_first_and_not_paginated(admin_api):
    drawer_with({"10": 1, "2000": 2, "0.50": 3, "500": 4})

    response = admin_api.get(URL)

    assert response.status_code == 200
    assert response.json() == [
        {"value": "2000.00", "available_count": 2},
        {"value": "500.00", "available_count": 4},
        {"value": "10.00", "available_count": 1},
        {"value": "0.50", "available_count": 3},
    ]


def test_duplicate_denomination_is_a_conflict(admin_api):
    drawer_with({"500": 1})

    response = admin_api.post(URL, {"value": "500.00", "available_count": 3}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "denomination_exists"
    assert Denomination.objects.get().count == 1


@pytest.mark.parametrize(
    "body",
    [
        {"value": "0", "available_count": 1},
        {"value": "-5", "available_count": 1},
        {"value": "1.005", "available_count": 1},
        {"value": "1e308", "available_count": 1},
        {"value": "10", "available_count": -1},
        {"value": "10", "available_count": 2**31},
        {"value": "10", "available_count": 2**70},
        {"available_count": 1},
    ],
)
def test_invalid_denominations_are_validation_errors(admin_api, body):
    response = admin_api.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert Denomination.objects.count() == 0


@pytest.mark.parametrize("path", ["500", "500.00", "500/", "500.0/"])
def test_put_sets_the_count_as_a_manual_movement(admin_api, superuser, path):
    drawer_with({"500": 3})

    response = admin_api.put(f"{URL}/{path}", {"available_count": 7}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"value": "500.00", "available_count": 7}
    assert Denomination.objects.get().count == 7
    movement = DrawerMovement.objects.order_by("-id").first()
    assert movement is not None
    assert (movement.kind, movement.delta, movement.count_after, movement.user) == ("manual_set", 4, 7, superuser)


def test_put_to_the_same_count_records_nothing(admin_api):
    drawer_with({"500": 3})

    response = admin_api.put(f"{URL}/500", {"available_count": 3}, format="json")

    assert response.status_code == 200
    assert DrawerMovement.objects.count() == 1


def test_put_unknown_denomination_is_not_found(admin_api):
    response = admin_api.put(f"{URL}/123", {"available_count": 3}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_put_negative_count_is_refused(admin_api):
    drawer_with({"500": 3})

    response = admin_api.put(f"{URL}/500", {"available_count": -1}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert Denomination.objects.get().count == 3
