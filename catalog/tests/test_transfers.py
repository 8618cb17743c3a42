"""Transfers between stores: the services against the database, the CHECKs, and the API."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from billing_project.core.errors import ValidationFailed
from billing_project.core.quantities import Unit
from catalog.errors import (
    InsufficientStock,
    ProductArchived,
    ProductMissing,
    StoreNotFound,
    TransferAlreadyReceived,
)
from catalog.models import Product, StockMovement, Store, StoreStock, Transfer, TransferLine
from catalog.stock import stock_audit
from catalog.stores import default_store
from catalog.tests.factories import ProductFactory, StoreFactory
from catalog.transfers import transfer_create, transfer_receive

pytestmark = pytest.mark.django_db

D = Decimal
API = "/api/v1"


@pytest.fixture
def main():
    return default_store()


@pytest.fixture
def branch():
    return StoreFactory(code="BR", name="Branch")


def person(username: str, **fields):
    return get_user_model().objects.create_user(username=username, **fields)


def at(store, product) -> Decimal:
    row = StoreStock.objects.filter(store=store, product=product).first()
    return D("0.000") if row is None else row.stock


def movements(store, product) -> list[tuple[str, Decimal, Decimal]]:
    rows = StockMovement.objects.filter(store=store, product=product).order_by("id")
    return [(m.kind, m.quantity, m.balance_after) for m in rows]


def assert_audit_passes():
    audit = stock_audit()
    assert audit.problems == []
    assert all(store.problems == 0 for store in audit.stores)


def send(source, destination, *pairs, user=None, note=""):
    lines = [{"product_id": product.pk, "quantity": quantity} for product, quantity in pairs]
    return transfer_create(from_store=source.pk, to_store=destination.pk, lines=lines, note=note, user=user)


def receive(transfer, *pairs, user=None):
    lines = [{"product_id": product.pk, "quantity": quantity} for product, quantity in pairs]
    return transfer_receive(transfer_id=transfer.pk, lines=lines, user=user)


# --- Sending ----------------------------------------------------------------------------------------


def test_a_transfer_takes_the_stock_out_of_the_source_at_once(main, branch):
    tea, rice = ProductFactory(stock=10), ProductFactory(stock=5)
    sender = person(username="sender")

    transfer = send(main, branch, (rice, 5), (tea, 4), user=sender, note="weekly")

    transfer = Transfer.objects.get(pk=transfer.pk)
    assert (transfer.status, transfer.from_store, transfer.to_store) == ("in_transit", main, branch)
    assert (transfer.note, transfer.created_by, transfer.received_at) == ("weekly", sender, None)
    lines = {line.product_id: (line.quantity, line.received, line.loss) for line in transfer.lines.all()}
    assert lines == {tea.pk: (D("4"), None, None), rice.pk: (D("5"), None, None)}
    assert (at(main, tea), at(main, rice), at(branch, tea)) == (6, 0, 0)
    assert movements(main, tea) == [("opening", D("10"), D("10")), ("transfer_out", D("-4"), D("6"))]
    out = StockMovement.objects.get(kind="transfer_out", product=tea)
    assert (out.transfer_id, out.user, out.reason) == (transfer.pk, sender, f"transfer #{transfer.pk} to BR")
    assert movements(branch, tea) == []
    assert_audit_passes()


def test_a_source_short_of_one_line_refuses_the_whole_transfer_and_writes_nothing(main, branch):
    tea, rice = ProductFactory(stock=10), ProductFactory(stock=2)

    with pytest.raises(InsufficientStock) as refused:
        send(main, branch, (tea, 4), (rice, 3))

    assert refused.value.details == {"product_id": rice.pk, "available": 2, "requested": 3}
    assert not Transfer.objects.exists() and not TransferLine.objects.exists()
    assert (at(main, tea), at(main, rice)) == (10, 2)
    assert not StockMovement.objects.filter(kind="transfer_out").exists()


def test_the_source_is_the_transfers_own_store_not_the_chain(main, branch):
    # 8 in the chain, none of them at the branch: the branch cannot send any.
    tea = ProductFactory(stock=8)

    with pytest.raises(InsufficientStock):
        send(branch, main, (tea, 1))

    assert at(main, tea) == 8 and not Transfer.objects.exists()


BAD = {
    "the same store twice": (lambda s: {"to_store": s["main"]}, ValidationFailed, "to_store"),
    "an unknown destination": (lambda s: {"to_store": 999_999}, StoreNotFound, "to_store"),
    "an unknown source": (lambda s: {"from_store": 999_999}, StoreNotFound, "from_store"),
    "an inactive destination": (lambda s: {"to_store": s["closed"]}, StoreNotFound, "to_store"),
    "a fraction of an each product": (
        lambda s: {"lines": [s["line"] | {"quantity": D("1.5")}]},
        ValidationFailed,
        "lines",
    ),
    "nothing sent": (lambda s: {"lines": [s["line"] | {"quantity": 0}]}, ValidationFailed, "lines"),
    "a negative quantity": (lambda s: {"lines": [s["line"] | {"quantity": -1}]}, ValidationFailed, "lines"),
    "no lines": (lambda s: {"lines": []}, ValidationFailed, "lines"),
    "a product twice": (lambda s: {"lines": [s["line"], s["line"]]}, ValidationFailed, "lines"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_transfers_are_refused_with_a_clear_error_and_nothing_written(main, branch, case):
    change, error, field = BAD[case]
    tea = ProductFactory(stock=10)
    closed = StoreFactory(code="SHUT", is_active=False)
    line = {"product_id": tea.pk, "quantity": 1}
    arguments = {"from_store": main.pk, "to_store": branch.pk, "lines": [line], "user": None}
    arguments |= change({"main": main.pk, "closed": closed.pk, "line": line})

    with pytest.raises(error) as refused:
        transfer_create(**arguments)

    assert field in refused.value.details
    assert not Transfer.objects.exists() and at(main, tea) == 10


def test_archived_and_unknown_products_are_refused(main, branch):
    archived = ProductFactory(stock=5, is_active=False)

    with pytest.raises(ProductArchived):
        send(main, branch, (archived, 1))
    with pytest.raises(ProductMissing):
        transfer_create(
            from_store=main.pk, to_store=branch.pk, lines=[{"product_id": 999_999, "quantity": 1}], user=None
        )

    assert not Transfer.objects.exists() and at(main, archived) == 5


def test_a_measured_product_moves_to_the_gram(main, branch):
    rice = ProductFactory(stock=D("5.000"), unit=Unit.KG)

    transfer = send(main, branch, (rice, "1.250"))
    receive(transfer, (rice, "1.200"))

    assert (at(main, rice), at(branch, rice)) == (D("3.750"), D("1.200"))
    assert TransferLine.objects.get(transfer=transfer).loss == D("0.050")
    assert_audit_passes()


# --- Receiving --------------------------------------------------------------------------------------


def test_receiving_in_full_puts_the_goods_into_the_destination(main, branch):
    tea = ProductFactory(stock=10)
    receiver = person(username="receiver")
    transfer = send(main, branch, (tea, 4))

    receive(transfer, (tea, 4), user=receiver)

    transfer.refresh_from_db()
    assert (transfer.status, transfer.received_by) == ("received", receiver)
    assert transfer.received_at is not None
    assert TransferLine.objects.values_list("received", "loss").get(transfer=transfer) == (4, 0)
    assert (at(main, tea), at(branch, tea)) == (6, 4)
    assert movements(branch, tea) == [("transfer_in", D("4"), D("4"))]
    assert not StockMovement.objects.filter(kind="transfer_loss").exists()
    assert_audit_passes()


def test_a_shortfall_is_lost_in_transit_at_the_destination_naming_the_receiver(main, branch):
    tea, rice = ProductFactory(stock=10), ProductFactory(stock=6)
    receive(send(main, branch, (rice, 2)), (rice, 2))  # the branch holds 2 rice already
    receiver = person(username="receiver")
    transfer = send(main, branch, (tea, 4), (rice, 3))

    receive(transfer, (tea, 3), (rice, 0), user=receiver)

    lines = {line.product_id: (line.received, line.loss) for line in TransferLine.objects.filter(transfer=transfer)}
    assert lines == {tea.pk: (3, 1), rice.pk: (0, 3)}
    assert (at(main, tea), at(branch, tea), at(main, rice), at(branch, rice)) == (6, 3, 1, 2)
    assert movements(branch, tea) == [("transfer_in", D("3"), D("3")), ("transfer_loss", D("0"), D("3"))]
    # Nothing of the rice arrived: no transfer_in, only the loss, at the branch's stock as it stands.
    assert movements(branch, rice)[-1] == ("transfer_loss", D("0"), D("2"))
    loss = StockMovement.objects.get(kind="transfer_loss", product=tea)
    assert (loss.store, loss.transfer_id, loss.user) == (branch, transfer.pk, receiver)
    assert loss.reason == f"lost in transit: 1 of 4 sent, transfer #{transfer.pk} from MAIN"
    # The chain is short by what was lost; each store's stock is still its movements' sum.
    assert at(main, tea) + at(branch, tea) == 10 - 1
    assert_audit_passes()


def test_an_excess_is_refused_and_nothing_is_written(main, branch):
    tea = ProductFactory(stock=10)
    transfer = send(main, branch, (tea, 4))

    with pytest.raises(ValidationFailed) as refused:
        receive(transfer, (tea, 5))

    assert refused.value.details["sent"] == 4 and refused.value.details["received"] == 5
    transfer.refresh_from_db()
    assert transfer.status == "in_transit" and at(branch, tea) == 0
    assert TransferLine.objects.get(transfer=transfer).received is None
    assert movements(branch, tea) == []


def test_receiving_twice_is_refused_and_writes_nothing_more(main, branch):
    tea = ProductFactory(stock=10)
    transfer = send(main, branch, (tea, 4))
    receive(transfer, (tea, 3))

    with pytest.raises(TransferAlreadyReceived) as refused:
        receive(transfer, (tea, 4))

    assert refused.value.details == {"transfer_id": transfer.pk}
    assert at(branch, tea) == 3
    assert StockMovement.objects.filter(transfer=transfer).count() == 3  # out, in, loss
    assert_audit_passes()


@pytest.mark.parametrize("lines", ["left_out", "stranger", "twice", "fraction"])
def test_a_receipt_names_every_product_of_the_transfer_once(main, branch, lines):
    tea, rice, stranger = ProductFactory(stock=10), ProductFactory(stock=10), ProductFactory(stock=10)
    transfer = send(main, branch, (tea, 4), (rice, 2))
    cases: dict[str, list[tuple[Product, int | Decimal]]] = {
        "left_out": [(tea, 4)],
        "stranger": [(tea, 4), (rice, 2), (stranger, 1)],
        "twice": [(tea, 4), (rice, 2), (rice, 2)],
        "fraction": [(tea, D("3.5")), (rice, 2)],
    }
    pairs = cases[lines]

    with pytest.raises(ValidationFailed) as refused:
        receive(transfer, *pairs)

    assert "lines" in refused.value.details
    assert Transfer.objects.get(pk=transfer.pk).status == "in_transit"
    assert not StockMovement.objects.filter(store=branch).exists()


def test_receiving_into_a_store_closed_meanwhile_is_refused(main, branch):
    tea = ProductFactory(stock=10)
    transfer = send(main, branch, (tea, 4))
    Store.objects.filter(pk=branch.pk).update(is_active=False)

    with pytest.raises(StoreNotFound):
        receive(transfer, (tea, 4))

    assert Transfer.objects.get(pk=transfer.pk).status == "in_transit"


# --- The CHECKs back the services ---------------------------------------------------------------------


def _insert(make) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_the_database_refuses_what_the_services_refuse(main, branch):
    tea = ProductFactory(stock=10)
    transfer = send(main, branch, (tea, 4))
    line = TransferLine.objects.get(transfer=transfer)

    _insert(lambda: Transfer.objects.create(from_store=main, to_store=main))
    _insert(lambda: Transfer.objects.create(from_store=main, to_store=branch, status="received"))
    _insert(lambda: Transfer.objects.create(from_store=main, to_store=branch, status="lost"))
    _insert(lambda: TransferLine.objects.filter(pk=line.pk).update(received=5, loss=-1))
    _insert(lambda: TransferLine.objects.filter(pk=line.pk).update(received=3, loss=0))
    _insert(lambda: TransferLine.objects.filter(pk=line.pk).update(received=3))
    _insert(lambda: TransferLine.objects.create(transfer=transfer, product=tea, quantity=1))
    _insert(lambda: TransferLine.objects.create(transfer=transfer, product=ProductFactory(), quantity=0))
    for kind, quantity in (("transfer_loss", 1), ("transfer_out", 1), ("transfer_in", -1), ("transfer_in", 0)):
        _insert(
            lambda kind=kind, quantity=quantity: StockMovement.objects.create(
                store=branch, product=tea, kind=kind, quantity=quantity, balance_after=5, transfer=transfer
            )
        )
    _insert(
        lambda: StockMovement.objects.create(store=branch, product=tea, kind="transfer_in", quantity=1, balance_after=1)
    )
    _insert(
        lambda: StockMovement.objects.create(
            store=branch, product=tea, kind="opening", quantity=1, balance_after=1, transfer=transfer
        )
    )


# --- The API ----------------------------------------------------------------------------------------


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def manager_at_main(manager_user, main):
    manager_user.stores.set([main])  # works there only (the factory puts users in the default store)
    return _client(manager_user)


@pytest.fixture
def manager_at_branch(roles, branch):
    from billing_project.core.roles import role_assign

    user = person(username="branch-manager", is_staff=True)
    role_assign(user=user, role="Manager")
    user.stores.set([branch])  # works there only (the factory puts users in the default store)
    return _client(user)


def _body(source, destination, *pairs, **extra):
    lines = [{"product_id": product.pk, "quantity": quantity} for product, quantity in pairs]
    return {"from_store": source.pk, "to_store": destination.pk, "lines": lines, **extra}


def test_post_transfers_is_idempotent_and_readable(manager_at_main, main, branch):
    tea = ProductFactory(stock=10)
    headers = {"HTTP_IDEMPOTENCY_KEY": "tr-1"}
    body = _body(main, branch, (tea, 4), note="to the branch")

    first = manager_at_main.post(f"{API}/transfers", body, format="json", **headers)
    again = manager_at_main.post(f"{API}/transfers", body, format="json", **headers)

    assert first.status_code == 201 and again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    data = first.json()
    assert {k: data[k] for k in ("status", "from_store", "to_store", "note", "received_at")} == {
        "status": "in_transit",
        "from_store": main.pk,
        "to_store": branch.pk,
        "note": "to the branch",
        "received_at": None,
    }
    assert data["lines"] == [{"product_id": tea.pk, "quantity": 4, "received": None, "loss": None}]
    assert Transfer.objects.count() == 1 and at(main, tea) == 6
    assert manager_at_main.get(f"{API}/transfers/{data['id']}").json() == data


def test_post_transfers_refusals(manager_at_main, main, branch, cashier_api):
    tea = ProductFactory(stock=3)
    elsewhere = StoreFactory(code="FAR")

    short = manager_at_main.post(f"{API}/transfers", _body(main, branch, (tea, 4)), format="json")
    same = manager_at_main.post(f"{API}/transfers", _body(main, main, (tea, 1)), format="json")
    not_mine = manager_at_main.post(f"{API}/transfers", _body(elsewhere, branch, (tea, 1)), format="json")
    unknown = manager_at_main.post(
        f"{API}/transfers", {**_body(main, branch, (tea, 1)), "to_store": 999_999}, format="json"
    )
    cashier = cashier_api.post(f"{API}/transfers", _body(main, branch, (tea, 1)), format="json")

    assert (short.status_code, short.json()["code"]) == (409, "insufficient_stock")
    assert (same.status_code, same.json()["code"]) == (400, "validation_error")
    assert (not_mine.status_code, not_mine.json()["code"]) == (404, "not_found")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "store_not_found")
    assert cashier.status_code == 403
    assert not Transfer.objects.exists() and at(main, tea) == 3


def test_receive_through_the_api_once(manager_at_main, manager_at_branch, main, branch):
    tea = ProductFactory(stock=10)
    transfer = send(main, branch, (tea, 4))
    url = f"{API}/transfers/{transfer.pk}/receive"
    lines = {"lines": [{"product_id": tea.pk, "quantity": 3}]}

    # The sender sees the transfer but may not receive it: the destination is not theirs.
    sender = manager_at_main.post(url, lines, format="json", HTTP_IDEMPOTENCY_KEY="rx-0")
    first = manager_at_branch.post(url, lines, format="json", HTTP_IDEMPOTENCY_KEY="rx-1")
    replay = manager_at_branch.post(url, lines, format="json", HTTP_IDEMPOTENCY_KEY="rx-1")
    twice = manager_at_branch.post(url, lines, format="json", HTTP_IDEMPOTENCY_KEY="rx-2")
    excess = manager_at_branch.post(
        f"{API}/transfers/{send(main, branch, (tea, 1)).pk}/receive",
        {"lines": [{"product_id": tea.pk, "quantity": 2}]},
        format="json",
    )

    assert (sender.status_code, sender.json()["code"]) == (404, "not_found")
    assert first.status_code == 200 and replay.json() == first.json()
    assert first.json()["status"] == "received"
    assert first.json()["lines"] == [{"product_id": tea.pk, "quantity": 4, "received": 3, "loss": 1}]
    assert (twice.status_code, twice.json()["code"]) == (409, "transfer_already_received")
    assert twice.json()["details"] == {"transfer_id": transfer.pk}
    assert (excess.status_code, excess.json()["code"]) == (400, "validation_error")
    assert at(branch, tea) == 3
    assert_audit_passes()


def test_transfers_are_seen_from_either_store_and_filtered(
    manager_at_main, manager_at_branch, main, branch, django_assert_max_num_queries
):
    tea = ProductFactory(stock=20)
    far, other = StoreFactory(code="FAR"), StoreFactory(code="OTH")
    to_branch = send(main, branch, (tea, 1))
    to_far = send(main, far, (tea, 1))
    receive(to_far, (tea, 1))
    between_others = send(far, other, (tea, 1))
    for _ in range(3):
        send(main, far, (tea, 1), (ProductFactory(stock=5), 1))

    def ids(client, query=""):
        return [row["id"] for row in client.get(f"{API}/transfers{query}").json()["results"]]

    with django_assert_max_num_queries(12):
        seen_at_main = ids(manager_at_main)
    assert to_branch.pk in seen_at_main and between_others.pk not in seen_at_main and len(seen_at_main) == 5
    assert ids(manager_at_branch) == [to_branch.pk]
    assert ids(manager_at_main, "?status=received") == [to_far.pk]
    assert ids(manager_at_main, f"?store={branch.pk}") == [to_branch.pk]
    assert ids(manager_at_branch, f"?store={far.pk}") == []
    for bad in ("?status=lost", "?status=", "?store=abc", "?store=0"):
        answer = manager_at_main.get(f"{API}/transfers{bad}")
        assert (answer.status_code, answer.json()["code"]) == (400, "validation_error"), bad
    assert manager_at_branch.get(f"{API}/transfers/{to_far.pk}").status_code == 404
    assert manager_at_branch.get(f"{API}/transfers/{between_others.pk}").json()["code"] == "not_found"


def test_a_products_ledger_names_the_transfer(admin_api, main, branch):
    tea = ProductFactory(stock=10)
    transfer = send(main, branch, (tea, 4))
    receive(transfer, (tea, 3))

    rows = admin_api.get(f"{API}/products/{tea.pk}/movements").json()["results"]

    assert [(r["kind"], r["quantity"], r["reference"]) for r in rows[:3]] == [
        ("transfer_loss", 0, {"type": "transfer", "id": transfer.pk}),
        ("transfer_in", 3, {"type": "transfer", "id": transfer.pk}),
        ("transfer_out", -4, {"type": "transfer", "id": transfer.pk}),
    ]


# --- The admin --------------------------------------------------------------------------------------


def test_the_admin_lists_transfers_with_their_lines_and_receives_in_full(client, manager_user, main, branch):
    tea = ProductFactory(stock=10, name="Assam tea")
    transfer = send(main, branch, (tea, 4))
    far = StoreFactory(code="FAR")
    elsewhere = send(main, far, (tea, 1))
    manager_user.stores.set([branch])  # works there only (the factory puts users in the default store)
    client.force_login(manager_user)

    listing = client.get(reverse("admin:catalog_transfer_changelist"))
    detail = client.get(reverse("admin:catalog_transfer_change", args=[transfer.pk]))
    hidden = client.get(reverse("admin:catalog_transfer_change", args=[elsewhere.pk]))
    done = client.post(
        reverse("admin:catalog_transfer_changelist"),
        {"action": "receive_in_full", "_selected_action": [transfer.pk]},
    )

    assert listing.status_code == 200 and "In transit" in listing.content.decode()
    assert f"Transfer #{transfer.pk}" in listing.content.decode()
    assert f"Transfer #{elsewhere.pk}" not in listing.content.decode()
    assert detail.status_code == 200 and "Assam tea" in detail.content.decode()
    assert hidden.status_code == 302  # the admin's "does not exist"
    assert done.status_code == 302
    assert Transfer.objects.get(pk=transfer.pk).status == "received" and at(branch, tea) == 4
    assert Transfer.objects.get(pk=elsewhere.pk).status == "in_transit"
    assert_audit_passes()


def _transfer_form(source, destination, *pairs):
    data = {
        "from_store": source.pk,
        "to_store": destination.pk,
        "note": "by van",
        "lines-TOTAL_FORMS": str(len(pairs)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for i, (product, quantity) in enumerate(pairs):
        data |= {f"lines-{i}-product": product.pk, f"lines-{i}-quantity": str(quantity)}
    return data


def test_a_manager_sends_goods_in_the_admin_as_a_form_with_lines(client, manager_user, main, branch):
    tea, rice = ProductFactory(stock=10), ProductFactory(stock=1)
    far = StoreFactory(code="FAR")
    manager_user.stores.set([main])  # works there only (the factory puts users in the default store)
    client.force_login(manager_user)
    add = reverse("admin:catalog_transfer_add")

    sent = client.post(add, _transfer_form(main, branch, (tea, 4)))
    short = client.post(add, _transfer_form(main, branch, (tea, 1), (rice, 2)), follow=True)
    not_mine = client.post(add, _transfer_form(far, branch, (tea, 1)))

    assert sent.status_code == 302
    transfer = Transfer.objects.get()
    assert (transfer.from_store, transfer.to_store, transfer.note, transfer.created_by) == (
        main,
        branch,
        "by van",
        manager_user,
    )
    assert at(main, tea) == 6 and movements(main, tea)[-1] == ("transfer_out", D("-4"), D("6"))
    assert short.status_code == 200 and "2 cannot be taken off" in short.content.decode()
    assert not_mine.status_code == 200 and "Select a valid choice" in not_mine.content.decode()  # not theirs
    assert Transfer.objects.count() == 1 and at(main, tea) == 6 and at(main, rice) == 1
    assert_audit_passes()
