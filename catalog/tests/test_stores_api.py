"""``/api/v1/stores``: head office only, with a store's GST registration checked as the settings were."""

import pytest
from django.contrib.auth import get_user_model

from billing_project.core.roles import HEAD_OFFICE, role_assign
from catalog.models import Store

pytestmark = pytest.mark.django_db

API = "/api/v1"
KA = "29AAACR4849R1ZH"  # a Karnataka GSTIN
MH = "27AAACR4849R1ZL"  # the same PAN in Maharashtra


@pytest.fixture
def head_office_api(roles, api_client):
    user = get_user_model().objects.create_user(username="ho", password="x", is_staff=True)
    role_assign(user=user, role=HEAD_OFFICE)
    api_client.force_authenticate(user)
    return api_client


def test_head_office_lists_opens_and_changes_stores(head_office_api):
    listed = head_office_api.get(f"{API}/stores").json()["results"]
    assert [row["code"] for row in listed] == ["MAIN"]
    assert listed[0]["is_default"] is True

    created = head_office_api.post(
        f"{API}/stores",
        {"code": "BLR", "name": "Bengaluru", "address": "1 MG Road", "state_code": "29", "gstin": KA.lower()},
        format="json",
    )

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "code": "BLR",
        "name": "Bengaluru",
        "legal_name": "",
        "address": "1 MG Road",
        "state_code": "29",
        "gstin": KA,
        "is_active": True,
        "is_default": False,
    }
    changed = head_office_api.patch(f"{API}/stores/{body['id']}", {"legal_name": "Corner Pvt Ltd"}, format="json")
    assert changed.status_code == 200
    assert Store.objects.get(pk=body["id"]).legal_name == "Corner Pvt Ltd"
    assert head_office_api.get(f"{API}/stores/{body['id']}").json()["legal_name"] == "Corner Pvt Ltd"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"gstin": "29AAACR4849R1ZX"}, "gstin"),  # a wrong check character
        ({"state_code": "99"}, "state_code"),
        ({"state_code": "27", "gstin": KA}, "gstin"),  # a Karnataka GSTIN in Maharashtra
        ({"code": "MAIN"}, "code"),  # taken
        ({"name": " "}, "name"),
    ],
)
def test_a_bad_store_is_a_validation_error_naming_the_field(head_office_api, fields, field):
    response = head_office_api.post(f"{API}/stores", {"code": "X1", "name": "X", **fields}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["details"]
    assert Store.objects.count() == 1


def test_a_gstin_must_be_of_the_stores_state_also_when_changed(head_office_api):
    store = Store.objects.create(code="PUN", name="Pune", state_code="27", gstin=MH)

    response = head_office_api.patch(f"{API}/stores/{store.pk}", {"gstin": KA}, format="json")

    assert response.status_code == 400
    assert "gstin" in response.json()["details"]
    assert (
        head_office_api.patch(f"{API}/stores/{store.pk}", {"state_code": "29", "gstin": KA}, format="json").status_code
        == 200
    )


def test_the_default_store_cannot_be_deactivated(head_office_api):
    main = Store.objects.get(is_default=True)

    response = head_office_api.patch(f"{API}/stores/{main.pk}", {"is_active": False}, format="json")

    assert response.status_code == 400
    assert "is_active" in response.json()["details"]
    assert Store.objects.get(pk=main.pk).is_active
    assert head_office_api.patch(f"{API}/stores/{main.pk}", {"is_default": False}, format="json").json()["is_default"]


@pytest.mark.parametrize("client", ["manager_api", "cashier_api"])
def test_everyone_but_head_office_is_refused(request, client):
    api = request.getfixturevalue(client)
    main = Store.objects.get(is_default=True)

    for response in (
        api.get(f"{API}/stores"),
        api.get(f"{API}/stores/{main.pk}"),
        api.post(f"{API}/stores", {"code": "X1", "name": "X"}, format="json"),
        api.patch(f"{API}/stores/{main.pk}", {"name": "Renamed"}, format="json"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert Store.objects.get().name == main.name


def test_anonymous_is_401(api_client):
    assert api_client.get(f"{API}/stores").status_code == 401
