import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from billing_project.core.idempotency import STALE_AFTER, IdempotencyConflict
from billing_project.core.models import IdempotencyKey
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product, StoreStock
from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory
from purchases.models import Purchase
from purchases.services import purchase_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/purchases"
D = Decimal


@pytest.fixture
def soap():
    drawer_with({"10": 20, "1": 20})
    return ProductFactory(price=D("36.50"), tax_percent=D("12"), stock=10)  # payable 41


def body(product, quantity=1, paid="50"):
    return {
        "customer_email": "a@example.com",
        "items": [{"product_id": product.pk, "quantity": quantity}],
        "paid_amount": paid,
    }


def post(client, payload, key):
    return client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_replays_the_first_response_and_makes_no_second_bill(admin_api, soap):
    first = post(admin_api, body(soap), "till-1-0001")
    retry = post(admin_api, body(soap), "till-1-0001")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Purchase.objects.count() == 1
    assert Product.objects.get(pk=soap.pk).stock == 9


def test_the_same_key_with_another_body_is_a_conflict(admin_api, soap):
    post(admin_api, body(soap), "k1")

    response = post(admin_api, body(soap, quantity=2, paid="100"), "k1")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"
    assert Purchase.objects.count() == 1


def test_keys_are_scoped_to_the_user(admin_api, soap):
    other = APIClient()
    other.force_authenticate(UserFactory(username="till2", is_superuser=True))

    assert post(admin_api, body(soap), "shared-key").status_code == 201
    assert post(other, body(soap), "shared-key").status_code == 201
    assert Purchase.objects.count() == 2


def test_a_validation_failure_stores_nothing(admin_api, soap):
    refused = post(admin_api, body(soap, paid="1.001"), "k2")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()

    accepted = post(admin_api, body(soap), "k2")
    assert accepted.status_code == 201


def test_a_domain_refusal_is_stored_and_replayed(admin_api, soap):
    first = post(admin_api, body(soap, quantity=11, paid="1000"), "k3")
    StoreStock.objects.filter(product_id=soap.pk).update(stock=100)
    retry = post(admin_api, body(soap, quantity=11, paid="1000"), "k3")

    assert first.status_code == retry.status_code == 409
    assert retry.json() == first.json()
    assert retry.json()["code"] == "insufficient_stock"
    assert Purchase.objects.count() == 0


def test_an_unexpected_error_releases_the_key(admin_api, soap, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("purchases.api.purchase_create", broken)
    assert post(admin_api, body(soap), "k4").status_code == 500
    assert not IdempotencyKey.objects.exists()

    monkeypatch.undo()
    assert post(admin_api, body(soap), "k4").status_code == 201


def test_a_duplicate_while_the_first_is_running_is_in_progress(admin_api, soap, superuser):
    IdempotencyKey.objects.create(user=superuser, key="k5", fingerprint=_fingerprint(body(soap)))

    response = post(admin_api, body(soap), "k5")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_progress"
    assert Purchase.objects.count() == 0


def test_a_key_abandoned_by_a_dead_process_is_taken_over(admin_api, soap, superuser):
    stale = timezone.now() - STALE_AFTER - timedelta(seconds=1)
    IdempotencyKey.objects.create(user=superuser, key="k6", fingerprint=_fingerprint(body(soap)), locked_at=stale)

    response = post(admin_api, body(soap), "k6")

    assert response.status_code == 201
    assert IdempotencyKey.objects.get(key="k6").status == "completed"


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "a key", "k\u00e9y", "tab\tkey"], ids=["empty", "long", "space", "non-ascii", "tab"]
)
def test_key_is_validated_as_the_schema_says(admin_api, soap, key):
    response = post(admin_api, body(soap), key)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert Purchase.objects.count() == 0


def test_prune_keeps_a_day_of_keys(admin_api, soap, superuser):
    post(admin_api, body(soap), "fresh")
    old = IdempotencyKey.objects.create(user=superuser, key="old", fingerprint="f", status="in_progress")
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))

    call_command("prune_idempotency_keys")

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
    with pytest.raises(CommandError):
        call_command("prune_idempotency_keys", "--hours", "1")


def _fingerprint(payload):
    from billing_project.core.idempotency import request_fingerprint

    return request_fingerprint(payload)


def test_the_same_key_and_body_on_another_endpoint_is_a_conflict(admin_api, soap):
    """A key is scoped to its endpoint: reused elsewhere it is refused, never replayed."""
    from billing_project.core.idempotency import idempotent_call

    first = admin_api.post(URL, body(soap), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert first.status_code == 201
    user = IdempotencyKey.objects.get(key="shared").user
    with pytest.raises(IdempotencyConflict):
        idempotent_call(
            user=user, key="shared", payload=body(soap), call=lambda: (200, {}), scope="POST /api/v1/elsewhere"
        )
    assert Purchase.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_concurrent_duplicates_make_exactly_one_bill(postgres_only):
    drawer_with({"10": 50, "1": 50})
    product = ProductFactory(price=D("36.50"), tax_percent=D("12"), stock=100)
    user = UserFactory(username="till9", is_superuser=True)
    payload = body(product)
    barrier = threading.Barrier(8)
    responses: list[Any] = [None] * 8

    def buy(i):
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait(timeout=10)
            responses[i] = post(client, payload, "double-tap")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}
    assert all(r.json()["code"] == "idempotency_in_progress" for r in responses if r.status_code == 409)
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    assert Purchase.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 99


