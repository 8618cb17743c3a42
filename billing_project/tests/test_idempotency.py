import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import close_old_connections, connection
from django.utils import timezone
from rest_framework.test import APIClient

from billing_project.idempotency import STALE_AFTER, IdempotencyConflict
from billing_project.models import IdempotencyKey
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory
from purchases.models import Purchase

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
    Product.objects.filter(pk=soap.pk).update(stock=100)
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


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_key_length_is_validated(admin_api, soap, key):
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
    from billing_project.idempotency import request_fingerprint

    return request_fingerprint(payload)


def test_the_same_key_and_body_on_another_endpoint_is_a_conflict(admin_api, soap):
    """A key is scoped to its endpoint: reused elsewhere it is refused, never replayed."""
    from billing_project.idempotency import idempotent_call

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


def _claim_statements(client, product, key):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert post(client, body(product), key).status_code == 201
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_only_the_claim_skips_the_wal_flush_and_the_bill_commits_durably(postgres_only):
    drawer_with({"10": 20, "1": 20})
    product = ProductFactory(price=D("36.50"), tax_percent=D("12"), stock=10)
    client = APIClient()
    client.force_authenticate(UserFactory(username="till7", is_superuser=True))

    sql = _claim_statements(client, product, "till-7-0001")

    off = [i for i, s in enumerate(sql) if "synchronous_commit" in s]
    claim = next(i for i, s in enumerate(sql) if s.startswith('INSERT INTO "purchases_idempotencykey"'))
    commits = [i for i, s in enumerate(sql) if s == "COMMIT"]
    bill = next(i for i, s in enumerate(sql) if 'INSERT INTO "purchases_purchase" (' in s)
    # SET LOCAL in the claim's own transaction; the bill's, which marks the key completed, is another.
    assert len(off) == 1 and sql[off[0]] == "SET LOCAL synchronous_commit TO OFF"
    assert off[0] < claim < commits[0] < bill
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


@pytest.mark.postgres
def test_a_claim_inside_a_callers_transaction_keeps_it_durable(admin_api, soap, postgres_only):
    # The test's own transaction stands for a caller's: SET LOCAL would last until its commit.
    assert not any("synchronous_commit" in s for s in _claim_statements(admin_api, soap, "till-1-0042"))
