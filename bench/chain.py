"""The chain in the scale-out rehearsal (``make cluster-check``): two stores of four tills each, goods
sent between them during the load, and the audits of each store's stock and of the store boundary.

Before the load: a second store (``BRANCH``, sharing the default store's GSTIN and state) is made
through the API, half the tills are put in it, and half of every product's stock is sent there and
received in full. During the load a transfer thread sends a few products back and forth every
``TRANSFER_EVERY`` seconds and receives each at once, one in ``SHORT_EVERY`` received one unit short
(a ``transfer_loss``); every POST carries an ``Idempotency-Key`` and is retried through the node kill
like a bill. After it: each store's stock is checked against the ledger and the bills, and a manager of
the branch reads every list and a main-store bill, and must see only the branch.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from audit import Check
from loadgen import Api

BRANCH_CODE = "BRANCH"
TRANSFER_EVERY = 0.5  # seconds between two transfers during the load
SHORT_EVERY = 4  # one received transfer in this many arrives a unit short (lost in transit)
BRANCH_MANAGER = "branchmgr"

# A manager of the branch and nothing else, made with the project's own services.
BRANCH_MANAGER_SCRIPT = """
from django.contrib.auth import get_user_model
from billing_project.core.roles import MANAGER, role_assign
from catalog.models import Store
user = get_user_model().objects.create_user({username!r}, password={password!r})
role_assign(user=user, role=MANAGER)
user.stores.set([Store.objects.get(code={code!r})])
"""


def make_branch(api: Api) -> dict:
    """The second store, through the head office's API, with the default store's GSTIN and state (one
    registration, two shops: their invoices share the series rule within a GSTIN)."""
    status, body = api.request("GET", "/api/v1/stores")
    if status != 200:
        raise RuntimeError(f"listing the stores failed: {status} {body}")
    main = next(s for s in body["results"] if s["is_default"])
    status, branch = api.request(
        "POST",
        "/api/v1/stores",
        {"code": BRANCH_CODE, "name": "Branch", "gstin": main["gstin"], "state_code": main["state_code"]},
    )
    if status != 201:
        raise RuntimeError(f"creating the branch failed: {status} {branch}")
    return {"main": main["id"], "branch": branch["id"]}


def move_tills(api: Api, till_ids: list[int], store_id: int) -> None:
    """Put ``till_ids`` in ``store_id`` (a till moves before its first session)."""
    for till_id in till_ids:
        status, body = api.request("PATCH", f"/api/v1/tills/{till_id}", {"store": store_id})
        if status != 200:
            raise RuntimeError(f"moving till {till_id} to the branch failed: {status} {body}")


def stock_the_branch(api: Api, stores: dict, initial_stock: dict[int, int]) -> None:
    """Half of every product's stock sent from the main store to the branch and received in full."""
    lines = [{"product_id": pid, "quantity": int(stock) // 2} for pid, stock in initial_stock.items()]
    status, transfer = api.request(
        "POST",
        "/api/v1/transfers",
        {"from_store": stores["main"], "to_store": stores["branch"], "lines": lines, "note": "Opening the branch"},
        headers={"Idempotency-Key": "chain-open-branch"},
    )
    if status != 201:
        raise RuntimeError(f"stocking the branch failed: {status} {transfer}")
    status, body = api.request(
        "POST",
        f"/api/v1/transfers/{transfer['id']}/receive",
        {"lines": lines},
        headers={"Idempotency-Key": "chain-open-branch-receive"},
    )
    if status != 200:
        raise RuntimeError(f"receiving the branch's stock failed: {status} {body}")


@dataclass
class TransferStats:
    sent: int = 0
    received: int = 0
    short: int = 0
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gave_up: int = 0
    retried: int = 0


class TransferThread(threading.Thread):
    """Goods back and forth between the two stores while the tills ring up bills."""

    def __init__(self, *, port: int, token: str, stores: dict, product_ids: list[int], seed: int, post_answered):
        super().__init__(daemon=True)
        self.port, self.token, self.stores = port, token, stores
        self.product_ids = product_ids
        self.rng = random.Random(seed)
        self.post_answered = post_answered
        self.stats = TransferStats()
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Token {self.token}",
        }
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=35)
        n = 0
        while not self.stop.wait(TRANSFER_EVERY):
            n += 1
            source, destination = ("main", "branch") if n % 2 else ("branch", "main")
            products = self.rng.sample(self.product_ids, k=min(3, len(self.product_ids)))
            lines = [{"product_id": pid, "quantity": self.rng.randint(1, 5)} for pid in sorted(products)]
            body = {"from_store": self.stores[source], "to_store": self.stores[destination], "lines": lines}
            sent = self.post_answered(conn, "/api/v1/transfers", body, f"chain-transfer-{n}", headers)
            self.stats.retried += sent.attempts > 1
            if sent.status != 201:
                if sent.status == 0:
                    self.stats.gave_up += 1
                else:
                    self.stats.refused[f"{sent.status} {sent.code}"] += 1
                continue
            self.stats.sent += 1
            received = [dict(line) for line in lines]
            if n % SHORT_EVERY == 0:
                received[0]["quantity"] -= 1
                self.stats.short += 1
            path = f"/api/v1/transfers/{sent.payload['id']}/receive"
            got = self.post_answered(conn, path, {"lines": received}, f"chain-transfer-{n}-receive", headers)
            self.stats.retried += got.attempts > 1
            if got.status == 200:
                self.stats.received += 1
            elif got.status == 0:
                self.stats.gave_up += 1
            else:
                self.stats.refused[f"{got.status} {got.code}"] += 1
        conn.close()


