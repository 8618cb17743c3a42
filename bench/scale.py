"""A chain's scale (issue 30): ``make bench-scale``. Builds a chain in a scratch PostgreSQL
database with SQL (``scale_build.py``: 20 stores, 160 tills, 50,000 products, 5,000,000 bills over
400 days with their lines, tenders, refunds and stock ledger, receipts and stock counts), then times
every screen and endpoint of the issue's budget table and prints p50 / p95 against the budgets.

    .venv/bin/python bench/scale.py [--bills 5000000] [--products 50000] [--stores 20] [--calls 30]
        [--keep] [--reuse DBNAME] [--json FILE] [--strict]

The timings are in-process, through Django's test client with the production settings (the full
middleware stack, session or token authentication, templates and renderers; no HTTP and no
gunicorn): what is timed is the app's and the database's work for one request, without a network
or a worker pool's queueing in between, which is what the budgets are about and what tells two
commits apart. Each case: untimed calls of each of its paths (the warm cache; an invoice's original
is printed once, so those only of the first and the last), then ``--calls`` timed calls (p50, p95,
nearest rank). A case whose warm-up call is already over ``SLOW_FACTOR`` times its budget is a
FAIL whatever follows, so it is timed ``--slow-calls`` times only (the table shows the count).

``--keep`` keeps the database and prints its URL; ``--reuse DBNAME`` skips the build, migrates that
(kept) database (new indexes) and times it. It exits 0 (a bench); ``--strict`` exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
from appenv import migrated_database, production_env
from loadgen import percentile_ms
from scale_build import BIG_SESSION_BILLS, Size, build

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LOCALHOST = {"127.0.0.1", "localhost"}
SLOW_FACTOR = 4
GROUPINGS = ("day", "hour", "product", "cashier", "till", "payment_method", "tax_rate")
EMAIL_ROW = "invoice emails with the PDF, per task worker (>= 8/s): see bench/invoice_pdf_bench.py"
# The machine's speed, printed beside the table (``machine_speed``): a fixed piece of Python work and
# a fixed statement, so that two tables can be told apart by the machine as well as by the code.
SPEED_LOOP_STEPS = 10_000_000
SPEED_OBJECTS = 300_000
SPEED_SQL = "SELECT sum(i) FROM generate_series(1, 3000000) AS i"


def log(message: str) -> None:
    print(f"[bench-scale {time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bills", type=int, default=5_000_000)
    p.add_argument("--products", type=int, default=50_000)
    p.add_argument("--stores", type=int, default=20)
    p.add_argument("--days", type=int, default=400)
    p.add_argument("--chunk-days", type=int, default=7, help="days of bills per INSERT round (default 7)")
    p.add_argument("--calls", type=int, default=30, help="timed calls per case (at least 30)")
    p.add_argument("--slow-calls", type=int, default=5, help=f"timed calls of a case over {SLOW_FACTOR}x its budget")
    p.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    p.add_argument("--reuse", metavar="DBNAME", help="time this kept database; no build")
    p.add_argument("--only", metavar="TEXT", help="time only the cases whose name contains TEXT")
    p.add_argument("--json", metavar="FILE", help="write the figures to FILE")
    p.add_argument("--strict", action="store_true", help="exit 1 when a budget is missed")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    args = p.parse_args(argv)
    if urlsplit(args.pg).hostname not in LOCALHOST:
        p.error("the benchmark only targets 127.0.0.1")
    if args.calls < 30:
        p.error("--calls is at least 30")
    if args.products < 1000 or args.stores < 2 or args.bills < 10 * BIG_SESSION_BILLS:
        p.error("at least 1000 products, 2 stores and 20000 bills")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    report: dict = {"args": vars(args)}
    if args.reuse:
        parts = urlsplit(args.pg)
        url = urlunsplit((parts.scheme, parts.netloc, f"/{args.reuse}", "", ""))
        os.environ.update(production_env(url))
        log(f"database {args.reuse}: migrating (the indexes and migrations added since it was built)")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, check=True, timeout=3600)
        seal_rollups()
        results = time_all(args, url, report)
    else:
        name = f"billing_scale_{os.getpid()}"
        log(f"database {name}: migrating")
        with migrated_database(args.pg, name, keep=args.keep) as url:
            size = Size(
                bills=args.bills, products=args.products, stores=args.stores, days=args.days, chunk_days=args.chunk_days
            )
            t0 = time.perf_counter()
            with psycopg.connect(url, autocommit=True) as db, sealing_meanwhile():
                report["build_seconds"] = round(build(db, size, log), 1)
            log(f"built in {report['build_seconds'] / 60:.1f} min")
            seal_rollups()
            report["ready_seconds"] = round(time.perf_counter() - t0, 1)
            log(f"built and sealed in {report['ready_seconds'] / 60:.1f} min")
            results = time_all(args, url, report)
            if args.keep:
                log(f"kept {url} (time it again: make bench-scale BENCH_SCALE_ARGS='--reuse {name}')")
    print_table(results, report)
    report["results"] = [r.as_json() for r in results]
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str) + "\n")
    failed = [r for r in results if r.verdict == "FAIL"]
    return 1 if args.strict and failed else 0


@contextmanager
def sealing_meanwhile() -> Iterator[None]:
    """``manage.py seal_sales_rollups`` again and again while the block builds the chain, as cron keeps
    the rollups of a chain that is trading: the seal's work (about as long as the load's at 5,000,000
    bills) runs beside the load on the machine's other core, and the last seal after the build has
    only the last bills to add. A run that gives up waiting for a chunk's transaction to commit (the
    seal's lock timeout) is followed by the next; each run's exit status is counted in the log."""
    stop = threading.Event()
    runs: list[int] = []

    def seal_until_stopped() -> None:
        while not stop.is_set():
            run = subprocess.run(
                [sys.executable, "manage.py", "seal_sales_rollups"], cwd=ROOT, capture_output=True, timeout=3600
            )
            runs.append(run.returncode)
            stop.wait(2)

    thread = threading.Thread(target=seal_until_stopped, name="sealer", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        log(f"sealed {runs.count(0)} times during the build ({len(runs) - runs.count(0)} runs gave up)")


def seal_rollups() -> None:
    """The sales rollups sealed as cron keeps them (docs/reports.md), with the settings the timing
    uses: a rollup sealed under another time zone is not read."""
    log("sealing the sales rollups (manage.py seal_sales_rollups)")
    subprocess.run([sys.executable, "manage.py", "seal_sales_rollups"], cwd=ROOT, check=True, timeout=3600)


# ---- the cases ---------------------------------------------------------------------------------


@dataclass
class Case:
    group: str  # the budget table's row
    name: str
    budget_ms: float
    client: str  # "api" (a head-office token), "admin" (head office, logged in), "cashier"
    paths: list[str]  # one path, or one per call (cycled)
    expect: int = 200
    calls: int = 0
    samples: list[float] = field(default_factory=list)
    statuses: dict = field(default_factory=dict)

    @property
    def p50(self):
        return percentile_ms(sorted(self.samples), 50)

    @property
    def p95(self):
        return percentile_ms(sorted(self.samples), 95)

    @property
    def verdict(self) -> str:
        if set(self.statuses) != {self.expect}:
            return "ERROR"
        return "PASS" if (self.p95 or 0) <= self.budget_ms else "FAIL"

    def as_json(self) -> dict:
        return {
            "group": self.group,
            "name": self.name,
            "budget_ms": self.budget_ms,
            "calls": self.calls,
            "p50_ms": self.p50,
            "p95_ms": self.p95,
            "statuses": self.statuses,
            "verdict": self.verdict,
            "path": self.paths[0],
            # Each call's time in order, to tell a slow p95 of a few calls (a collection, autovacuum)
            # from a slow case.
            "samples_ms": [round(sample * 1000, 1) for sample in self.samples],
        }


FIXTURE_SQL = {
    "barcodes": "SELECT barcode FROM catalog_product WHERE barcode LIKE '890%' ORDER BY id LIMIT 40 OFFSET 1000",
    "plus": "SELECT plu FROM catalog_product WHERE plu IS NOT NULL ORDER BY id LIMIT 40 OFFSET 100",
    "skus": "SELECT sku FROM catalog_product WHERE sku LIKE 'SKU%' ORDER BY id DESC LIMIT 40",
    "phones": "SELECT phone FROM customers_customer WHERE phone LIKE '+919%' ORDER BY id LIMIT 40 OFFSET 500",
    "refunded": "SELECT p.id, p.number FROM purchases_refund r JOIN purchases_purchase p ON p.id = r.purchase_id"
    " ORDER BY r.id DESC LIMIT 40",
    "numbers": "SELECT number FROM purchases_purchase WHERE number IS NOT NULL ORDER BY id DESC LIMIT 40 OFFSET 5000",
    "tills": "SELECT id FROM cashdrawer_till ORDER BY id LIMIT 40",
    "big_session": "SELECT s.id FROM cashdrawer_tillsession s JOIN cashdrawer_till t ON t.id = s.till_id"
    " WHERE t.code = 'MAIN' AND s.status = 'open'",
    # The 12-line bills of the open sessions (till 2's), not the MAIN till's.
    "pdf_bills": "SELECT p.id FROM purchases_purchase p JOIN cashdrawer_tillsession s ON s.id = p.session_id"
    " JOIN cashdrawer_till t ON t.id = p.till_id WHERE s.status = 'open' AND t.code <> 'MAIN'"
    " AND (SELECT count(*) FROM purchases_purchaseitem i WHERE i.purchase_id = p.id) = 12 ORDER BY p.id",
}


def fixtures(db: psycopg.Connection) -> dict:
    """The rows the cases name, found in the built data (so ``--reuse`` finds them too)."""

    def one(sql: str) -> tuple:
        row = db.execute(sql).fetchone()
        assert row is not None, sql
        return row

    def column(name: str) -> list:
        return [row[0] for row in db.execute(FIXTURE_SQL[name])]

    fx: dict = {name: column(name) for name in ("barcodes", "plus", "skus", "phones", "numbers", "tills", "pdf_bills")}
    fx["refunded"] = db.execute(FIXTURE_SQL["refunded"]).fetchall()
    fx["big_session"] = one(FIXTURE_SQL["big_session"])[0]
    fx["store"], fx["store_code"] = one("SELECT id, code FROM catalog_store WHERE is_default")
    fx["vip"], fx["vip_phone"] = one("SELECT id, phone FROM customers_customer WHERE name = 'Two Thousand Bills'")
    fx["prefixes"] = ["Basm", "Toor", "Atta", "Sunf", "Ghee", "Pane", "Biscu", "Turm", "Shamp", "Onio"]
    # The 12-line bills unprinted again (after an earlier run of the bench), so each original is one.
    db.execute("DELETE FROM purchases_documentpdf WHERE purchase_id = ANY(%s)", [fx["pdf_bills"]])
    db.execute("UPDATE purchases_purchase SET invoice_printed_at = NULL WHERE id = ANY(%s)", [fx["pdf_bills"]])
    bills = one("SELECT count(*) FROM purchases_purchase")[0]
    fx["deep_page"] = max(2, bills // 50 // 2)  # the middle of the list, 50 bills a page
    fx["history_deep_page"] = 200
    fx["admin_deep_page"] = max(2, bills // 100 // 2)  # the middle of the admin's list, 100 bills a page
    return fx


def scale_label(plu: str, grams: int) -> str:
    """The label a scale prints in the default format 21PPPPPWWWWWC."""
    from stdnum import ean

    body = f"21{int(plu):05d}{grams:05d}"
    return body + ean.calc_check_digit(body)


def cases(fx: dict, today: date) -> list[Case]:
    q = urlencode
    labels = [scale_label(plu, 250 + 10 * i) for i, plu in enumerate(fx["plus"])]
    out = [
        Case(
            "lookup", "page scan: barcode", 20, "cashier", [f"/billing/scan/?{q({'code': c})}" for c in fx["barcodes"]]
        ),
        Case("lookup", "page scan: PLU label", 20, "cashier", [f"/billing/scan/?{q({'code': c})}" for c in labels]),
        Case("lookup", "page search: SKU", 20, "cashier", [f"/billing/products/?{q({'q': s})}" for s in fx["skus"]]),
        Case(
            "lookup",
            "page search: name prefix",
            20,
            "cashier",
            [f"/billing/products/?{q({'q': s})}" for s in fx["prefixes"]],
        ),
        Case(
            "lookup",
            "API lookup: barcode",
            20,
            "api",
            [f"/api/v1/products/lookup?{q({'code': c})}" for c in fx["barcodes"]],
        ),
        Case(
            "lookup", "API lookup: PLU label", 20, "api", [f"/api/v1/products/lookup?{q({'code': c})}" for c in labels]
        ),
        Case("lookup", "API lookup: SKU", 20, "api", [f"/api/v1/products/lookup?{q({'code': s})}" for s in fx["skus"]]),
        Case(
            "lookup",
            "API search: name prefix",
            20,
            "api",
            [f"/api/v1/products?{q({'search': s})}" for s in fx["prefixes"]],
        ),
        Case("billing page", "billing page, first load (cashier)", 150, "cashier", ["/billing/"]),
        Case("bills list", "API bills: first page", 50, "api", ["/api/v1/purchases"]),
        Case(
            "bills list", f"API bills: page {fx['deep_page']}", 50, "api", [f"/api/v1/purchases?page={fx['deep_page']}"]
        ),
        Case(
            "bills list",
            "API bills: ?customer_phone=",
            50,
            "api",
            [f"/api/v1/purchases?{q({'customer_phone': p})}" for p in fx["phones"]],
        ),
        Case(
            "bills list",
            "API bills: ?number=",
            50,
            "api",
            [f"/api/v1/purchases?{q({'number': n})}" for n in fx["numbers"]],
        ),
        Case("bills list", "history page: first page", 50, "admin", ["/billing/history/"]),
        Case(
            "bills list",
            f"history page: page {fx['history_deep_page']}",
            50,
            "admin",
            [f"/billing/history/?page={fx['history_deep_page']}"],
        ),
        Case(
            "bills list",
            "history page: customer",
            50,
            "admin",
            [f"/billing/history/?{q({'customer': p})}" for p in fx["phones"]],
        ),
        Case(
            "bills list",
            "history page: one day",
            50,
            "admin",
            [
                f"/billing/history/?{q({'date_from': d, 'date_to': d})}"
                for d in (today - timedelta(days=i) for i in range(1, 31))
            ],
        ),
        Case("bills list", "admin bills: every store", 50, "admin", ["/admin/purchases/purchase/"]),
        Case(
            "bills list",
            f"admin bills: page {fx['admin_deep_page']}",
            50,
            "admin",
            [f"/admin/purchases/purchase/?p={fx['admin_deep_page']}"],
        ),
        Case(
            "bills list",
            "admin bills: till",
            50,
            "admin",
            [f"/admin/purchases/purchase/?till__id__exact={t}" for t in fx["tills"]],
        ),
        Case(
            "one bill", "API bill with refunds, by id", 20, "api", [f"/api/v1/purchases/{i}" for i, _ in fx["refunded"]]
        ),
        Case(
            "one bill",
            "API bill with refunds, by number",
            20,
            "api",
            [f"/api/v1/purchases?{q({'number': n})}" for _, n in fx["refunded"]],
        ),
        Case("one bill", "bill page with refunds", 20, "admin", [f"/billing/bills/{i}/" for i, _ in fx["refunded"]]),
        Case("customer", "API customer of 2,000 bills", 50, "api", [f"/api/v1/customers/{fx['vip']}"]),
        Case("customer", "API its bills, first page", 50, "api", [f"/api/v1/customers/{fx['vip']}/purchases"]),
        Case(
            "customer",
            "history page: its bills",
            50,
            "admin",
            [f"/billing/history/?{q({'customer': fx['vip_phone']})}"],
        ),
    ]
    for days, budget in ((30, 300), (366, 1500)):
        window = {"date_from": today - timedelta(days=days - 1), "date_to": today}
        for g in GROUPINGS:
            out.append(
                Case(
                    f"report {days} d",
                    f"sales {days} d by {g}, all stores",
                    budget,
                    "api",
                    [f"/api/v1/reports/sales?{q({**window, 'group_by': g})}"],
                )
            )
            if days == 30:
                out.append(
                    Case(
                        f"report {days} d",
                        f"sales {days} d by {g}, one store",
                        budget,
                        "api",
                        [f"/api/v1/reports/sales?{q({**window, 'group_by': g, 'store': fx['store']})}"],
                    )
                )
    year = {"date_from": today - timedelta(days=365), "date_to": today}
    out.append(Case("dashboard", "sales dashboard 366 d, all stores", 2000, "admin", [f"/admin/sales/?{q(year)}"]))
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    out.append(
        Case("GSTR-1", f"GSTR-1 {month}, the chain (JSON)", 3000, "api", [f"/api/v1/reports/gstr1?period={month}"])
    )
    store = fx["store"]
    out += [
        Case("stock", "store's stock page (admin products)", 100, "admin", [f"/admin/catalog/product/?store={store}"]),
        Case(
            "stock",
            "low-stock list",
            100,
            "admin",
            [f"/admin/catalog/product/?{q({'low_stock': 'yes', 'is_active__exact': 1, 'store': store})}"],
        ),
        Case(
            "Z report",
            f"session report, {BIG_SESSION_BILLS:,} bills (API)",
            200,
            "api",
            [f"/api/v1/sessions/{fx['big_session']}/report"],
        ),
        Case(
            "Z report",
            f"session report, {BIG_SESSION_BILLS:,} bills (page)",
            200,
            "admin",
            [f"/billing/till/sessions/{fx['big_session']}/report/"],
        ),
        Case(
            "invoice PDF",
            "12-line invoice PDF, original",
            150,
            "api",
            [f"/api/v1/purchases/{i}/invoice.pdf" for i in fx["pdf_bills"]],
        ),
    ]
    # The last 12-line bill: its warm-up call prints the original, the timed calls reprint it.
    reprint = f"/api/v1/purchases/{fx['pdf_bills'][-1]}/invoice.pdf"
    out.append(Case("invoice PDF", "12-line invoice PDF, reprint", 150, "api", [reprint]))
    return out


# ---- timing ------------------------------------------------------------------------------------


def clients() -> dict:
    """A head office superuser (a token for the API, a session for the pages) and a cashier of the
    default store (the Cashier role, ``setup_roles``' way)."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from knox.models import AuthToken

    from billing_project.core.roles import CASHIER, role_assign, roles_setup
    from catalog.models import Store

    User = get_user_model()
    roles_setup()
    admin = User.objects.filter(username="scale-admin").first() or User.objects.create_superuser(
        "scale-admin", "scale-admin@example.com", secrets.token_urlsafe(20)
    )
    cashier = User.objects.filter(username="scale-cashier").first()
    if cashier is None:
        cashier = User.objects.create_user("scale-cashier", "scale-cashier@example.com", secrets.token_urlsafe(20))
        role_assign(user=cashier, role=CASHIER)
        cashier.stores.set([Store.objects.get(is_default=True)])
    _, token = AuthToken.objects.create(user=admin)
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    page = Client(HTTP_HOST="127.0.0.1")
    page.force_login(admin)
    till = Client(HTTP_HOST="127.0.0.1")
    till.force_login(cashier)
    return {"api": api, "admin": page, "cashier": till}


def time_case(case: Case, client, *, calls: int, slow_calls: int) -> None:
    from django.db import close_old_connections

    from billing_project.core import collector

    def call(path: str) -> float:
        t0 = time.perf_counter()
        response = client.get(path)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        elapsed = time.perf_counter() - t0
        case.statuses[response.status_code] = case.statuses.get(response.status_code, 0) + 1
        close_old_connections()
        # What a gunicorn worker does once the response is sent (gunicorn.conf.py, post_request).
        collector.request_done()
        return elapsed

    paths = case.paths
    originals = case.name.endswith("original")
    # The warm-up, untimed: the first path twice (the first request of a view also loads its code),
    # then each other path the timed calls ask for once, so each is timed from a warm cache (a case
    # of 40 tills would otherwise time 30 first reads of a till's rows). Each original is printed
    # once only: the warm-up prints the first and the last.
    call(paths[0])
    warm = call(paths[-1])
    if not originals:
        for path in paths[1 : min(calls, len(paths))]:
            call(path)
    case.statuses.clear()
    if originals:
        paths = paths[1:-1]
        calls = min(calls, len(paths))
    if warm * 1000 > SLOW_FACTOR * case.budget_ms:
        calls = min(calls, slow_calls)
    case.calls = calls
    for i in range(calls):
        case.samples.append(call(paths[i % len(paths)]))


def machine_speed(url: str) -> dict:
    """How fast this machine is now, in ms, the best of three runs of each: a Python loop of
    ``SPEED_LOOP_STEPS`` additions (the processor alone); ``SPEED_OBJECTS`` small dicts made, sorted
    and a sixth of them written as JSON (the processor and the memory, as a request's objects are);
    ``SPEED_SQL`` on the database's server; and the load average. The same code runs two to three
    times slower on a slow or shared machine than on a quiet one, and every budget is in
    milliseconds, so a table means little without these. A machine can be slow at the objects and
    not at the loop (its memory, not its processor); bench/README.md says what is known of which one
    the pages follow."""

    def best(work) -> float:
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            work()
            runs.append((time.perf_counter() - t0) * 1000)
        return round(min(runs), 1)

    def loop() -> None:
        total = 0
        for i in range(SPEED_LOOP_STEPS):
            total += i

    def objects() -> None:
        rng = random.Random(SPEED_OBJECTS)
        rows = [{"id": i, "name": f"product {rng.randrange(10**6)}"} for i in range(SPEED_OBJECTS)]
        rows.sort(key=lambda row: (row["name"], row["id"]))
        json.dumps(rows[: SPEED_OBJECTS // 6])

    with psycopg.connect(url, autocommit=True) as db:
        sql_ms = best(lambda: db.execute(SPEED_SQL).fetchone())
    return {
        "python_loop_ms": best(loop),
        "python_objects_ms": best(objects),
        "sql_ms": sql_ms,
        "load_average": round(os.getloadavg()[0], 2),
    }


def speed_line(when: str, speed: dict) -> str:
    return (
        f"machine {when}: Python loop {speed['python_loop_ms']:,.0f} ms,"
        f" objects {speed['python_objects_ms']:,.0f} ms, SQL {speed['sql_ms']:,.0f} ms"
        f" (bench/README.md: the machine's speed), load average {speed['load_average']}"
    )


def time_all(args, url: str, report: dict) -> list[Case]:
    import django

    # The pages' static files as a deployment has them (the manifest storage needs collectstatic).
    os.environ["STATIC_ROOT"] = tempfile.mkdtemp(prefix="scale-static-")
    # The PDF's time is measured, not the per-user throttle (20 a minute) that would answer 429.
    os.environ["PDF_THROTTLE_RATE"] = "100000/min"
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from billing_project.core import collector

    call_command("collectstatic", interactive=False, verbosity=0)
    # What a gunicorn worker does once it has loaded the app (gunicorn.conf.py, post_worker_init).
    collector.worker_started()

    with psycopg.connect(url, autocommit=True) as db:
        fx = fixtures(db)
    all_cases = cases(fx, timezone.localdate())
    if args.only:
        all_cases = [c for c in all_cases if args.only in c.name or args.only in c.group]
    by_client = clients()
    report["machine_before"] = machine_speed(url)
    log(speed_line("before", report["machine_before"]))
    log(f"timing {len(all_cases)} cases, {args.calls} calls each")
    for case in all_cases:
        time_case(case, by_client[case.client], calls=args.calls, slow_calls=args.slow_calls)
        log(f"{case.name}: p50 {case.p50} ms, p95 {case.p95} ms ({case.calls} calls) {case.verdict}")
    report["machine_after"] = machine_speed(url)
    log(speed_line("after", report["machine_after"]))
    report["fixtures"] = {k: v for k, v in fx.items() if not isinstance(v, list)}
    return all_cases


def print_table(results: list[Case], report: dict) -> None:
    width = max((len(r.name) for r in results), default=10) + 2
    print()
    print(f"{'what':<{width}}{'p50 ms':>9}{'p95 ms':>9}{'budget':>9}{'calls':>7}  verdict")
    group = None
    for r in results:
        if r.group != group:
            group = r.group
            print(f"-- {group}")
        note = "" if r.verdict != "ERROR" else f" (statuses {r.statuses})"
        print(
            f"{r.name:<{width}}{r.p50 or 0:>9.1f}{r.p95 or 0:>9.1f}{r.budget_ms:>9.0f}{r.calls:>7}  {r.verdict}{note}"
        )
    print(f"-- {EMAIL_ROW}")
    passed = sum(r.verdict == "PASS" for r in results)
    print(f"{passed} of {len(results)} cases within budget (p95)")
    for when in ("before", "after"):
        print(speed_line(when, report[f"machine_{when}"]))


if __name__ == "__main__":
    sys.exit(main())
