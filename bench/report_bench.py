"""The sales report at a million bills (issue 14): ``make bench-reports``.

A fresh PostgreSQL database (migrated), then with SQL: 1,000,000 bills (1-4 lines of ~500 products,
tax rates 0/5/12/18, every tenth bill discounted 5 %, cash / card / card + cash split tenders, some
cash with change, 4 tills, 6 cashiers) spread evenly over the 400 days up to now, and 50,000 partial
refunds made up to 10 days after their bill at any till. VACUUM ANALYZE, then ``sales_report()`` is
timed in-process with the production settings: p50 / p95 of ``--runs`` calls per case, after one
warm-up call. The targets: a 30-day report by day p50 <= 300 ms, a 366-day report by product p50
<= 1.5 s. The other groupings are timed for the record with ``--record-runs`` calls.

    .venv/bin/python bench/report_bench.py [--bills 1000000] [--refunds 50000] [--runs 15] [--keep]

The data is deterministic (no randomness: every choice is arithmetic on the bill's number), so two
runs time the same rows. The database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from appenv import migrated_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRODUCTS = 500
TILLS = 4
CASHIERS = 6
CUSTOMERS = 5000
DAYS = 400
TARGETS = {("day", 30): 300.0, ("product", 366): 1500.0}  # p50, ms
GROUPINGS = ("day", "hour", "product", "cashier", "till", "payment_method", "tax_rate")


def log(message: str) -> None:
    print(f"[report-bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bills", type=int, default=1_000_000)
    p.add_argument("--refunds", type=int, default=50_000)
    p.add_argument("--runs", type=int, default=15, help="timed calls per target case (default 15)")
    p.add_argument("--record-runs", type=int, default=5, help="timed calls per other case (default 5)")
    p.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    args = p.parse_args()
    parts = urlsplit(args.pg)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        p.error("only 127.0.0.1")
    name = f"billing_bench_{os.getpid()}"
    log(f"database {name}: migrating")
    with migrated_database(args.pg, name, keep=args.keep) as url:
        import django

        django.setup()
        with psycopg.connect(url, autocommit=True) as db:
            fill(db, bills=args.bills, refunds=args.refunds)
        results = time_reports(args)
        print_table(results, args)
        if args.keep:
            log(f"keeping {url}")
        return 0 if all(r["verdict"] != "MISS" for r in results) else 1


def seed_objects() -> dict:
    """Products, tills (each with an open session, for refunds), cashiers and customers, through the
    ORM and the services; the bills and refunds come next, in SQL."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from cashdrawer.services import session_open, till_create
    from catalog.models import Product, StoreStock
    from catalog.stores import default_store_id

    rates = [Decimal("0"), Decimal("5"), Decimal("12"), Decimal("18")]
    products = Product.objects.bulk_create(
        Product(
            sku=f"BENCH-{n:04d}",
            name=f"Product {n:03d}",
            price=Decimal(10 + (n * 37) % 990) + Decimal((n * 13) % 100) / 100,
            tax_percent=rates[n % 4],
        )
        for n in range(PRODUCTS)
    )
    store = default_store_id()
    StoreStock.objects.bulk_create(StoreStock(store_id=store, product=p, stock=1_000_000) for p in products)
    tills = [till_create(code=f"T{n}", name=f"Counter {n}") for n in range(1, TILLS + 1)]
    sessions = [session_open(till_id=till.pk, counted=[]) for till in tills]
    User = get_user_model()
    cashiers = [User.objects.create_user(username=f"cashier{n}", password=None) for n in range(CASHIERS)]
    return {
        "tills": [t.pk for t in tills],
        "sessions": [s.pk for s in sessions],
        "cashiers": [u.pk for u in cashiers],
    }