def away_from_the_stores(db) -> dict[int, Decimal]:
    """Per product, the units that left the stores through transfers and did not come back into one:
    lost in transit, or still on the road."""
    rows = db.execute(
        "SELECT l.product_id, SUM(CASE WHEN t.status = 'in_transit' THEN l.quantity ELSE l.quantity - l.received END)"
        " FROM catalog_transferline l JOIN catalog_transfer t ON t.id = l.transfer_id GROUP BY l.product_id"
    ).fetchall()
    return {pid: Decimal(q) for pid, q in rows}


def store_stock_checks(db, stats: TransferStats) -> list[Check]:
    """Each store's stock against its ledger, its sales against its bills, and the transfers' halves."""
    checks = []
    off_ledger = db.execute(
        "SELECT s.store_id, s.product_id, s.stock, COALESCE(m.total, 0) FROM catalog_storestock s"
        " LEFT JOIN (SELECT store_id, product_id, SUM(quantity) AS total FROM catalog_stockmovement"
        " GROUP BY store_id, product_id) m ON m.store_id = s.store_id AND m.product_id = s.product_id"
        " WHERE s.stock <> COALESCE(m.total, 0) OR s.stock < 0"
    ).fetchall()
    per_store = dict(db.execute("SELECT store_id, count(*) FROM catalog_storestock GROUP BY store_id").fetchall())
    checks.append(
        Check(
            "each store's stock = the sum of its ledger, never below 0",
            not off_ledger,
            f"{sum(per_store.values())} store stock rows over {len(per_store)} stores; {len(off_ledger)} off"
            + (f" (e.g. {off_ledger[:3]})" if off_ledger else ""),
        )
    )
    sales_off = db.execute(
        "SELECT COALESCE(i.store_id, m.store_id), COALESCE(i.product_id, m.product_id), i.sold, m.taken FROM"
        " (SELECT store_id, product_id, SUM(quantity) AS sold FROM purchases_purchaseitem GROUP BY 1, 2) i"
        " FULL JOIN (SELECT store_id, product_id, -SUM(quantity) AS taken FROM catalog_stockmovement"
        " WHERE kind = 'sale' GROUP BY 1, 2) m ON m.store_id = i.store_id AND m.product_id = i.product_id"
        " WHERE i.sold IS DISTINCT FROM m.taken"
    ).fetchall()
    sold = dict(db.execute("SELECT store_id, SUM(quantity) FROM purchases_purchaseitem GROUP BY 1").fetchall())
    checks.append(
        Check(
            "each store's sales in its ledger = the units on its bills' lines",
            not sales_off and len(sold) == 2,
            "units sold by store "
            + ", ".join(f"#{k}: {v}" for k, v in sorted(sold.items()))
            + f"; {len(sales_off)} off",
        )
    )
    halves = db.execute(
        "SELECT t.id FROM catalog_transfer t JOIN catalog_transferline l ON l.transfer_id = t.id"
        " LEFT JOIN catalog_stockmovement o ON o.transfer_id = t.id AND o.product_id = l.product_id"
        " AND o.kind = 'transfer_out' AND o.store_id = t.from_store_id"
        " LEFT JOIN catalog_stockmovement i ON i.transfer_id = t.id AND i.product_id = l.product_id"
        " AND i.kind = 'transfer_in' AND i.store_id = t.to_store_id"
        " WHERE o.quantity IS DISTINCT FROM -l.quantity"
        " OR (t.status = 'received' AND COALESCE(i.quantity, 0) <> l.received)"
    ).fetchall()
    counts = dict(db.execute("SELECT status, count(*) FROM catalog_transfer GROUP BY 1").fetchall())
    checks.append(
        Check(
            "transfers during the load: each sent half out of its source, each received half into its destination",
            not halves and stats.sent > 0 and stats.gave_up == 0,
            f"{stats.sent} sent, {stats.received} received ({stats.short} a unit short), {stats.retried} retried,"
            f" {stats.gave_up} gave up, refused {dict(stats.refused)}; in the database {counts}; {len(halves)} off",
        )
    )
    return checks


