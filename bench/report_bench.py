"""The sales report at a million bills (issue 14): ``make bench-reports``.

A fresh PostgreSQL database (migrated), then with SQL: 1,000,000 bills (1-4 lines of ~500 products,
tax rates 0/5/12/18, every tenth bill discounted 5 %, cash / card / card + cash split tenders, some
cash with change, 4 tills, 6 cashiers) spread evenly over the 400 days up to now, and 50,000 partial
refunds made up to 10 days after their bill at any till of its store. VACUUM ANALYZE, then
``sales_report()`` is timed in-process with the production settings: p50 / p95 of ``--runs`` calls per
case, after one warm-up call. The targets: a 30-day report by day p50 <= 300 ms, a 366-day report by
product p50 <= 1.5 s. The other groupings are timed for the record with ``--record-runs`` calls.

A chain (issue 30): ``--stores 20 --tills 160 --bills 5000000 --refunds 250000``: the tills are dealt
round the stores, and each bill is its till's store's. ``--rollup`` (default ``both``): ``raw`` times
the reports from the raw rows only, ``sealed`` builds the rollups first (``sales_rollup_seal``, timed)
and times the reports that read them, ``both`` does one and then the other; every case is run for
all stores and, with ``--stores`` > 1, for one store. ``--reuse URL`` times a database an earlier
``--keep`` left, without filling it again.

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
from typing import Any
from urllib.parse import urlsplit

import psycopg
from appenv import migrated_database, production_env

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
    p.add_argument("--stores", type=int, default=1, help="stores the tills are dealt round (default 1)")
    p.add_argument("--tills", type=int, default=TILLS, help=f"tills (default {TILLS})")
    p.add_argument("--rollup", choices=("raw", "sealed", "both"), default="both")
    p.add_argument("--reuse", help="time this database (an earlier --keep's URL) without filling it")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    args = p.parse_args()
    if args.tills % args.stores:
        p.error("--tills must be a multiple of --stores")
    parts = urlsplit(args.pg)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        p.error("only 127.0.0.1")
    if args.reuse:
        os.environ.update(production_env(args.reuse))
        import django

        django.setup()
        return run_timings(args)
    name = f"billing_bench_{os.getpid()}"
    log(f"database {name}: migrating")
    with migrated_database(args.pg, name, keep=args.keep) as url:
        import django

        django.setup()
        with psycopg.connect(url, autocommit=True) as db:
            fill(db, bills=args.bills, refunds=args.refunds, stores=args.stores, tills=args.tills)
        code = run_timings(args)
        if args.keep:
            log(f"keeping {url}")
        return code


def run_timings(args) -> int:
    """Time the reports raw, sealed, or both (``--rollup``), and print each table."""
    from purchases import sales_report as report_module
    from purchases.sales_rollups import sales_rollup_seal

    read_rollup = report_module.read_rollup
    ok = True
    answers: dict[tuple, dict] = {}
    same = True
    for mode in ("raw", "sealed") if args.rollup == "both" else (args.rollup,):
        if mode == "raw":
            # No rollup, as before it: the report's limits in a statement of their own, as then.
            report_module.read_rollup = lambda alias, *a: report_module.bound_report(alias)
        else:
            report_module.read_rollup = read_rollup
            t0 = time.perf_counter()
            seal = sales_rollup_seal()
            log(f"sealed through bill {seal.bills_through:,} in {time.perf_counter() - t0:.1f} s")
        results = time_reports(args)
        print_table(results, args, mode)
        ok = ok and all(r["verdict"] != "MISS" for r in results)
        for r in results:
            key = (r["group_by"], r["days"], r["store"])
            if key in answers and answers[key] != r["answer"]:
                log(f"MISMATCH: {key} answers differently raw and sealed")
                ok = same = False
            answers[key] = r["answer"]
    if args.rollup == "both" and same:
        log(f"every report answered the same raw and sealed ({len(answers)} cases)")
    return 0 if ok else 1


def seed_objects(*, stores: int, tills: int) -> dict:
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
    from catalog.store_services import store_create

    store_ids = [default_store_id()]
    store_ids += [store_create(code=f"S{n:02d}", name=f"Store {n}").pk for n in range(2, stores + 1)]
    StoreStock.objects.bulk_create(
        StoreStock(store_id=store, product=p, stock=1_000_000) for store in store_ids for p in products
    )
    made = [
        till_create(code=f"T{n}", name=f"Counter {n}", store=store_ids[(n - 1) % stores]) for n in range(1, tills + 1)
    ]
    sessions = [session_open(till_id=till.pk, counted=[]) for till in made]
    User = get_user_model()
    cashiers = [User.objects.create_user(username=f"cashier{n}", password=None) for n in range(CASHIERS)]
    return {
        "tills": [t.pk for t in made],
        "stores": [t.store_id for t in made],
        "sessions": [s.pk for s in sessions],
        "cashiers": [u.pk for u in cashiers],
    }


def fill(db: psycopg.Connection, *, bills: int, refunds: int, stores: int = 1, tills: int = TILLS) -> None:
    objects = seed_objects(stores=stores, tills=tills)
    t0 = time.perf_counter()
    log(f"inserting {bills:,} bills and {refunds:,} refunds")
    with db.transaction():
        db.execute(
            "CREATE TEMP TABLE bench_products ON COMMIT DROP AS"
            " SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS rn FROM catalog_product"
        )
        db.execute(
            "CREATE TEMP TABLE bench_refs ON COMMIT DROP AS"
            " SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) WITH ORDINALITY"
            " AS t (till, session, store, rn)",
            [objects["tills"], objects["sessions"], objects["stores"]],
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
            " cgst_total, sgst_total, store_id)"
            " SELECT a.id, c.id, u.id, a.at, r.till,"
            "   'Z' || r.rn || '/2627/' || lpad(((a.n - 1) / %s + 1)::text, 6, '0'),"
            "   a.sub, a.tax, a.total, a.rounding, a.payable, a.payable + a.change, a.change, a.cash_paid, a.disc,"
            "   a.discount, CASE WHEN a.disc > 0 THEN 'regular customer' ELSE '' END, 'skipped', 0, 0, '',"
            "   a.cgst, a.tax - a.cgst, r.store"
            " FROM bench_amounts a JOIN bench_customers c ON c.rn = a.n %% %s"
            " JOIN bench_refs r ON r.rn = 1 + a.n %% %s JOIN bench_cashiers u ON u.rn = 1 + a.n %% %s",
            [tills, CUSTOMERS, tills, CASHIERS],
        )
        db.execute(
            "INSERT INTO purchases_purchaseitem (purchase_id, created_at, product_id, product_name, quantity,"
            " unit_price, tax_percent, gross, discount_percent, discount_amount, subtotal, tax_amount, total,"
            " refunded_quantity, refunded_subtotal, refunded_tax_amount, cgst, sgst, store_id)"
            " SELECT l.purchase_id, b.at, l.product_id, l.name, l.quantity, l.price, l.rate, l.gross, l.disc_pct,"
            "        l.discount, l.sub, l.tax, l.sub + l.tax, 0, 0, 0, round(l.tax / 2, 2),"
            "        l.tax - round(l.tax / 2, 2), p.store_id"
            " FROM bench_lines l JOIN bench_bills b ON b.id = l.purchase_id"
            " JOIN purchases_purchase p ON p.id = l.purchase_id"
        )
        db.execute(
            "INSERT INTO purchases_payment (purchase_id, method_id, is_cash, amount, reference, store_id)"
            " SELECT a.id, m.id, false, a.card, '', p.store_id FROM bench_amounts a"
            " JOIN purchases_purchase p ON p.id = a.id JOIN purchases_paymentmethod m ON m.code = 'card'"
            " WHERE a.card > 0"
            " UNION ALL SELECT a.id, m.id, true, a.cash_paid, '', p.store_id FROM bench_amounts a"
            " JOIN purchases_purchase p ON p.id = a.id JOIN purchases_paymentmethod m ON m.is_cash"
            " WHERE a.cash_paid > 0"
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
            " restock, subtotal, tax_total, total, rounding, amount, store_id)"
            " SELECT f.id, f.purchase_id, r.till, r.session, u.id, f.at, 'bench', true, f.sub, f.tax, f.sub + f.tax,"
            "   CASE WHEN f.mode = 1 THEN 0 ELSE round(f.sub + f.tax) - (f.sub + f.tax) END,"
            "   CASE WHEN f.mode = 1 THEN f.sub + f.tax ELSE round(f.sub + f.tax) END, r.store"
            # A till of the bill's store: the tills are dealt round the stores, so those of the bill's
            # till's store are every --stores-th from it.
            " FROM bench_refunds f JOIN bench_refs r"
            "   ON r.rn = 1 + (f.n %% %s + %s * ((f.n / %s) %% (%s / %s))) %% %s"
            " JOIN bench_cashiers u ON u.rn = 1 + (f.n / %s) %% %s",
            [tills, stores, step, tills, stores, tills, step, CASHIERS],
        )
        db.execute(
            "INSERT INTO purchases_refundline (refund_id, item_id, quantity, subtotal, tax_amount, total, store_id)"
            " SELECT f.id, f.item_id, 1, f.sub, f.tax, f.sub + f.tax, r.store_id FROM bench_refunds f"
            " JOIN purchases_refund r ON r.id = f.id"
        )
        db.execute(
            "INSERT INTO purchases_refundpayment (refund_id, method, is_cash, amount, reference, store_id)"
            " SELECT r.id, CASE WHEN f.mode = 1 THEN 'card' ELSE 'cash' END, f.mode <> 1, r.amount, '', r.store_id"
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


# Issue 30's budgets, p95 in ms: a report of 30 or 366 days, any grouping, one store or all; the
# admin's Sales page (its five reports) over 366 days of every store.
BUDGETS = {30: 300.0, 366: 1500.0}
DASHBOARD_BUDGET = 2000.0


def _percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def time_reports(args) -> list[dict]:
    from django.utils import timezone

    from catalog.models import Store
    from purchases.sales_dashboard import _blocks
    from purchases.sales_report import sales_report

    today = timezone.localdate()
    cases = [("day", 30), ("product", 366)]
    cases += [(g, days) for days in (30, 366) for g in GROUPINGS if (g, days) not in cases]
    stores: list[int | None] = [None]
    if args.stores > 1:
        stores.append(Store.objects.exclude(is_default=True).order_by("pk").values_list("pk", flat=True).first())
    results = []
    for store in stores:
        for group_by, days in cases:
            runs = args.runs if (group_by, days) in TARGETS else args.record_runs
            date_from = today - timedelta(days=days - 1)
            kwargs: dict[str, Any] = {"date_from": date_from, "date_to": today, "group_by": group_by, "store": store}
            report = sales_report(**kwargs)  # warm-up
            times, cpu = [], []
            for _ in range(runs):
                t0, c0 = time.perf_counter(), time.process_time()
                sales_report(**kwargs)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            p50, p95 = _percentiles(times)
            target = BUDGETS[days]
            results.append(
                {
                    "group_by": group_by,
                    "days": days,
                    "store": "all" if store is None else str(store),
                    "runs": runs,
                    "rows": len(report["rows"]),
                    "bills": report["totals"]["bills"],
                    "p50": p50,
                    "p95": p95,
                    "cpu": statistics.median(cpu),
                    "target": target,
                    "verdict": "OK" if p95 <= target else "MISS",
                    "answer": report,
                }
            )
            log(f"{group_by} {days} d, store {store or 'all'}: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    params = {"date_from": today - timedelta(days=365), "date_to": today, "till": None}
    _blocks(params)  # warm-up
    times, cpu = [], []
    for _ in range(args.record_runs):
        t0, c0 = time.perf_counter(), time.process_time()
        _blocks(params)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    p50, p95 = _percentiles(times)
    results.append(
        {
            "group_by": "Sales page",
            "days": 366,
            "store": "all",
            "runs": args.record_runs,
            "rows": 0,
            "bills": 0,
            "p50": p50,
            "p95": p95,
            "cpu": statistics.median(cpu),
            "target": DASHBOARD_BUDGET,
            "verdict": "OK" if p95 <= DASHBOARD_BUDGET else "MISS",
            "answer": None,
        }
    )
    log(f"Sales page 366 d: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    return results


def print_table(results: list[dict], args, mode: str = "raw") -> None:
    print()
    print(
        f"sales_report() at {args.bills:,} bills / {args.refunds:,} refunds over {DAYS} days, {args.stores} store(s),"
        f" {mode} (PostgreSQL)"
    )
    widths = {
        "days": 5,
        "store": 6,
        "runs": 6,
        "rows": 6,
        "bills": 11,
        "p50 ms": 10,
        "p95 ms": 10,
        "py CPU ms": 11,
        "p95 budget": 12,
    }
    print(f"{'group_by':<15}" + "".join(f"{name:>{width}}" for name, width in widths.items()) + "  verdict")
    for r in results:
        target = f"<= {r['target']:.0f}" if r["target"] else ""
        print(
            f"{r['group_by']:<15}{r['days']:>5}{r['store']:>6}{r['runs']:>6}{r['rows']:>6}{r['bills']:>11,}"
            f"{r['p50']:>10.0f}{r['p95']:>10.0f}{r['cpu']:>11.0f}{target:>12}  {r['verdict']}"
        )


if __name__ == "__main__":
    sys.exit(main())