def fill(db: psycopg.Connection, *, bills: int, refunds: int) -> None:
    objects = seed_objects()
    t0 = time.perf_counter()
    log(f"inserting {bills:,} bills and {refunds:,} refunds")
    with db.transaction():
        db.execute(
            "CREATE TEMP TABLE bench_products ON COMMIT DROP AS"
            " SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS rn FROM catalog_product"
        )
        db.execute(
            "CREATE TEMP TABLE bench_refs ON COMMIT DROP AS"
            " SELECT * FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS t (till, session, rn)",
            [objects["tills"], objects["sessions"]],
        )
        db.execute(
            "CREATE TEMP TABLE bench_cashiers ON COMMIT DROP AS"
            " SELECT * FROM unnest(%s::bigint[]) WITH ORDINALITY AS t (id, rn)",
            [objects["cashiers"]],
        )
        db.execute(
            "INSERT INTO customers_customer (email, created_at)"
            " SELECT 'bench-' || c || '@example.com', now() FROM generate_series(1, %s) AS c",
            [CUSTOMERS],
        )
        db.execute(
            "CREATE TEMP TABLE bench_customers ON COMMIT DROP AS SELECT id, (row_number() OVER (ORDER BY id) - 1)::int"
            " AS rn FROM customers_customer WHERE email LIKE 'bench-%@example.com'"
        )
        # The bills: number n, evenly over DAYS days up to now; 1-4 lines; every tenth discounted.
        db.execute(
            "CREATE TEMP TABLE bench_bills ON COMMIT DROP AS SELECT g AS n,"
            " nextval(pg_get_serial_sequence('purchases_purchase', 'id')) AS id,"
            " now() - make_interval(days => %s) + (g - 1) * (make_interval(days => %s) / %s) AS at,"
            " 1 + ((g * 37) %% 101) %% 4 AS nlines, CASE WHEN g %% 10 = 0 THEN 5 ELSE 0 END AS disc,"
            " g %% 3 AS mode FROM generate_series(1, %s) AS g",
            [DAYS, DAYS, bills, bills],
        )
        db.execute(
            "CREATE TEMP TABLE bench_lines ON COMMIT DROP AS"
            " SELECT purchase_id, n, k, product_id, name, price, rate, quantity, gross, disc_pct, discount,"
            "        gross - discount AS sub, round((gross - discount) * rate / 100, 2) AS tax"
            " FROM (SELECT b.id AS purchase_id, b.n, k, p.id AS product_id, p.name, p.price, p.tax_percent AS rate,"
            "        1 + ((b.n + k * 13) %% 5) / 2 AS quantity, p.price * (1 + ((b.n + k * 13) %% 5) / 2) AS gross,"
            "        b.disc AS disc_pct, round(p.price * (1 + ((b.n + k * 13) %% 5) / 2) * b.disc / 100, 2) AS discount"
            "      FROM bench_bills b CROSS JOIN generate_series(0, 3) AS k"
            "      JOIN bench_products bp ON bp.rn = (b.n * 7 + k * 127) %% %s"
            "      JOIN catalog_product p ON p.id = bp.id"
            "      WHERE k < b.nlines) AS l",
            [PRODUCTS],
        )
        # Amounts: mode 0 cash (every 7th with 10.00 change), 1 card, 2 half card + cash. Cash rounds
        # to the rupee, half up; card is never rounded.
        db.execute(
            "CREATE TEMP TABLE bench_amounts ON COMMIT DROP AS"
            " SELECT *, card + cash AS payable, card + cash - total AS rounding, cash + change AS cash_paid FROM ("
            "   SELECT b.id, b.n, b.at, b.disc, b.mode, l.sub, l.tax, l.cgst, l.discount, l.sub + l.tax AS total,"
            "     CASE b.mode WHEN 1 THEN l.sub + l.tax WHEN 2 THEN trunc((l.sub + l.tax) / 2, 2) ELSE 0 END AS card,"
            "     CASE b.mode WHEN 1 THEN 0 WHEN 2 THEN round((l.sub + l.tax) - trunc((l.sub + l.tax) / 2, 2))"
            "       ELSE round(l.sub + l.tax) END AS cash,"
            "     CASE WHEN b.mode = 0 AND b.n % 7 = 0 THEN 10 ELSE 0 END AS change"
            "   FROM bench_bills b JOIN (SELECT purchase_id, sum(sub) AS sub, sum(tax) AS tax,"
            "     sum(round(tax / 2, 2)) AS cgst, sum(discount) AS discount"
            "     FROM bench_lines GROUP BY purchase_id) l ON l.purchase_id = b.id) AS a"
        )
        db.execute(
            "INSERT INTO purchases_purchase (id, customer_id, created_by_id, created_at, till_id, number, subtotal,"
            " tax_total, total, rounding, payable, paid_amount, change_due, cash_paid, discount_percent,"
            " discount_total, discount_reason, invoice_status, invoice_round, invoice_attempts, invoice_last_error,"
            " cgst_total, sgst_total)"
            " SELECT a.id, c.id, u.id, a.at, r.till,"
            "   'Z' || r.rn || '/2627/' || lpad(((a.n - 1) / %s + 1)::text, 6, '0'),"
            "   a.sub, a.tax, a.total, a.rounding, a.payable, a.payable + a.change, a.change, a.cash_paid, a.disc,"
            "   a.discount, CASE WHEN a.disc > 0 THEN 'regular customer' ELSE '' END, 'skipped', 0, 0, '',"
            "   a.cgst, a.tax - a.cgst"
            " FROM bench_amounts a JOIN bench_customers c ON c.rn = a.n %% %s"
            " JOIN bench_refs r ON r.rn = 1 + a.n %% %s JOIN bench_cashiers u ON u.rn = 1 + a.n %% %s",
            [TILLS, CUSTOMERS, TILLS, CASHIERS],
        )
        db.execute(
            "INSERT INTO purchases_purchaseitem (purchase_id, created_at, product_id, product_name, quantity,"
            " unit_price, tax_percent, gross, discount_percent, discount_amount, subtotal, tax_amount, total,"
            " refunded_quantity, refunded_subtotal, refunded_tax_amount, cgst, sgst)"
            " SELECT l.purchase_id, b.at, l.product_id, l.name, l.quantity, l.price, l.rate, l.gross, l.disc_pct,"
            "        l.discount, l.sub, l.tax, l.sub + l.tax, 0, 0, 0, round(l.tax / 2, 2), l.tax - round(l.tax / 2, 2)"
            " FROM bench_lines l JOIN bench_bills b ON b.id = l.purchase_id"
        )
        db.execute(
            "INSERT INTO purchases_payment (purchase_id, method_id, is_cash, amount, reference)"
            " SELECT a.id, m.id, false, a.card, '' FROM bench_amounts a"
            " JOIN purchases_paymentmethod m ON m.code = 'card'"
            " WHERE a.card > 0"
            " UNION ALL SELECT a.id, m.id, true, a.cash_paid, '' FROM bench_amounts a"
            " JOIN purchases_paymentmethod m ON m.is_cash WHERE a.cash_paid > 0"
        )
        # Refunds: one unit of the first line of every (bills / refunds)-th bill, up to 10 days later
        # (never after now), at any till; paid back to the card for card bills, else in cash.
        step = max(1, bills // refunds)
        db.execute("ANALYZE purchases_purchaseitem")
        db.execute(
            "CREATE TEMP TABLE bench_refunds ON COMMIT DROP AS"
            " SELECT nextval(pg_get_serial_sequence('purchases_refund', 'id')) AS id, a.id AS purchase_id, a.n, a.mode,"
            "   i.id AS item_id, least(a.at + make_interval(days => (a.n / %s) %% 11, hours => 2), now()) AS at,"
            "   CASE WHEN i.quantity = 1 THEN i.subtotal ELSE round(i.subtotal / i.quantity, 2) END AS sub,"
            "   CASE WHEN i.quantity = 1 THEN i.tax_amount ELSE round(i.tax_amount / i.quantity, 2) END AS tax"
            " FROM (SELECT * FROM bench_amounts WHERE n %% %s = 0 ORDER BY n LIMIT %s) a"
            " JOIN bench_lines l ON l.purchase_id = a.id AND l.k = 0"
            " JOIN purchases_purchaseitem i ON i.purchase_id = l.purchase_id AND i.product_id = l.product_id",
            [step, step, refunds],
        )
        db.execute(
            "INSERT INTO purchases_refund (id, purchase_id, till_id, session_id, created_by_id, created_at, reason,"
            " restock, subtotal, tax_total, total, rounding, amount)"
            " SELECT f.id, f.purchase_id, r.till, r.session, u.id, f.at, 'bench', true, f.sub, f.tax, f.sub + f.tax,"
            "   CASE WHEN f.mode = 1 THEN 0 ELSE round(f.sub + f.tax) - (f.sub + f.tax) END,"
            "   CASE WHEN f.mode = 1 THEN f.sub + f.tax ELSE round(f.sub + f.tax) END"
            " FROM bench_refunds f JOIN bench_refs r ON r.rn = 1 + (f.n / %s) %% %s"
            " JOIN bench_cashiers u ON u.rn = 1 + (f.n / %s) %% %s",
            [step, TILLS, step, CASHIERS],
        )
        db.execute(
            "INSERT INTO purchases_refundline (refund_id, item_id, quantity, subtotal, tax_amount, total)"
            " SELECT id, item_id, 1, sub, tax, sub + tax FROM bench_refunds"
        )
        db.execute(
            "INSERT INTO purchases_refundpayment (refund_id, method, is_cash, amount, reference)"
            " SELECT r.id, CASE WHEN f.mode = 1 THEN 'card' ELSE 'cash' END, f.mode <> 1, r.amount, ''"
            " FROM purchases_refund r JOIN bench_refunds f ON f.id = r.id WHERE r.amount > 0"
        )
        db.execute(
            "UPDATE purchases_purchaseitem i SET refunded_quantity = 1, refunded_subtotal = f.sub,"
            " refunded_tax_amount = f.tax FROM bench_refunds f WHERE f.item_id = i.id"
        )
    log(f"inserted in {time.perf_counter() - t0:.0f} s; VACUUM ANALYZE")
    for table in (
        "customers_customer",
        "purchases_purchase",
        "purchases_purchaseitem",
        "purchases_payment",
        "purchases_refund",
        "purchases_refundline",
        "purchases_refundpayment",
    ):
        db.execute(f"VACUUM (ANALYZE) {table}")
    counts = db.execute(
        "SELECT (SELECT count(*) FROM purchases_purchase), (SELECT count(*) FROM purchases_purchaseitem),"
        " (SELECT count(*) FROM purchases_payment), (SELECT count(*) FROM purchases_refund)"
    ).fetchone()
    assert counts is not None
    log(f"bills {counts[0]:,}, lines {counts[1]:,}, payments {counts[2]:,}, refunds {counts[3]:,}")


def time_reports(args) -> list[dict]:
    from django.utils import timezone

    from purchases.sales_report import sales_report

    today = timezone.localdate()
    cases = [("day", 30), ("product", 366)]
    cases += [(g, days) for days in (30, 366) for g in GROUPINGS if (g, days) not in cases]
    results = []
    for group_by, days in cases:
        runs = args.runs if (group_by, days) in TARGETS else args.record_runs
        date_from = today - timedelta(days=days - 1)
        report = sales_report(date_from=date_from, date_to=today, group_by=group_by)  # warm-up
        times, cpu = [], []
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            sales_report(date_from=date_from, date_to=today, group_by=group_by)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        target = TARGETS.get((group_by, days))
        verdict = "-" if target is None else ("OK" if p50 <= target else "MISS")
        results.append(
            {
                "group_by": group_by,
                "days": days,
                "runs": runs,
                "rows": len(report["rows"]),
                "bills": report["totals"]["bills"],
                "p50": p50,
                "p95": p95,
                "cpu": statistics.median(cpu),
                "target": target,
                "verdict": verdict,
            }
        )
        log(f"{group_by} {days} d: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    return results


def print_table(results: list[dict], args) -> None:
    print()
    print(f"sales_report() at {args.bills:,} bills / {args.refunds:,} refunds over {DAYS} days (PostgreSQL)")
    widths = {"days": 5, "runs": 6, "rows": 6, "bills": 10, "p50 ms": 10, "p95 ms": 10, "py CPU ms": 11, "target": 10}
    print(f"{'group_by':<15}" + "".join(f"{name:>{width}}" for name, width in widths.items()) + "  verdict")
    for r in results:
        target = f"<= {r['target']:.0f}" if r["target"] else ""
        print(
            f"{r['group_by']:<15}{r['days']:>5}{r['runs']:>6}{r['rows']:>6}{r['bills']:>10,}"
            f"{r['p50']:>10.0f}{r['p95']:>10.0f}{r['cpu']:>11.0f}{target:>10}  {r['verdict']}"
        )


if __name__ == "__main__":
    sys.exit(main())