def boundary_check(api_for, db, *, stores: dict, password: str, manage_shell) -> Check:
    """A manager of the branch lists the tills, sessions, bills, refunds and transfers, and asks for a
    main-store bill: every row must be the branch's, and the main store's bill a 404."""
    manage_shell(BRANCH_MANAGER_SCRIPT.format(username=BRANCH_MANAGER, password=password, code=BRANCH_CODE))
    status, body = api_for(None).request(
        "POST", "/api/v1/auth/token", {"username": BRANCH_MANAGER, "password": password}
    )
    if status != 200:
        return Check("the store boundary holds for a branch manager", False, f"no token: {status} {body}")
    api = api_for(body["token"])
    branch = stores["branch"]
    branch_tills = {row[0] for row in db.execute("SELECT id FROM cashdrawer_till WHERE store_id = %s", [branch])}
    problems: list[str] = []
    seen: dict[str, int] = {}

    def walk(path: str, belongs) -> None:
        page, count = 1, 0
        while page <= 50:
            status, body = api.request("GET", f"{path}{'&' if '?' in path else '?'}page_size=100&page={page}")
            if status != 200:
                problems.append(f"{path}: {status}")
                return
            for row in body["results"]:
                count += 1
                if not belongs(row):
                    problems.append(f"{path}: row {row.get('id')}")
            if not body.get("next"):
                break
            page += 1
        seen[path] = count

    walk("/api/v1/tills", lambda t: t["store"] == branch)
    walk("/api/v1/sessions", lambda s: s["till"] in branch_tills)
    walk("/api/v1/purchases", lambda b: b["till"] in branch_tills)
    walk("/api/v1/refunds", lambda r: r["till"] in branch_tills)
    walk("/api/v1/transfers", lambda t: branch in (t["from_store"], t["to_store"]))
    main_bill = db.execute(
        "SELECT id FROM purchases_purchase WHERE store_id = %s ORDER BY id LIMIT 1", [stores["main"]]
    ).fetchone()
    if main_bill:
        status, body = api.request("GET", f"/api/v1/purchases/{main_bill[0]}")
        if status != 404:
            problems.append(f"main store's bill #{main_bill[0]}: {status}")
    status, body = api.request("GET", f"/api/v1/reports/sales?store={stores['main']}")
    if status == 200 and any(Decimal(str(v)) for k, v in body.get("totals", {}).items() if k in ("bills", "net_sales")):
        problems.append("the main store's sales report shows figures")
    api.close()
    return Check(
        "the store boundary holds for a branch manager (lists, a main-store bill, the main store's report)",
        not problems and seen.get("/api/v1/purchases", 0) > 0,
        "rows seen: "
        + ", ".join(f"{k.rsplit('/', 1)[-1]} {v}" for k, v in seen.items())
        + (f"; problems: {problems[:5]}" if problems else "; none of the main store's"),
    )


def wait_stopped(thread: TransferThread, timeout: float = 60.0) -> None:
    thread.stop.set()
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        thread.join(0.2)
