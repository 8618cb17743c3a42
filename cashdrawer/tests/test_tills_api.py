"""Tills, their drawers and sessions through the API: every rule and error code of the contract."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings

from cashdrawer.models import CashMovement, Denomination, DrawerMovement, Till, TillSession
from cashdrawer.selectors import drawer_audit
from cashdrawer.services import denomination_create, session_open, till_create
from cashdrawer.tests.factories import drawer_with
from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory
from purchases.models import Purchase

pytestmark = pytest.mark.django_db

API = "/api/v1"
D = Decimal


def counts(till) -> dict:
    return {str(v): c for v, c in Denomination.objects.filter(till=till).values_list("value", "count")}


def counted(**pieces) -> list[dict]:
    return [{"value": f"{D(value.lstrip('v')):.2f}", "count": count} for value, count in pieces.items()]


@pytest.fixture
def till(db):
    t = till_create(code="T1", name="Front")
    for value, count in (("500", 2), ("100", 5), ("10", 10)):
        denomination_create(value=D(value), count=count, till=t)
    return t


@pytest.fixture
def product(db):
    return ProductFactory(price=D("90"), tax_percent=D("0"), stock=1000)


def bill(client, product, *, till=None, paid="100", tendered=None, key=None):
    body = {
        "customer_email": "buyer@example.com",
        "items": [{"product_id": product.pk, "quantity": 1}],
        "paid_amount": paid,
        "send_invoice": False,
    }
    if tendered is not None:
        body["tendered"] = tendered
    if till is not None:
        body["till"] = till.pk
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"{API}/purchases", body, format="json", **headers)


# --- Tills ---------------------------------------------------------------------------------------


def test_list_tills_is_paginated_with_the_current_session(admin_api, till):
    session = session_open(till_id=till.pk, counted=counted(v500=2, v100=5, v10=10))

    response = admin_api.get(f"{API}/tills")

    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()["results"]}
    assert rows["T1"] == {
        "id": till.pk,
        "code": "T1",
        "name": "Front",
        "is_active": True,
        "requires_open_session": False,
        "store": till.store_id,
        "invoice_series": None,
        "credit_series": None,
        "invoice_series_code": str(till.pk),
        "credit_series_code": f"C{till.pk}",
        "current_session": session.pk,
    }


def test_manager_creates_a_till_and_a_duplicate_code_is_till_exists(manager_api):
    response = manager_api.post(f"{API}/tills", {"code": "T9", "name": "Back"}, format="json")
    assert response.status_code == 201
    assert response.json()["current_session"] is None

    again = manager_api.post(f"{API}/tills", {"code": "T9"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "till_exists"
    assert Till.objects.filter(code="T9").count() == 1


def test_cashier_cannot_create_a_till(cashier_api):
    response = cashier_api.post(f"{API}/tills", {"code": "T9"}, format="json")

    assert response.status_code == 403
    assert not Till.objects.filter(code="T9").exists()


def test_patch_a_till(manager_api, till):
    response = manager_api.patch(f"{API}/tills/{till.pk}", {"is_active": False, "name": "Closed"}, format="json")

    assert response.status_code == 200
    assert Till.objects.get(pk=till.pk).is_active is False
    assert manager_api.get(f"{API}/tills/{till.pk}").json()["name"] == "Closed"


def test_patch_to_a_taken_code_is_till_exists(manager_api, till):
    till_create(code="T2")

    response = manager_api.patch(f"{API}/tills/{till.pk}", {"code": "T2"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "till_exists"
    assert Till.objects.get(pk=till.pk).code == "T1"


# --- A till's drawer -----------------------------------------------------------------------------


def test_a_tills_drawer_is_its_own_highest_first(admin_api, till):
    drawer_with({"2000": 1})  # the default till's drawer

    response = admin_api.get(f"{API}/tills/{till.pk}/denominations")

    assert response.status_code == 200
    assert response.json() == [
        {"value": "500.00", "available_count": 2},
        {"value": "100.00", "available_count": 5},
        {"value": "10.00", "available_count": 10},
    ]
    assert admin_api.get(f"{API}/denominations").json() == [{"value": "2000.00", "available_count": 1}]


def test_manager_adds_and_sets_a_tills_denominations_as_manual_sets(manager_api, till, manager_user):
    added = manager_api.post(f"{API}/tills/{till.pk}/denominations", {"value": "50", "available_count": 4}, "json")
    assert added.status_code == 201
    again = manager_api.post(f"{API}/tills/{till.pk}/denominations", {"value": "50"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "denomination_exists"

    put = manager_api.put(f"{API}/tills/{till.pk}/denominations/50", {"available_count": 7}, format="json")

    assert put.status_code == 200
    assert counts(till)["50.00"] == 7
    last = DrawerMovement.objects.filter(till=till).order_by("-id").first()
    assert last is not None
    assert (last.kind, last.delta, last.user) == ("manual_set", 3, manager_user)


def test_cashier_cannot_set_a_tills_drawer(cashier_api, till):
    response = cashier_api.put(f"{API}/tills/{till.pk}/denominations/500", {"available_count": 9}, format="json")

    assert response.status_code == 403
    assert counts(till)["500.00"] == 2


def test_the_same_value_may_be_at_two_tills(till):
    other = till_create(code="T2")
    denomination_create(value=D("500"), count=1, till=other)

    assert Denomination.objects.filter(value=D("500")).count() == 2


# --- Sessions ------------------------------------------------------------------------------------


def test_a_managers_open_posts_the_difference_as_open_count_movements(manager_api, till, manager_user):
    response = manager_api.post(
        f"{API}/tills/{till.pk}/sessions", {"counted": counted(v500=3, v100=5), "note": "morning"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    # 500: +1 (500.00), 100: 0, 10: left out = 0, -10 (-100.00)
    assert body["opening_variance"] == "400.00"
    assert body["opening_counted"] == counted(v500=3, v100=5, v10=0)
    assert body["status"] == "open" and body["auto_opened"] is False and body["opened_by"] == manager_user.pk
    for field in ("closed_at", "closed_by", "closing_counted", "expected", "variance", "variance_total"):
        assert body[field] is None
    assert counts(till) == {"500.00": 3, "100.00": 5, "10.00": 0}
    moves = DrawerMovement.objects.filter(kind="open_count", session_id=body["id"])
    assert sorted((str(m.denomination.value), m.delta) for m in moves) == [("10.00", -10), ("500.00", 1)]
    assert drawer_audit().ok


def test_open_with_an_open_session_is_session_open(cashier_api, till):
    session_open(till_id=till.pk, counted=counted(v500=2, v100=5, v10=10))

    response = cashier_api.post(f"{API}/tills/{till.pk}/sessions", {"counted": []}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "session_open"
    assert TillSession.objects.filter(till=till).count() == 1


def test_open_an_inactive_till_is_till_inactive(cashier_api, till):
    Till.objects.filter(pk=till.pk).update(is_active=False)

    response = cashier_api.post(f"{API}/tills/{till.pk}/sessions", {"counted": []}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "till_inactive"
    assert not TillSession.objects.exists()


@pytest.mark.parametrize(
    "count",
    [
        [{"value": "20", "count": 1}],  # a value the till does not know
        [{"value": "500", "count": 1}, {"value": "500", "count": 2}],  # counted twice
        [{"value": "500", "count": -1}],
    ],
)
def test_open_with_a_bad_count_is_a_validation_error_and_changes_nothing(cashier_api, till, count):
    response = cashier_api.post(f"{API}/tills/{till.pk}/sessions", {"counted": count}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert not TillSession.objects.exists()
    assert counts(till) == {"500.00": 2, "100.00": 5, "10.00": 10}


def test_open_is_idempotent_with_a_key(cashier_api, till):
    url, body = f"{API}/tills/{till.pk}/sessions", {"counted": counted(v500=2, v100=5, v10=10)}

    first = cashier_api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="open-1")
    second = cashier_api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="open-1")

    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert TillSession.objects.count() == 1


def test_sessions_list_filters_by_till_and_status(admin_api, till):
    closed = session_open(till_id=till.pk, counted=counted(v500=2, v100=5, v10=10))
    admin_api.post(f"{API}/sessions/{closed.pk}/close", {"counted": counted(v500=2, v100=5, v10=10)}, format="json")
    current = session_open(till_id=till.pk, counted=counted(v500=2, v100=5, v10=10))
    other = session_open(till_id=till_create(code="T2").pk, counted=[])

    def ids(query):
        return [row["id"] for row in admin_api.get(f"{API}/sessions{query}").json()["results"]]

    assert ids(f"?till={till.pk}") == [current.pk, closed.pk]
    assert ids(f"?till={till.pk}&status=closed") == [closed.pk]
    assert set(ids("?status=open")) == {current.pk, other.pk}
    assert admin_api.get(f"{API}/sessions?status=nope").status_code == 400


# --- Cash in and out -----------------------------------------------------------------------------


@pytest.fixture
def open_session(till):
    return session_open(till_id=till.pk, counted=counted(v500=2, v100=5, v10=10))


def test_cash_out_by_a_manager(manager_api, till, open_session, manager_user):
    response = manager_api.post(
        f"{API}/sessions/{open_session.pk}/cash-movements",
        {"direction": "out", "pieces": [{"value": "100", "count": 3}, {"value": "500", "count": 1}], "reason": "safe"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "800.00" and body["direction"] == "out" and body["user"] == manager_user.pk
    assert body["pieces"] == [{"value": "500.00", "count": 1}, {"value": "100.00", "count": 3}]
    assert body["session"] == open_session.pk and body["reason"] == "safe"
    assert counts(till) == {"500.00": 1, "100.00": 2, "10.00": 10}
    assert DrawerMovement.objects.filter(cash_movement_id=body["id"], kind="cash_out").count() == 2


def test_cash_out_of_more_than_the_drawer_holds_is_insufficient_cash(manager_api, till, open_session):
    response = manager_api.post(
        f"{API}/sessions/{open_session.pk}/cash-movements",
        {"direction": "out", "pieces": [{"value": "100", "count": 1}, {"value": "500", "count": 3}], "reason": "x"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_cash"
    assert counts(till) == {"500.00": 2, "100.00": 5, "10.00": 10}
    assert not CashMovement.objects.exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_cash_movement_needs_a_reason(manager_api, till, open_session, reason):
    response = manager_api.post(
        f"{API}/sessions/{open_session.pk}/cash-movements",
        {"direction": "in", "pieces": [{"value": "100", "count": 1}], "reason": reason},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert not CashMovement.objects.exists()


def test_cash_movement_in_a_closed_session_is_session_closed(manager_api, till, open_session):
    manager_api.post(f"{API}/sessions/{open_session.pk}/close", {"counted": counted(v500=2, v100=5, v10=10)}, "json")

    response = manager_api.post(
        f"{API}/sessions/{open_session.pk}/cash-movements",
        {"direction": "in", "pieces": [{"value": "100", "count": 1}], "reason": "float"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "session_closed"


def test_cashier_needs_the_cash_movement_permission(cashier_api, cashier_user, till, open_session):
    url = f"{API}/sessions/{open_session.pk}/cash-movements"
    body = {"direction": "in", "pieces": [{"value": "10", "count": 5}], "reason": "float top-up"}
    assert cashier_api.post(url, body, format="json").status_code == 403

    cashier_user.user_permissions.add(Permission.objects.get(codename="add_cashmovement"))
    cashier_user = type(cashier_user).objects.get(pk=cashier_user.pk)  # drop the permission cache
    cashier_api.force_authenticate(cashier_user)

    assert cashier_api.post(url, body, format="json").status_code == 201
    assert counts(till)["10.00"] == 15


# --- Close, variance and the reports -----------------------------------------------------------


def test_close_exact_is_zero_variance_and_freezes_the_z_report(cashier_api, manager_api, till, open_session, product):
    assert bill(cashier_api, product, till=till, tendered=[{"value": "100", "count": 1}]).status_code == 201

    response = cashier_api.post(
        f"{API}/sessions/{open_session.pk}/close", {"counted": counted(v500=2, v100=6, v10=9)}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    # The cashier's answer is blind: what was counted, no expected counts, no variance.
    assert body["status"] == "closed" and body["closing_counted"] == counted(v500=2, v100=6, v10=9)
    assert body["expected"] is None and body["variance"] is None and body["variance_total"] is None
    blind = cashier_api.get(f"{API}/sessions/{open_session.pk}/report").json()["cash"]
    assert blind["expected"] is None and blind["counted"] is None and blind["variance"] is None
    body = manager_api.get(f"{API}/sessions/{open_session.pk}").json()
    assert body["variance"] == [] and body["variance_total"] == "0.00"
    assert body["expected"] == counted(v500=2, v100=6, v10=9)
    report = manager_api.get(f"{API}/sessions/{open_session.pk}/report").json()
    assert report["bills"] == 1 and report["status"] == "closed"
    assert report["cash"] == {
        "opening": "1600.00",
        "sales": "100.00",
        "change_given": "10.00",
        "cash_in": "0.00",
        "cash_out": "0.00",
        "refunds": "0.00",
        "expected": "1690.00",
        "uncounted_cash": "0.00",
        "counted": "1690.00",
        "variance": "0.00",
    }
    assert report["payments"] == [{"method": "cash", "amount": "90.00"}]
    assert drawer_audit().ok


def test_close_short_by_a_manager_closes_at_once(cashier_api, manager_api, till, open_session):
    short = {"counted": counted(v500=2, v100=4, v10=10)}

    closed = manager_api.post(f"{API}/sessions/{open_session.pk}/close", short, format="json")

    assert closed.status_code == 200
    assert closed.json()["variance"] == [{"value": "100.00", "count": -1}]
    assert closed.json()["variance_total"] == "-100.00"
    assert counts(till) == {"500.00": 2, "100.00": 4, "10.00": 10}
    move = DrawerMovement.objects.get(kind="close_count", session=open_session)
    assert (move.delta, move.count_after) == (-1, 4)
    assert drawer_audit().ok


@override_settings(CASH_VARIANCE_LIMIT=D("10.00"))
def test_a_variance_within_the_limit_needs_no_manager(cashier_api, till, open_session):
    response = cashier_api.post(
        f"{API}/sessions/{open_session.pk}/close", {"counted": counted(v500=2, v100=5, v10=9)}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "closed" and response.json()["variance_total"] is None
    assert TillSession.objects.get(pk=open_session.pk).variance_total == D("-10.00")


def test_closing_a_closed_session_is_session_closed(manager_api, till, open_session):
    url, body = f"{API}/sessions/{open_session.pk}/close", {"counted": counted(v500=2, v100=5, v10=10)}
    assert manager_api.post(url, body, format="json").status_code == 200

    again = manager_api.post(url, body, format="json")

    assert again.status_code == 409
    assert again.json()["code"] == "session_closed"


def test_cash_taken_without_its_notes_closes_with_zero_variance(cashier_api, manager_api, till, product):
    """A bill paid with paid_amount alone: the cash is in sales and expected, shown as uncounted."""
    response = bill(cashier_api, product, till=till, paid="100")  # 100 in, change 10 from the drawer
    assert response.status_code == 201
    session_id = response.json()["session"]
    x = manager_api.get(f"{API}/sessions/{session_id}/report").json()
    assert x["status"] == "open" and x["cash"]["uncounted_cash"] == "100.00" and x["cash"]["counted"] is None
    assert x["cash"]["expected"] == "1690.00"

    # The drawer really holds the 100 note: counted 500×2 + 100×6 + 10×9 = 1690.
    closed = cashier_api.post(
        f"{API}/sessions/{session_id}/close", {"counted": counted(v500=2, v100=6, v10=9)}, format="json"
    )

    assert closed.status_code == 200, closed.content
    closed = manager_api.get(f"{API}/sessions/{session_id}")
    assert closed.json()["variance_total"] == "0.00"
    assert closed.json()["variance"] == [{"value": "100.00", "count": 1}]  # the note the ledger never saw
    assert counts(till) == {"500.00": 2, "100.00": 6, "10.00": 9}
    assert drawer_audit().ok


def test_the_identity_holds_with_every_kind_of_movement(manager_api, till, open_session, product):
    assert bill(manager_api, product, till=till, paid="500", tendered=[{"value": "500", "count": 1}]).status_code == 201
    bill(manager_api, product, till=till, paid="90")
    manager_api.post(
        f"{API}/sessions/{open_session.pk}/cash-movements",
        {"direction": "in", "pieces": [{"value": "10", "count": 20}], "reason": "coins"},
        format="json",
    )
    manager_api.post(
        f"{API}/sessions/{open_session.pk}/cash-movements",
        {"direction": "out", "pieces": [{"value": "500", "count": 2}], "reason": "safe drop"},
        format="json",
    )

    cash = manager_api.get(f"{API}/sessions/{open_session.pk}/report").json()["cash"]

    c = {k: D(v) for k, v in cash.items() if v is not None}
    assert c["expected"] == c["opening"] + c["sales"] - c["change_given"] + c["cash_in"] - c["cash_out"] - c["refunds"]
    ledger = sum(d.value * d.count for d in Denomination.objects.filter(till=till))
    assert c["expected"] == ledger + c["uncounted_cash"]
    assert (c["sales"], c["change_given"], c["cash_in"], c["cash_out"]) == (D("590"), D("410"), D("200"), D("1000"))


def test_the_z_report_never_changes_after_the_close(manager_api, till, open_session, product):
    url = f"{API}/sessions/{open_session.pk}"
    manager_api.post(f"{url}/close", {"counted": counted(v500=2, v100=5, v10=10)}, format="json")
    frozen = manager_api.get(f"{url}/report").json()

    bill(manager_api, product, till=till, tendered=[{"value": "100", "count": 1}])  # lands in a new session

    assert manager_api.get(f"{url}/report").json() == frozen
    assert drawer_audit().ok


def test_the_audit_catches_a_frozen_report_that_was_changed(manager_api, till, open_session):
    manager_api.post(f"{API}/sessions/{open_session.pk}/close", {"counted": counted(v500=2, v100=5, v10=10)}, "json")
    session = TillSession.objects.get(pk=open_session.pk)
    assert session.report is not None
    session.report["cash"]["opening"] = "1.00"
    TillSession.objects.filter(pk=session.pk).update(report=session.report)

    audit = drawer_audit()

    assert not audit.ok
    assert any("Z report" in problem for problem in audit.problems)


# --- Bills at tills ------------------------------------------------------------------------------


def test_a_bill_without_a_till_goes_to_main_and_auto_opens_a_session(admin_api, product):
    drawer_with({"100": 1, "10": 5})

    response = bill(admin_api, product, tendered=[{"value": "100", "count": 1}])

    assert response.status_code == 201
    body = response.json()
    main = Till.objects.get(code="MAIN")
    session = TillSession.objects.get(pk=body["session"])
    assert body["till"] == main.pk and session.till == main and session.auto_opened
    assert session.opening_counted == counted(v100=1, v10=5)
    assert admin_api.get(f"{API}/purchases/{body['id']}").json()["session"] == session.pk


def test_a_bill_at_a_till_uses_its_drawer_and_its_session(admin_api, till, open_session, product):
    main_drawer = drawer_with({"100": 3})

    response = bill(admin_api, product, till=till, tendered=[{"value": "100", "count": 1}])

    assert response.status_code == 201
    assert (response.json()["till"], response.json()["session"]) == (till.pk, open_session.pk)
    assert counts(till) == {"500.00": 2, "100.00": 6, "10.00": 9}
    assert Denomination.objects.get(pk=main_drawer[0].pk).count == 3


def test_a_till_that_requires_an_open_session_refuses_bills(admin_api, till, product):
    Till.objects.filter(pk=till.pk).update(requires_open_session=True)

    response = bill(admin_api, product, till=till, tendered=[{"value": "100", "count": 1}])

    assert response.status_code == 409
    assert response.json()["code"] == "session_closed"
    assert counts(till) == {"500.00": 2, "100.00": 5, "10.00": 10}
    assert not TillSession.objects.exists()


def test_an_inactive_till_refuses_bills(admin_api, till, product):
    Till.objects.filter(pk=till.pk).update(is_active=False)

    response = bill(admin_api, product, till=till, tendered=[{"value": "100", "count": 1}])

    assert response.status_code == 409
    assert response.json()["code"] == "till_inactive"


def test_an_unknown_till_is_till_not_found_and_writes_nothing(admin_api, product):
    response = bill(admin_api, product, till=Till(pk=999_999), paid="90")

    assert response.status_code == 404
    assert response.json()["code"] == "till_not_found"
    assert response.json()["details"] == {"till": 999_999}
    assert not Purchase.objects.exists()


def test_an_empty_or_unknown_session_status_filter_is_refused(admin_api):
    for query in ("status=", "status=paused", "till="):
        response = admin_api.get(f"{API}/sessions?{query}")
        assert response.status_code == 400, query
        assert response.json()["code"] == "validation_error"


def test_a_bill_after_a_close_opens_a_new_session(admin_api, till, open_session, product):
    admin_api.post(f"{API}/sessions/{open_session.pk}/close", {"counted": counted(v500=2, v100=5, v10=10)}, "json")

    response = bill(admin_api, product, till=till, tendered=[{"value": "100", "count": 1}])

    assert response.status_code == 201
    assert response.json()["session"] != open_session.pk
    assert TillSession.objects.get(pk=response.json()["session"]).auto_opened


def test_one_idempotency_key_on_two_endpoints_is_a_conflict(admin_api, till, open_session):
    key = {"HTTP_IDEMPOTENCY_KEY": "shared"}
    body = {"counted": counted(v500=2, v100=5, v10=10)}
    assert admin_api.post(f"{API}/sessions/{open_session.pk}/close", body, format="json", **key).status_code == 200
    other = till_create(code="T2")

    response = admin_api.post(f"{API}/tills/{other.pk}/sessions", body, format="json", **key)

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"


def test_a_user_without_a_role_cannot_read_tills(api_client, till):
    api_client.force_authenticate(UserFactory(username="nobody"))

    assert api_client.get(f"{API}/tills").status_code == 403
    assert api_client.get(f"{API}/sessions").status_code == 403


def test_a_manager_sets_a_tills_series_and_a_taken_one_is_409(admin_api, till):
    response = admin_api.patch(
        f"{API}/tills/{till.pk}", {"invoice_series": "T1", "credit_series": "CT1"}, format="json"
    )
    taken = admin_api.patch(f"{API}/tills/{till.pk}", {"invoice_series": "M"}, format="json")
    default_form = admin_api.patch(f"{API}/tills/{till.pk}", {"invoice_series": "C9"}, format="json")

    assert response.status_code == 200
    assert (response.json()["invoice_series_code"], response.json()["credit_series_code"]) == ("T1", "CT1")
    assert taken.status_code == 409 and taken.json()["code"] == "series_taken"
    assert default_form.status_code == 400
    assert Till.objects.get(pk=till.pk).invoice_series == "T1"


# --- A till's store ----------------------------------------------------------------------------------


def test_a_till_goes_in_the_default_store_or_the_store_named(admin_api):
    from catalog.models import Store

    main = Store.objects.get(is_default=True)
    other = Store.objects.create(code="S2", name="Second")

    default = admin_api.post(f"{API}/tills", {"code": "T8"}, format="json")
    named = admin_api.post(f"{API}/tills", {"code": "T9", "store": other.pk}, format="json")

    assert default.status_code == named.status_code == 201
    assert default.json()["store"] == main.pk
    assert named.json()["store"] == other.pk
    assert Till.objects.get(code="T9").store_id == other.pk


@pytest.mark.parametrize("store", [999999, "inactive"])
def test_a_till_in_an_unknown_or_inactive_store_is_a_validation_error(admin_api, store):
    from catalog.models import Store

    if store == "inactive":
        store = Store.objects.create(code="S3", name="Shut", is_active=False).pk

    response = admin_api.post(f"{API}/tills", {"code": "T8", "store": store}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "store" in response.json()["details"]
    assert not Till.objects.filter(code="T8").exists()


def test_a_till_moves_store_only_before_its_first_session(admin_api, till):
    from catalog.models import Store

    other = Store.objects.create(code="S2", name="Second")

    moved = admin_api.patch(f"{API}/tills/{till.pk}", {"store": other.pk}, format="json")
    assert moved.status_code == 200
    assert moved.json()["store"] == other.pk

    session_open(till_id=till.pk, counted=counted(v500=2, v100=5, v10=10))
    main = Store.objects.get(is_default=True)
    refused = admin_api.patch(f"{API}/tills/{till.pk}", {"store": main.pk}, format="json")

    assert refused.status_code == 400
    assert "store" in refused.json()["details"]
    assert Till.objects.get(pk=till.pk).store_id == other.pk
    assert TillSession.objects.get(till=till).store_id == other.pk
