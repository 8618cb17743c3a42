"""Manager overrides at the counter through the API: the PIN, the tokens, their use on every action
that takes one, the lockout and the audit list."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.utils import timezone

from cashdrawer.models import CashMovement, Denomination, ManagerPin, Override, TillSession
from cashdrawer.services import denomination_create, session_open, till_create
from cashdrawer.tests.helpers import PIN, last_override, with_pin
from catalog.tests.factories import ProductFactory
from purchases.models import Purchase, Refund

pytestmark = pytest.mark.django_db

API = "/api/v1"
D = Decimal
FLOAT = [{"value": "500.00", "count": 2}, {"value": "100.00", "count": 5}, {"value": "10.00", "count": 10}]
# The short count the cashier sends: the 100s and 10s are missing (600.00 short).
SHORT_COUNT = [{"value": "500.00", "count": 2}, {"value": "100.00", "count": 0}, {"value": "10.00", "count": 0}]


@pytest.fixture
def till(db):
    t = till_create(code="T1", name="Front")
    for value, count in (("500", 2), ("100", 5), ("10", 10)):
        denomination_create(value=D(value), count=count, till=t)
    return t


@pytest.fixture
def product(db):
    return ProductFactory(price=D("100"), tax_percent=D("0"), stock=1000)


@pytest.fixture
def manager(manager_user):
    return with_pin(manager_user)


def discounted_bill(product, till, **extra) -> dict:
    return {
        "items": [{"product_id": product.pk, "quantity": 1}],
        "paid_amount": "100",
        "discount_percent": "50",
        "discount_reason": "damaged box",
        "till": till.pk,
        "send_invoice": False,
        **extra,
    }


def grant(client, manager, action="discount", pin=PIN, **extra):
    body = {"username": manager.username, "pin": pin, "action": action, **extra}
    return client.post(f"{API}/overrides", body, format="json")


# --- The PIN -------------------------------------------------------------------------------------


def test_a_manager_sets_their_pin_with_their_password(manager_api, manager_user):
    manager_user.set_password("s3cret-pass")
    manager_user.save()

    response = manager_api.post(f"{API}/auth/pin", {"password": "s3cret-pass", "pin": "123456"}, format="json")

    assert response.status_code == 204
    row = ManagerPin.objects.get(user=manager_user)
    assert "123456" not in row.pin_hash and row.pin_hash.startswith("md5$")  # hashed, as a password is


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "wrong", "pin": "1234"}, "password"),
        ({"password": "s3cret-pass", "pin": "123"}, "pin"),
        ({"password": "s3cret-pass", "pin": "123456789"}, "pin"),
        ({"password": "s3cret-pass", "pin": "12a4"}, "pin"),
        ({"pin": "1234"}, "password"),
    ],
)
def test_a_pin_needs_the_password_and_4_to_8_digits(manager_api, manager_user, body, field):
    manager_user.set_password("s3cret-pass")
    manager_user.save()

    response = manager_api.post(f"{API}/auth/pin", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error" and field in response.json()["details"]
    assert not ManagerPin.objects.exists()


def test_a_cashier_has_no_pin(cashier_api, cashier_user):
    cashier_user.set_password("s3cret-pass")
    cashier_user.save()

    response = cashier_api.post(f"{API}/auth/pin", {"password": "s3cret-pass", "pin": "1234"}, format="json")

    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


# --- Granting ------------------------------------------------------------------------------------


def test_a_right_pin_grants_a_single_use_token_for_120_seconds(cashier_api, manager, till):
    before = timezone.now()

    response = grant(cashier_api, manager, "refund", till=till.pk)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"token", "action", "approved_by", "approved_by_username", "expires_at"}
    assert body["action"] == "refund" and body["approved_by"] == manager.pk
    override = last_override()
    assert override.outcome == "granted" and override.till == till
    assert override.expires_at is not None
    assert before + timedelta(seconds=119) < override.expires_at <= timezone.now() + timedelta(seconds=120)
    assert override.token_digest != body["token"]  # only its hash is kept


@pytest.mark.parametrize("who", ["wrong-pin", "cashier", "nobody", "no-pin"])
def test_a_wrong_pin_or_a_user_without_the_permission_is_override_refused(
    cashier_api, manager, cashier_user, roles, who
):
    from customers.tests.factories import UserFactory

    username, pin = {
        "wrong-pin": (manager.username, "9999"),
        "cashier": (cashier_user.username, PIN),
        "nobody": ("ghost", PIN),
        "no-pin": (UserFactory(username="boss", is_superuser=True).username, PIN),
    }[who]
    if who == "cashier":  # even with a PIN set somehow, a cashier cannot approve
        ManagerPin.objects.create(user=cashier_user, pin_hash=ManagerPin.objects.get(user=manager).pin_hash)

    response = cashier_api.post(
        f"{API}/overrides", {"username": username, "pin": pin, "action": "discount"}, format="json"
    )

    assert response.status_code == 403 and response.json()["code"] == "override_refused"
    assert last_override().outcome == "refused" and last_override().username == username


def test_an_unknown_action_is_a_validation_error(cashier_api, manager):
    response = grant(cashier_api, manager, "free_lunch")

    assert response.status_code == 400 and "action" in response.json()["details"]


def test_five_failures_in_a_row_lock_the_pin_for_15_minutes_in_the_database(cashier_api, manager):
    for _ in range(4):
        assert grant(cashier_api, manager, pin="0000").json()["code"] == "override_refused"
    assert grant(cashier_api, manager).status_code == 201  # a success ends the run
    for _ in range(5):
        assert grant(cashier_api, manager, pin="0000").json()["code"] == "override_refused"

    locked = grant(cashier_api, manager)  # the right PIN, and still locked

    assert locked.status_code == 429 and locked.json()["code"] == "override_locked"
    assert 14 * 60 < int(locked["Retry-After"]) <= 15 * 60 + 1
    row = ManagerPin.objects.get(user=manager)
    assert row.locked_until is not None and row.locked_until > timezone.now() + timedelta(minutes=14)
    assert last_override().outcome == "locked"

    # Another worker reads the same row; once the 15 minutes are over the PIN works again.
    ManagerPin.objects.filter(pk=row.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert grant(cashier_api, manager).status_code == 201


def test_the_audit_list_is_for_managers(cashier_api, manager_api, manager, till, product):
    token = grant(cashier_api, manager, till=till.pk).json()["token"]
    grant(cashier_api, manager, pin="0000")
    cashier_api.post(f"{API}/purchases", discounted_bill(product, till, override_token=token), format="json")

    assert cashier_api.get(f"{API}/overrides").status_code == 403
    rows = manager_api.get(f"{API}/overrides").json()["results"]

    assert [r["outcome"] for r in rows] == ["refused", "granted"]
    used = rows[1]
    bill = Purchase.objects.get()
    assert used["action"] == "discount" and used["till"] == till.pk and used["username"] == manager.username
    assert used["used_on"] == f"bill {bill.number}" and used["used_at"] is not None
    assert used["requested_by"] == used["used_by"] != manager.pk


# --- Using a token -------------------------------------------------------------------------------


def test_a_cashiers_large_discount_goes_through_with_a_managers_token(cashier_api, manager, till, product):
    refused = cashier_api.post(f"{API}/purchases", discounted_bill(product, till), format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "discount_needs_manager"
    token = grant(cashier_api, manager).json()["token"]

    response = cashier_api.post(f"{API}/purchases", discounted_bill(product, till, override_token=token), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["approved_by"] == manager.pk and body["discount_total"] == "50.00"
    bill = Purchase.objects.get()
    assert bill.created_by is not None and bill.created_by.username == "cashier" and bill.approved_by == manager


def test_a_token_used_twice_is_override_invalid(cashier_api, manager, till, product):
    token = grant(cashier_api, manager).json()["token"]
    first = cashier_api.post(f"{API}/purchases", discounted_bill(product, till, override_token=token), format="json")
    assert first.status_code == 201

    again = cashier_api.post(f"{API}/purchases", discounted_bill(product, till, override_token=token), format="json")

    assert again.status_code == 403 and again.json()["code"] == "override_invalid"
    assert Purchase.objects.count() == 1


def test_an_expired_token_is_override_invalid(cashier_api, manager, till, product):
    token = grant(cashier_api, manager).json()["token"]
    Override.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = cashier_api.post(f"{API}/purchases", discounted_bill(product, till, override_token=token), format="json")

    assert response.status_code == 403 and response.json()["code"] == "override_invalid"


@pytest.mark.parametrize("token", ["refund", "made-up"])
def test_a_token_for_another_action_or_none_is_override_invalid(cashier_api, manager, till, product, token):
    if token == "refund":
        token = grant(cashier_api, manager, "refund").json()["token"]

    response = cashier_api.post(f"{API}/purchases", discounted_bill(product, till, override_token=token), format="json")

    assert response.status_code == 403 and response.json()["code"] == "override_invalid"
    assert not Purchase.objects.exists()


def test_a_refused_action_leaves_its_token_good(cashier_api, manager, till, product):
    token = grant(cashier_api, manager).json()["token"]
    short = discounted_bill(product, till, override_token=token, paid_amount="10")

    assert cashier_api.post(f"{API}/purchases", short, format="json").json()["code"] == "insufficient_payment"
    response = cashier_api.post(f"{API}/purchases", discounted_bill(product, till, override_token=token), format="json")

    assert response.status_code == 201


def test_a_cashiers_return_goes_through_with_a_managers_token(cashier_api, manager_api, manager, till, product):
    bill = manager_api.post(f"{API}/purchases", discounted_bill(product, till, discount_percent="0"), format="json")
    url = f"{API}/purchases/{bill.json()['id']}/refunds"
    body = {"items": [{"product_id": product.pk, "quantity": 1}], "reason": "wrong size", "till": till.pk}
    refused = cashier_api.post(url, body, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    discount_token = grant(cashier_api, manager, "discount").json()["token"]
    assert cashier_api.post(url, {**body, "override_token": discount_token}, format="json").json()["code"] == (
        "override_invalid"
    )

    token = grant(cashier_api, manager, "refund").json()["token"]
    response = cashier_api.post(url, {**body, "override_token": token}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["approved_by"] == manager.pk
    refund = Refund.objects.get()
    assert refund.created_by is not None and refund.created_by.username == "cashier"
    assert refund.approved_by == manager
    assert last_override().used_on == f"refund {refund.pk}"


def test_a_cashiers_cash_out_goes_through_with_a_managers_token(cashier_api, manager, till):
    session = session_open(till_id=till.pk, counted=FLOAT)
    url = f"{API}/sessions/{session.pk}/cash-movements"
    body = {"direction": "out", "pieces": [{"value": "100", "count": 2}], "reason": "supplier"}
    assert cashier_api.post(url, body, format="json").status_code == 403

    token = grant(cashier_api, manager, "cash_movement").json()["token"]
    response = cashier_api.post(url, {**body, "override_token": token}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["approved_by"] == manager.pk
    assert CashMovement.objects.get().approved_by == manager


def test_a_cashiers_open_past_the_limit_goes_through_with_a_managers_token(cashier_api, manager, till):
    url, body = f"{API}/tills/{till.pk}/sessions", {"counted": [{"value": "500", "count": 1}]}
    assert cashier_api.post(url, body, format="json").json()["code"] == "variance_needs_manager"

    token = grant(cashier_api, manager, "open_variance").json()["token"]
    response = cashier_api.post(url, {**body, "override_token": token}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["opening_approved_by"] == manager.pk
    assert TillSession.objects.get().opening_approved_by == manager


def test_a_cashiers_close_past_the_limit_closes_at_once_with_a_managers_token(cashier_api, manager, till):
    session = session_open(till_id=till.pk, counted=FLOAT)
    token = grant(cashier_api, manager, "close_variance").json()["token"]

    response = cashier_api.post(
        f"{API}/sessions/{session.pk}/close",
        {"counted": [{"value": "500", "count": 2}], "override_token": token},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed" and response.json()["approved_by"] == manager.pk
    assert response.json()["variance_total"] is None  # still blind for the cashier
    session.refresh_from_db()
    assert session.variance_total == D("-600.00") and (session.report or {})["approved_by"] == manager.username


# --- The blind close -----------------------------------------------------------------------------


def test_a_cashier_sees_no_drawer_counts(cashier_api, manager_api, till):
    for client, expected in ((cashier_api, None), (manager_api, 2)):
        rows = client.get(f"{API}/tills/{till.pk}/denominations").json()
        assert [r["value"] for r in rows] == ["500.00", "100.00", "10.00"]
        assert rows[0]["available_count"] == expected
    assert {r["available_count"] for r in cashier_api.get(f"{API}/denominations").json()} <= {None}


def test_a_cashiers_x_report_and_session_are_blind(cashier_api, manager_api, till):
    session = session_open(till_id=till.pk, counted=FLOAT)

    blind = cashier_api.get(f"{API}/sessions/{session.pk}/report").json()["cash"]
    seen = manager_api.get(f"{API}/sessions/{session.pk}/report").json()["cash"]

    assert blind["expected"] is None and blind["variance"] is None and blind["counted"] is None
    assert seen["expected"] == "1600.00"


@pytest.fixture
def pending(cashier_api, till):
    session = session_open(till_id=till.pk, counted=FLOAT)
    response = cashier_api.post(
        f"{API}/sessions/{session.pk}/close", {"counted": [{"value": "500", "count": 2}]}, format="json"
    )
    assert response.status_code == 202, response.content
    return response


def test_a_short_close_waits_for_a_manager_and_says_no_figures(pending, till):
    body = pending.json()
    assert body["status"] == "pending_approval"
    assert body["closing_counted"] == SHORT_COUNT
    assert body["expected"] is None and body["variance"] is None and body["variance_total"] is None
    assert "600" not in pending.content.decode()  # the shortfall is nowhere in the answer
    assert {str(v): c for v, c in Denomination.objects.filter(till=till).values_list("value", "count")} == {
        "500.00": 2,
        "100.00": 5,
        "10.00": 10,
    }  # nothing posted yet


def test_a_pending_till_rings_up_nothing_and_opens_nothing(pending, cashier_api, manager_api, till, product):
    session_id = pending.json()["id"]
    bill = discounted_bill(product, till, discount_percent="0")
    cash = {"direction": "in", "pieces": [{"value": "10", "count": 1}], "reason": "float"}
    answers = [
        cashier_api.post(f"{API}/purchases", bill, format="json"),
        manager_api.post(f"{API}/purchases", bill, format="json"),
        cashier_api.post(f"{API}/tills/{till.pk}/sessions", {"counted": FLOAT}, format="json"),
        manager_api.post(f"{API}/sessions/{session_id}/cash-movements", cash, format="json"),
        cashier_api.post(f"{API}/sessions/{session_id}/close", {"counted": FLOAT}, format="json"),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(409, "session_pending_approval")] * 5
    assert not Purchase.objects.exists()


def test_a_manager_approves_with_a_reason_and_the_z_report_names_them(pending, cashier_api, manager_api, manager):
    url = f"{API}/sessions/{pending.json()['id']}"
    assert cashier_api.post(f"{url}/approve", {"reason": "ok"}, format="json").status_code == 403
    assert manager_api.post(f"{url}/approve", {"reason": " "}, format="json").json()["code"] == "validation_error"

    response = manager_api.post(f"{url}/approve", {"reason": "the 100s went to the safe"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "closed" and body["variance_total"] == "-600.00"
    assert body["approved_by"] == manager.pk and body["approval_reason"] == "the 100s went to the safe"
    assert body["closed_by"] == pending.json()["opened_by"] or body["closed_by"] is not None
    report = manager_api.get(f"{url}/report").json()
    assert report["counted_by"] == "cashier" and report["approved_by"] == manager.username
    assert report["approval_reason"] == "the 100s went to the safe" and report["cash"]["variance"] == "-600.00"
    again = manager_api.post(f"{url}/approve", {"reason": "twice"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "session_closed"


def test_approving_an_open_session_is_session_open(manager_api, till):
    session = session_open(till_id=till.pk, counted=FLOAT)

    for decision in ("approve", "recount"):
        response = manager_api.post(f"{API}/sessions/{session.pk}/{decision}", {"reason": "x"}, format="json")
        assert response.status_code == 409 and response.json()["code"] == "session_open"


def test_a_recount_reopens_the_session_and_keeps_the_rejected_count(pending, cashier_api, manager_api, till, product):
    url = f"{API}/sessions/{pending.json()['id']}"

    response = manager_api.post(f"{url}/recount", {"reason": "count the 100s again"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "open" and body["closing_counted"] is None
    [rejected] = body["rejected_counts"]
    assert rejected["counted"] == SHORT_COUNT and rejected["variance_total"] == "-600.00"
    assert rejected["counted_by"] == "cashier" and rejected["rejected_by"] == "manager"
    assert rejected["reason"] == "count the 100s again"
    assert cashier_api.get(url).json()["rejected_counts"][0]["variance_total"] is None
    bill = discounted_bill(product, till, discount_percent="0")
    assert cashier_api.post(f"{API}/purchases", bill, format="json").status_code == 201  # trading again
    closed = manager_api.post(f"{url}/close", {"counted": FLOAT}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["rejected_counts"] == body["rejected_counts"]  # the history stays


@override_settings(CASH_VARIANCE_LIMIT=D("700.00"))
def test_a_close_within_the_limit_closes_at_once(cashier_api, till):
    session = session_open(till_id=till.pk, counted=FLOAT)

    response = cashier_api.post(
        f"{API}/sessions/{session.pk}/close", {"counted": [{"value": "500", "count": 2}]}, format="json"
    )

    assert response.status_code == 200 and response.json()["status"] == "closed"


def test_the_admin_index_lists_pending_counts_for_managers(pending, manager_client, cashier_user, client):
    page = manager_client.get("/admin/").content.decode()
    assert ('id="pending-sessions"' in page and "-600.00" in page.replace("₹", "").replace(",", "")) or "600" in page

    cashier_user.user_permissions.add(Permission.objects.get(codename="view_tillsession"))
    client.force_login(cashier_user)
    assert 'id="pending-sessions"' not in client.get("/admin/").content.decode()


# --- The admin -----------------------------------------------------------------------------------


def test_a_manager_sets_their_pin_in_the_admin_and_reads_the_audit_list(manager_client, manager_user, cashier_api):
    manager_user.set_password("s3cret-pass")
    manager_user.save()
    manager_client.force_login(manager_user)
    assert "My override PIN" in manager_client.get("/admin/").content.decode()

    wrong = manager_client.post("/admin/override-pin/", {"password": "nope", "pin": "2468"})
    assert wrong.status_code == 200 and "Wrong password." in wrong.content.decode()
    assert not ManagerPin.objects.exists()
    done = manager_client.post("/admin/override-pin/", {"password": "s3cret-pass", "pin": "2468"})

    assert done.status_code == 302
    assert grant(cashier_api, manager_user, pin="2468").status_code == 201
    grant(cashier_api, manager_user, pin="1111")
    page = manager_client.get("/admin/cashdrawer/override/").content.decode()
    assert "Granted" in page and "Refused" in page


def test_a_cashier_has_no_pin_page_in_the_admin(cashier_client):
    assert cashier_client.get("/admin/override-pin/").status_code == 403