def _statements(client, product, key):
    with CaptureQueriesContext(connection) as ctx:
        assert post(client, body(product), key).status_code == 201
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_on_postgresql_the_key_is_held_and_written_by_the_bill_s_own_transaction(postgres_only):
    drawer_with({"10": 20, "1": 20})
    product = ProductFactory(price=D("36.50"), tax_percent=D("12"), stock=10)
    client = APIClient()
    client.force_authenticate(UserFactory(username="till7", is_superuser=True))

    sql = _statements(client, product, "till-7-0001")

    lock = [i for i, s in enumerate(sql) if "pg_try_advisory_xact_lock" in s]
    key_row = [i for i, s in enumerate(sql) if s.startswith('INSERT INTO "purchases_idempotencykey"')]
    bill = next(i for i, s in enumerate(sql) if 'INSERT INTO "purchases_purchase" (' in s)
    commits = [i for i, s in enumerate(sql) if s == "COMMIT"]
    # One transaction: the key's lock first, then the bill, then the key's row with its answer.
    assert len(lock) == len(key_row) == len(commits) == 1
    assert lock[0] < bill < key_row[0] < commits[0]
    assert not any(s.startswith('UPDATE "purchases_idempotencykey"') for s in sql)
    assert not any("synchronous_commit" in s for s in sql)
    stored = IdempotencyKey.objects.get(key="till-7-0001")
    assert (stored.status, stored.response_status) == ("completed", 201)
    assert isinstance(stored.response_body, dict) and stored.response_body["id"] == Purchase.objects.get().pk


@pytest.mark.postgres
def test_a_request_that_completed_the_key_unseen_is_replayed_and_its_rival_rolled_back(
    admin_api, soap, postgres_only, monkeypatch
):
    """The narrow race: the first attempt commits just after the retry's look and before its lock.
    The retry does the work, finds the key's row when it writes its own, and is rolled back."""
    first = post(admin_api, body(soap), "till-1-0077")
    monkeypatch.setattr("billing_project.core.idempotency._lock_and_look", lambda *, user, key: (True, None))

    retry = post(admin_api, body(soap), "till-1-0077")

    assert (retry.status_code, retry.headers["Idempotent-Replayed"]) == (201, "true")
    assert retry.json() == first.json()
    assert Purchase.objects.count() == 1
    assert Product.objects.get(pk=soap.pk).stock == 9


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_retry_is_refused_at_once_while_the_first_runs_and_proceeds_at_once_when_it_died(
    postgres_only, settings, monkeypatch
):
    """A node dies mid-bill: to the database its connection drops and its transaction rolls back.
    The till's retry must neither wait on the first attempt while it runs nor after it died."""
    # A retry that waited on a lock held by the first attempt would take this long, or hang.
    settings.DB_LOCK_TIMEOUT_MS = settings.BILL_LOCK_TIMEOUT_MS = 20_000
    drawer_with({"10": 20, "1": 20})
    product = ProductFactory(price=D("36.50"), tax_percent=D("12"), stock=10)
    user = UserFactory(username="till3", is_superuser=True)
    payload = body(product)
    inside, go_on = threading.Event(), threading.Event()
    first_attempt: dict[str, Any] = {}
    real_purchase_create = purchase_create

    def held_open(**kwargs):
        # Only the first attempt stops inside its transaction, its bill written but not committed.
        purchase = real_purchase_create(**kwargs)
        if threading.current_thread().name == "attempt-1":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                first_attempt["pid"] = cursor.fetchone()[0]
            inside.set()
            go_on.wait(timeout=60)
        return purchase

    monkeypatch.setattr("purchases.api.purchase_create", held_open)

    def attempt_1():
        client = APIClient()
        client.force_authenticate(user)
        try:
            first_attempt["response"] = post(client, payload, "till-3-0001")
        except Exception as exc:  # its connection was cut under it
            first_attempt["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=attempt_1, name="attempt-1")
    thread.start()
    try:
        assert inside.wait(timeout=30)
        retry = APIClient()
        retry.force_authenticate(user)

        started = time.perf_counter()
        during = post(retry, payload, "till-3-0001")
        waited_during = time.perf_counter() - started

        # The node dies: PostgreSQL ends the first attempt's backend and rolls its transaction back.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [first_attempt["pid"]])
            assert cursor.fetchone()[0] is True
        _wait_until_gone(first_attempt["pid"])

        started = time.perf_counter()
        after = post(retry, payload, "till-3-0001")
        waited_after = time.perf_counter() - started
    finally:
        go_on.set()
        thread.join(timeout=60)

    assert (during.status_code, during.json()["code"]) == (409, "idempotency_in_progress")
    assert waited_during < 5
    assert after.status_code == 201, after.json()
    assert "Idempotent-Replayed" not in after.headers
    assert waited_after < 5
    assert "response" not in first_attempt or first_attempt["response"].status_code >= 500
    assert list(Purchase.objects.values_list("pk", flat=True)) == [after.json()["id"]]
    assert Product.objects.get(pk=product.pk).stock == 9
    replay = post(retry, payload, "till-3-0001")
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (201, "true")
    assert replay.json() == after.json()


def _wait_until_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)
    raise AssertionError(f"backend {pid} still there")
