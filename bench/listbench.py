"""The bill list at scale: fill the database to N bills with SQL, then time the API's first page.

The synthetic bills are inserted straight into the tables in one transaction, consistent with
every constraint: 3 lines each from the seeded products (line subtotal = price x quantity, tax
half-up to the paisa, bill sums = line sums, payable rounded to the rupee), paid exactly, so no
change and no drawer movement: the drawer ledger stays as the load left it. They are the default
store's, and dated a year back, so the newest page still shows the real bills from the load, with
their drawer movements. The tables are then vacuumed, as autovacuum would have left them.
"""

from __future__ import annotations

import time

from loadgen import Api, percentile_ms

SYNTHETIC_CUSTOMERS = 5000


def fill_bills(db, *, target: int, product_ids: list[int]) -> tuple[int, float]:
    """Insert bills until the table holds ``target``; returns (inserted, seconds)."""
    have = db.execute("SELECT count(*) FROM purchases_purchase").fetchone()[0]
    need = target - have
    if need <= 0:
        return 0, 0.0
    t0 = time.perf_counter()
    with db.transaction():
        db.execute("CREATE TEMP TABLE bench_products (rn int, id bigint) ON COMMIT DROP")
        with db.cursor().copy("COPY bench_products (rn, id) FROM STDIN") as copy:
            for rn, pid in enumerate(product_ids):
                copy.write_row((rn, pid))
        db.execute(
            "INSERT INTO customers_customer (email, created_at)"
            " SELECT 'synthetic-' || c || '@example.com', now() FROM generate_series(1, %s) AS c"
            " ON CONFLICT DO NOTHING",
            [SYNTHETIC_CUSTOMERS],
        )
        db.execute(
            "CREATE TEMP TABLE bench_customers ON COMMIT DROP AS SELECT id, (row_number() OVER (ORDER BY id) - 1)::int"
            " AS rn FROM customers_customer WHERE email LIKE 'synthetic-%@example.com'"
        )
        db.execute(
            "CREATE TEMP TABLE bench_bills ON COMMIT DROP AS SELECT g AS n,"
            " nextval(pg_get_serial_sequence('purchases_purchase', 'id')) AS id FROM generate_series(1, %s) AS g",
            [need],
        )
        db.execute(
            "CREATE TEMP TABLE bench_lines ON COMMIT DROP AS"
            " SELECT b.id AS purchase_id, p.id AS product_id, p.name, q.quantity, p.price, p.tax_percent,"
            "        p.price * q.quantity AS subtotal, round(p.price * q.quantity * p.tax_percent / 100, 2) AS tax"
            " FROM bench_bills b CROSS JOIN (VALUES (0), (17), (33)) AS o (off)"
            " CROSS JOIN LATERAL (SELECT 1 + (b.n + o.off) %% 3 AS quantity) AS q"
            " JOIN bench_products bp ON bp.rn = (b.n + o.off) %% %s"
            " JOIN catalog_product p ON p.id = bp.id",
            [len(product_ids)],
        )
        db.execute(
            "INSERT INTO purchases_purchase (id, customer_id, created_by_id, created_at, subtotal, tax_total, total,"
            " rounding, payable, paid_amount, cash_paid, change_due, cgst_total, sgst_total, store_id)"
            " SELECT b.id, c.id, NULL, now() - interval '365 days' + b.n * interval '1 second', l.sub, l.tax,"
            "        l.sub + l.tax, round(l.sub + l.tax) - (l.sub + l.tax), round(l.sub + l.tax),"
            "        round(l.sub + l.tax), round(l.sub + l.tax), 0, l.cgst, l.tax - l.cgst,"
            "        (SELECT id FROM catalog_store WHERE is_default)"
            " FROM bench_bills b"
            " JOIN (SELECT purchase_id, sum(subtotal) AS sub, sum(tax) AS tax, sum(round(tax / 2, 2)) AS cgst"
            "   FROM bench_lines GROUP BY purchase_id) l"
            "   ON l.purchase_id = b.id"
            " JOIN bench_customers c ON c.rn = b.n %% %s",
            [SYNTHETIC_CUSTOMERS],
        )
        db.execute(
            "INSERT INTO purchases_purchaseitem (purchase_id, created_at, product_id, product_name, quantity,"
            " unit_price, tax_percent, gross, discount_percent, discount_amount, subtotal, tax_amount, total,"
            " cgst, sgst, store_id)"
            " SELECT l.purchase_id, p.created_at, l.product_id, l.name, l.quantity, l.price, l.tax_percent,"
            "        l.subtotal, 0, 0, l.subtotal, l.tax, l.subtotal + l.tax, round(l.tax / 2, 2),"
            "        l.tax - round(l.tax / 2, 2), p.store_id"
            " FROM bench_lines l JOIN purchases_purchase p ON p.id = l.purchase_id"
        )
        # Each bill paid in cash, exactly.
        db.execute(
            "INSERT INTO purchases_payment (purchase_id, method_id, is_cash, amount, reference, store_id)"
            " SELECT p.id, m.id, true, p.payable, '', p.store_id"
            " FROM purchases_purchase p JOIN bench_bills b ON b.id = p.id"
            " CROSS JOIN purchases_paymentmethod m WHERE m.is_cash AND p.payable > 0"
        )
    # As autovacuum would have left a table that has been filling for a year: statistics and the
    # visibility map that lets count(*) use an index-only scan.
    for table in ("customers_customer", "purchases_purchase", "purchases_purchaseitem"):
        db.execute(f"VACUUM (ANALYZE) {table}")
    return need, time.perf_counter() - t0


def time_sql(db, sql: str, *, requests: int = 20) -> dict:
    """One query's own time, from the benchmark's connection (no app in between)."""
    latencies = []
    for _ in range(requests):
        t0 = time.perf_counter()
        db.execute(sql).fetchall()
        latencies.append(time.perf_counter() - t0)
    latencies.sort()
    return {"sql": sql, "p50_ms": percentile_ms(latencies, 50), "p95_ms": percentile_ms(latencies, 95)}


def time_list(api: Api, *, path: str, requests: int, warmup: int = 3) -> dict:
    for _ in range(warmup):
        api.request("GET", path)
    latencies, bad = [], 0
    lines = bills = 0
    for _ in range(requests):
        t0 = time.perf_counter()
        status, body = api.request("GET", path)
        latencies.append(time.perf_counter() - t0)
        if status != 200:
            bad += 1
            continue
        bills = len(body["results"])
        lines = sum(len(b["items"]) for b in body["results"])
    latencies.sort()
    return {
        "path": path,
        "requests": requests,
        "non_200": bad,
        "bills_on_page": bills,
        "lines_on_page": lines,
        "p50_ms": percentile_ms(latencies, 50),
        "p95_ms": percentile_ms(latencies, 95),
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
    }
