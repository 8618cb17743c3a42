"""After the load: is every unit of stock, every bill and every note accounted for?

Each check compares what the clients were told (the 201 bodies) with what the API and the
database say now. A request that errored (timeout, connection reset: no response) may or may not
have made its bill; such a bill is accepted only if it matches an errored request exactly
(customer, lines, amount paid).
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from loadgen import Api, RunStats


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


def _fmt(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def _db_bills(db) -> dict[int, dict]:
    bills: dict[int, dict] = {}
    rows = db.execute(
        # A walk-in bill (no customer, once bills may have none) has the empty email, as its request.
        "SELECT p.id, coalesce(lower(c.email), ''), p.paid_amount, p.subtotal, p.tax_total, p.change_due, p.till_id"
        " FROM purchases_purchase p LEFT JOIN customers_customer c ON c.id = p.customer_id"
    ).fetchall()
    for pid, email, paid, subtotal, tax_total, change_due, till_id in rows:
        bills[pid] = {
            "till": till_id,
            "email": email,
            "paid": _fmt(paid),
            "subtotal": subtotal,
            "tax_total": tax_total,
            "change_due": change_due,
            "items": {},
            "item_subtotal": Decimal(0),
            "item_tax": Decimal(0),
            "tendered": {},
            "change": {},
        }
    for pid, product_id, quantity, subtotal, tax in db.execute(
        "SELECT purchase_id, product_id, quantity, subtotal, tax_amount FROM purchases_purchaseitem"
    ):
        bill = bills[pid]
        bill["items"][product_id] = quantity
        bill["item_subtotal"] += subtotal
        bill["item_tax"] += tax
    for pid, kind, delta, value in db.execute(
        "SELECT m.purchase_id, m.kind, m.delta, d.value FROM cashdrawer_drawermovement m"
        " JOIN cashdrawer_denomination d ON d.id = m.denomination_id WHERE m.purchase_id IS NOT NULL"
    ):
        side = "tendered" if kind == "tender_in" else "change"
        pieces = bills[pid][side]
        pieces[_fmt(value)] = pieces.get(_fmt(value), 0) + abs(delta)
    return bills


def _db_refunds(db) -> dict[int, dict]:
    refunds: dict[int, dict] = {}
    for rid, purchase_id, till_id, restock in db.execute(
        "SELECT id, purchase_id, till_id, restock FROM purchases_refund"
    ).fetchall():
        refunds[rid] = {
            "purchase": purchase_id,
            "till": till_id,
            "restock": restock,
            "items": {},
            "cash_out": {},
            "cash_amount": Decimal(0),
        }
    for rid, product_id, quantity in db.execute(
        "SELECT l.refund_id, i.product_id, l.quantity FROM purchases_refundline l"
        " JOIN purchases_purchaseitem i ON i.id = l.item_id"
    ):
        refunds[rid]["items"][product_id] = quantity
    for rid, delta, value in db.execute(
        "SELECT m.refund_id, m.delta, d.value FROM cashdrawer_drawermovement m"
        " JOIN cashdrawer_denomination d ON d.id = m.denomination_id WHERE m.refund_id IS NOT NULL"
    ):
        pieces = refunds[rid]["cash_out"]
        pieces[_fmt(value)] = pieces.get(_fmt(value), 0) + abs(delta)
    for rid, amount in db.execute("SELECT refund_id, amount FROM purchases_refundpayment WHERE is_cash"):
        refunds[rid]["cash_amount"] += amount
    return refunds


def _signature(bill: dict) -> tuple:
    return (bill["email"], tuple(sorted(bill["items"].items())), bill["paid"])


def _pieces_value(pieces: dict[str, int]) -> Decimal:
    return sum((Decimal(v) * c for v, c in pieces.items()), Decimal(0))


def run_audits(
    *,
    db,
    api: Api,
    runs: list[RunStats],
    initial_stock: dict[int, Decimal],
    initial_drawer: dict[tuple[int, str], int],
    seed_movement_id: int,
    drawer_audit_cmd: list[str] | None,
    env: dict,
    cwd: Path,
    away: dict[int, Decimal] | None = None,
) -> list[Check]:
    """The audits of a load's bills, refunds, stock and drawers. ``away``: per product, the units that
    left the stores through transfers and came into none (lost in transit or still on the road)."""
    away = away or {}
    checks: list[Check] = []
    acked = [r for run in runs for r in run.results if r.status == 201 and r.kind == "bill"]
    errored = [r for run in runs for r in run.results if r.status == 0 and r.kind == "bill"]
    acked_refunds = [r for run in runs for r in run.results if r.status == 201 and r.kind == "refund"]
    refunds = _db_refunds(db)
    acked_ids = Counter(r.bill_id for r in acked)
    bills = _db_bills(db)

    # --- bills ----------------------------------------------------------------------------
    dup = [bid for bid, n in acked_ids.items() if n > 1]
    missing = [bid for bid in acked_ids if bid not in bills]
    checks.append(
        Check(
            "every acknowledged bill exists",
            not missing and not dup,
            f"{len(acked_ids)} acknowledged, {len(missing)} missing, {len(dup)} acknowledged twice",
        )
    )
    unacked = [bid for bid in bills if bid not in acked_ids]
    pending = Counter(r.signature for r in errored)
    unexplained = []
    for bid in unacked:
        sig = _signature(bills[bid])
        if pending[sig] > 0:
            pending[sig] -= 1
        else:
            unexplained.append(bid)
    checks.append(
        Check(
            "no unacknowledged bill unless its request errored",
            not unexplained,
            f"{len(unacked)} unacknowledged bills, {len(errored)} errored requests, {len(unexplained)} unexplained"
            + (f" (e.g. #{unexplained[:5]})" if unexplained else ""),
        )
    )
    mismatched = []
    for r in acked:
        bill = bills.get(r.bill_id) if r.bill_id is not None else None
        if bill is None:
            continue
        seen = (bill["items"], bill["tendered"], bill["change"], _signature(bill))
        if seen != (r.items, r.tendered, r.change, r.signature):
            mismatched.append(r.bill_id)
    checks.append(
        Check(
            "acknowledged bills match the database (lines, tendered, change)",
            not mismatched,
            f"{len(mismatched)} differ" + (f" (e.g. #{mismatched[:5]})" if mismatched else ""),
        )
    )

    # --- no partial bill ------------------------------------------------------------------
    no_items = [bid for bid, b in bills.items() if not b["items"]]
    bad_sums = [
        bid for bid, b in bills.items() if b["subtotal"] != b["item_subtotal"] or b["tax_total"] != b["item_tax"]
    ]
    bad_cash = [
        bid
        for bid, b in bills.items()
        if not b["tendered"]
        or _fmt(_pieces_value(b["tendered"])) != b["paid"]
        or _pieces_value(b["change"]) != b["change_due"]
    ]
    checks.append(
        Check(
            "no partial bill (lines present, sums match, tendered = paid, change = change due)",
            not (no_items or bad_sums or bad_cash),
            f"{len(bills)} bills: {len(no_items)} without lines, {len(bad_sums)} with sums off,"
            f" {len(bad_cash)} with drawer movements off",
        )
    )

    # --- stock ----------------------------------------------------------------------------
    # A product's stock is the sum over the stores (none: 0).
    db_stock = dict(
        db.execute(
            "SELECT p.id, COALESCE(SUM(s.stock), 0) FROM catalog_product p"
            " LEFT JOIN catalog_storestock s ON s.product_id = p.id GROUP BY p.id"
        ).fetchall()
    )
    negative = {pid: s for pid, s in db_stock.items() if s < 0}
    api_stock = _api_stock(api)
    checks.append(
        Check(
            "no negative stock",
            not negative and all(s >= 0 for s in api_stock.values()),
            f"{len(db_stock)} products, min stock {min(db_stock.values(), default=0)}",
        )
    )
    sold_db: dict[int, Decimal] = defaultdict(Decimal)
    for b in bills.values():
        for pid, q in b["items"].items():
            sold_db[pid] += q
    sold_seen: dict[int, Decimal] = defaultdict(Decimal)
    for r in acked:
        for pid, q in r.items.items():
            sold_seen[pid] += q
    for bid in unacked:
        for pid, q in bills[bid]["items"].items():
            sold_seen[pid] += q
    restocked: dict[int, Decimal] = defaultdict(Decimal)  # every committed refund, acknowledged or not
    for refund in refunds.values():
        for pid, q in refund["items"].items():
            restocked[pid] += q if refund["restock"] else 0
    lost = {}
    for pid, start in initial_stock.items():
        decrease = start - db_stock[pid]
        gone = away.get(pid, Decimal(0))
        net_db, net_seen = sold_db[pid] - restocked[pid] + gone, sold_seen[pid] - restocked[pid] + gone
        if decrease != net_db or decrease != net_seen or api_stock.get(pid) != db_stock[pid]:
            lost[pid] = (decrease, sold_db[pid], sold_seen[pid], api_stock.get(pid), db_stock[pid])
    checks.append(
        Check(
            "lost units = 0 (stock decrease = units on committed bills − units restocked by refunds"
            " + units lost or in transit between stores, per product)",
            not lost,
            f"{sum(sold_db.values())} units sold, {sum(restocked.values())} restocked, over {len(initial_stock)}"
            f" products; {len(lost)} products off" + (f": {dict(list(lost.items())[:3])}" if lost else ""),
        )
    )

    # --- drawers, one per till -------------------------------------------------------------
    # Keys are (till id, value): each till's drawer reconciles on its own.
    status, payload = api.request("GET", "/api/v1/tills?page_size=100")
    till_ids = [t["id"] for t in payload["results"]] if status == 200 else []
    api_drawer: dict[tuple[int, str], int] = {}
    for till_id in till_ids:
        st, rows = api.request("GET", f"/api/v1/tills/{till_id}/denominations")
        status = status if st == 200 else st
        for d in rows if st == 200 else []:
            api_drawer[(till_id, _fmt(Decimal(d["value"])))] = d["available_count"]
    db_drawer = {(t, _fmt(v)): c for t, v, c in db.execute("SELECT till_id, value, count FROM cashdrawer_denomination")}
    expected = dict(initial_drawer)

    def apply(till_id, tendered, change):
        for v, c in tendered.items():
            expected[(till_id, v)] = expected.get((till_id, v), 0) + c
        for v, c in change.items():
            expected[(till_id, v)] = expected.get((till_id, v), 0) - c

    for r in acked:
        apply(r.till, r.tendered, r.change)
    for bid in unacked:
        apply(bills[bid]["till"], bills[bid]["tendered"], bills[bid]["change"])
    for refund in refunds.values():
        apply(refund["till"], {}, refund["cash_out"])
    off = {
        k: (expected.get(k), api_drawer.get(k), db_drawer.get(k))
        for k in db_drawer
        if not expected.get(k) == api_drawer.get(k) == db_drawer.get(k)
    }
    tendered_total = sum(c for r in acked for c in r.tendered.values())
    change_total = sum(c for r in acked for c in r.change.values())
    tills_used = len({r.till for r in acked})
    checks.append(
        Check(
            "every till's drawer reconciles per denomination: start + tendered - change - refunds = now"
            " (responses vs API vs DB)",
            not off and status == 200,
            f"{len(till_ids)} tills ({tills_used} with bills), {len(db_drawer)} denominations, {tendered_total} pieces"
            f" tendered, {change_total} given as change" + (f"; off: {dict(list(off.items())[:5])}" if off else ""),
        )
    )
    ledger = {
        (t, _fmt(v)): total
        for t, v, total in db.execute(
            "SELECT d.till_id, d.value, coalesce(sum(m.delta), 0) FROM cashdrawer_denomination d"
            " LEFT JOIN cashdrawer_drawermovement m ON m.denomination_id = d.id AND m.id > %s"
            " GROUP BY d.till_id, d.value",
            [seed_movement_id],
        ).fetchall()
    }
    ledger_off = {k: s for k, s in ledger.items() if initial_drawer.get(k, 0) + s != db_drawer[k]}
    broken_chain = db.execute(
        "SELECT count(*) FROM (SELECT count_after, delta, lag(count_after) OVER (PARTITION BY denomination_id"
        " ORDER BY id) AS prev FROM cashdrawer_drawermovement) m WHERE prev IS NOT NULL AND count_after <> prev + delta"
    ).fetchone()[0]
    stale_last = db.execute(
        "SELECT count(*) FROM cashdrawer_denomination d JOIN LATERAL (SELECT count_after FROM cashdrawer_drawermovement"
        " m WHERE m.denomination_id = d.id ORDER BY m.id DESC LIMIT 1) last ON true WHERE last.count_after <> d.count"
    ).fetchone()[0]
    wrong_till = db.execute(
        "SELECT count(*) FROM cashdrawer_drawermovement m"
        " JOIN cashdrawer_denomination d ON d.id = m.denomination_id"
        " LEFT JOIN purchases_purchase p ON p.id = m.purchase_id"
        " LEFT JOIN cashdrawer_tillsession s ON s.id = m.session_id"
        " WHERE m.till_id <> d.till_id OR p.till_id <> m.till_id OR s.till_id <> m.till_id"
        " OR p.session_id <> m.session_id"
    ).fetchone()[0]
    open_sessions = db.execute(
        "SELECT count(*) FROM (SELECT till_id FROM cashdrawer_tillsession WHERE status = 'open'"
        " GROUP BY till_id HAVING count(*) > 1) t"
    ).fetchone()[0]
    checks.append(
        Check(
            "drawer ledger per till: start + sum(movements) = count; count_after chains; bill, session and"
            " movement agree on the till",
            not ledger_off and broken_chain == 0 and stale_last == 0 and wrong_till == 0 and open_sessions == 0,
            f"{len(ledger_off)} denominations off, {broken_chain} broken links, {stale_last} stale counts,"
            f" {wrong_till} movements at the wrong till or session, {open_sessions} tills with two open sessions",
        )
    )

    # --- refunds ----------------------------------------------------------------------------
    missing_refunds = [r.refund_id for r in acked_refunds if r.refund_id not in refunds]
    refund_off = [
        r.refund_id
        for r in acked_refunds
        if r.refund_id in refunds
        and (refunds[r.refund_id]["items"], refunds[r.refund_id]["cash_out"], refunds[r.refund_id]["purchase"])
        != (r.items, r.cash_out, r.bill_id)
    ]
    over_refunded = db.execute(
        "SELECT count(*) FROM purchases_purchaseitem i LEFT JOIN (SELECT item_id, sum(quantity) q, sum(subtotal) s,"
        " sum(tax_amount) t FROM purchases_refundline GROUP BY item_id) r ON r.item_id = i.id"
        " WHERE coalesce(r.q, 0) <> i.refunded_quantity OR i.refunded_quantity > i.quantity"
        " OR coalesce(r.s, 0) <> i.refunded_subtotal OR coalesce(r.t, 0) <> i.refunded_tax_amount"
        " OR i.refunded_subtotal > i.subtotal OR i.refunded_tax_amount > i.tax_amount"
    ).fetchone()[0]
    cash_off = [rid for rid, refund in refunds.items() if _pieces_value(refund["cash_out"]) != refund["cash_amount"]]
    checks.append(
        Check(
            "refunds: every acknowledged refund exists as answered; refunded <= sold per line and the running"
            " sums match the refund lines; cash handed back = cash paid",
            not missing_refunds and not refund_off and over_refunded == 0 and not cash_off,
            f"{len(refunds)} refunds ({len(acked_refunds)} acknowledged): {len(missing_refunds)} missing,"
            f" {len(refund_off)} differ, {over_refunded} lines off, {len(cash_off)} with cash off",
        )
    )

    # --- the API serves the bills it acknowledged -----------------------------------------
    kept = [r for r in acked if r.body is not None]
    sample = random.Random(1).sample(kept, min(100, len(kept)))
    differ = []
    for r in sample:
        st, body = api.request("GET", f"/api/v1/purchases/{r.bill_id}")
        # The invoice's status moves on when a worker sends it, and refunds add to the bill's refund
        # fields; the bill itself must not change.
        if st != 200 or _without_invoice(body) != _without_invoice(r.body):
            differ.append(r.bill_id)
    checks.append(
        Check(
            "GET /purchases/<id> returns exactly the 201 body (sample)",
            not differ,
            f"{len(sample)} checked, {len(differ)} differ" + (f" (e.g. #{differ[:5]})" if differ else ""),
        )
    )

    # --- drawer_audit ---------------------------------------------------------------------
    if drawer_audit_cmd is None:
        checks.append(Check("drawer_audit", True, "not available (command not in the project yet)"))
    else:
        proc = subprocess.run(drawer_audit_cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        checks.append(Check("drawer_audit passes", proc.returncode == 0, f"exit {proc.returncode}: {' | '.join(tail)}"))
    return checks


def stock_audit_check(label: str, *, env: dict, cwd: Path) -> Check:
    """``manage.py stock_audit`` after a scenario: every product's stock equals the sum of its stock
    ledger, and the ledger's balances chain."""
    cmd = [sys.executable, "manage.py", "stock_audit"]
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
    return Check(
        f"stock_audit passes after {label}", proc.returncode == 0, f"exit {proc.returncode}: {' | '.join(tail)}"
    )


def _without_invoice(body) -> object:
    if not isinstance(body, dict):
        return body
    out = {k: v for k, v in body.items() if not k.startswith("invoice_") and k not in ("refunds", "refunded_total")}
    if isinstance(out.get("items"), list):
        out["items"] = [
            {k: v for k, v in i.items() if k != "refunded_quantity"} if isinstance(i, dict) else i for i in out["items"]
        ]
    return out


def _api_stock(api: Api) -> dict[int, Decimal]:
    stock: dict[int, Decimal] = {}
    page = 1
    while page < 100:
        status, body = api.request("GET", f"/api/v1/products?page_size=100&page={page}")
        if status != 200:
            break
        for p in body["results"]:
            stock[p["id"]] = Decimal(str(p["stock"]))  # 12, or "12.500" for a weighed product
        if not body.get("next"):
            break
        page += 1
    return stock
