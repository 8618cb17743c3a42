"""The load benchmark (``make bench``). See bench/README.md.

One run: a fresh PostgreSQL database, the app under gunicorn, data seeded over the API, bills
rung up from C concurrent clients for T seconds per scenario, audits over the API and the
database, the bill list timed at 100,000 bills, and pgbench's raw limit for one bill's SQL.
Everything is bounded in time, only 127.0.0.1 is targeted, and gunicorn and the databases are
always cleaned up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import loadgen
import procfs
import psycopg
from appenv import production_env
from audit import Check, run_audits, stock_audit_check
from listbench import fill_bills, time_list, time_sql
from loadgen import Api, Print, ProductInfo, Reprinter, RunStats, bill_result, paid_in_notes, percentile_ms, run_load

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
LOCALHOST = {"127.0.0.1", "localhost"}
DENOMINATIONS = ["2000", "500", "200", "100", "50", "20", "10", "5", "2", "1"]
DRAWER_FLOAT = 50_000  # under the drawer cap (MAX_COUNT, 100,000), with room for the notes bills bring in
SPREAD_PRODUCTS = 50
SPREAD_STOCK = 10_000_000
HOT_PRODUCTS = 3
HOT_STOCK = 200
WEIGHED_PRODUCTS = 6
WEIGHED_STOCK = 1_000_000  # kg
TAX_RATES = ["0", "5", "12", "18"]

# Targets on the 2-core machine (issue 16, which tightened those of the first wave).
TARGET_SPREAD_C = 8
TARGET_SPREAD_P99_MS = 150
TARGET_PGBENCH_RATIO = 0.25
TARGET_APP_MS_PER_BILL = 5.0
TARGET_HOT_C = 32
TARGET_HOT_P99_MS = 300
TARGET_LIST_BILLS = 100_000
TARGET_LIST_P50_MS = 50
# Tills: the same load at C = 32 on one till, then spread over 8 tills (every bill names one in turn).
TILLS = 8
TILLS_C = 32
# Reprints (--pdf-reprints): the spread load at C = 8 with and without clients reprinting a long
# invoice; the bills' p99 with them may be at most this much above the p99 without.
PDF_C = TARGET_SPREAD_C
PDF_MAX_P99_RISE = 0.20
PDF_MAX_CLIENTS = 8


TILL_USER = "bench-till"
TILL_USER_SCRIPT = f"""
import os
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
user = get_user_model().objects.create_user("{TILL_USER}", password=os.environ["BENCH_TILL_PASSWORD"])
user.user_permissions.add(Permission.objects.get(content_type__app_label="purchases", codename="add_refund"))
"""


# Users for the reprint clients, one per client and run (so each run starts with fresh throttle
# budgets), with the Cashier role, and an API token each, printed for the benchmark to read.
PRINT_USERS_SCRIPT = """
import json, os
from django.contrib.auth import get_user_model
from billing_project.core.roles import CASHIER, role_assign
from billing_project.core.tokens import api_token_issue
tokens = []
for name in os.environ["BENCH_PRINT_USERS"].split(","):
    user = get_user_model().objects.create_user(name, password=os.environ["BENCH_TILL_PASSWORD"])
    role_assign(user=user, role=CASHIER)
    tokens.append(api_token_issue(user=user)[1])
print("PRINT_TOKENS " + json.dumps(tokens))
"""


class BenchTimeout(Exception):
    pass


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=20.0, help="seconds per scenario x C (default 20)")
    p.add_argument("--clients", default="1,8,32", help="comma-separated client counts (default 1,8,32)")
    p.add_argument(
        "--scenarios",
        default="spread,hot,tills,mixed",
        help="spread, hot, tills (1 till vs 8 tills at C=32), mixed (bills with 1 refund per 10 bills),"
        " weighed (loose goods weighed to the gram beside packed ones, some bills walk-in),"
        " comma-separated (default the first four)",
    )
    p.add_argument(
        "--walk-in-share",
        type=float,
        default=0.3,
        help="the weighed scenario's share of walk-in bills, with no customer, 0 to 1 (default 0.3)",
    )
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--worker-class", default="sync", help="gunicorn worker class (default sync)")
    p.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (default 1)")
    p.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="admin URL of the PostgreSQL server, on 127.0.0.1 (env BENCH_PG_URL)",
    )
    p.add_argument("--list-bills", type=int, default=TARGET_LIST_BILLS, help="bills in the DB for the list timing")
    p.add_argument("--list-requests", type=int, default=50, help="sequential GETs timed (default 50)")
    p.add_argument("--pgbench-duration", type=float, default=10.0, help="seconds per pgbench run (default 10)")
    p.add_argument(
        "--fault-kill-worker",
        action="store_true",
        help="also run the fault check: SIGKILL a gunicorn worker mid-bill under load, then audit",
    )
    p.add_argument("--fault-duration", type=float, default=15.0, help="seconds of load in the fault check")
    p.add_argument("--fault-kills", type=int, default=2, help="workers killed in the fault check (default 2)")
    p.add_argument("--quick", action="store_true", help="a short smoke run: 3 s per run, small list, short pgbench")
    p.add_argument("--keep", action="store_true", help="keep the databases (and print their names)")
    p.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed, not only an audit")
    p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds")
    p.add_argument("--seed", type=int, default=6)
    p.add_argument(
        "--idempotency-keys",
        action="store_true",
        help="every bill carries an Idempotency-Key of its own (the billing page and a careful till send one)",
    )
    p.add_argument(
        "--pdf-reprints",
        type=int,
        default=0,
        metavar="N",
        help=f"also run spread C={PDF_C} with N clients (each its own cashier) reprinting a long invoice at the"
        f" same moments, against the same load without them, A-B-B-A (0: skip; at most {PDF_MAX_CLIENTS})",
    )
    p.add_argument("--pdf-lines", type=int, default=200, help="lines of the reprinted invoice (default 200)")
    p.add_argument(
        "--pdf-pause",
        type=float,
        default=1.0,
        help="seconds each reprint client waits after an answer (default 1; 0: back to back, as far as the"
        " throttle lets it)",
    )
    p.add_argument(
        "--pdf-throttle-rate",
        help="PDF_THROTTLE_RATE for the app (default: the app's own, 20/min per user); e.g. 10000/min to"
        " measure reprints that no throttle holds back",
    )
    p.add_argument(
        "--no-metrics",
        action="store_true",
        help="run the app with METRICS_ENABLED=False (the baseline for the metrics' cost)",
    )
    p.add_argument(
        "--without-report-indexes",
        action="store_true",
        help="the bills' indexes as before the sales reports (a plain created_at index, none on the lines'"
        " created_at): the baseline of what the report indexes cost a bill",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 3.0)
        args.list_bills = min(args.list_bills, 10_000)
        args.list_requests = min(args.list_requests, 10)
        args.pgbench_duration = min(args.pgbench_duration, 2.0)
        args.fault_duration = min(args.fault_duration, 6.0)
    if not 0 <= args.walk_in_share <= 1:
        p.error("--walk-in-share must be between 0 and 1")
    loadgen.WALK_IN_SHARE = args.walk_in_share
    args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in args.scenarios:
        if s not in ("spread", "hot", "tills", "mixed", "weighed"):
            p.error(f"unknown scenario {s!r}")
    if not args.clients or min(args.clients) < 1 or max(args.clients) > 64:
        p.error("--clients must be between 1 and 64")
    if not 0 <= args.pdf_reprints <= PDF_MAX_CLIENTS:
        p.error(f"--pdf-reprints must be between 0 and {PDF_MAX_CLIENTS}")
    if args.pdf_lines < 1 or args.pdf_pause < 0:
        p.error("--pdf-lines must be at least 1 and --pdf-pause 0 or more")
    if urlsplit(args.pg).hostname not in LOCALHOST:
        p.error("the benchmark only targets 127.0.0.1")
    return args


# --- plumbing ------------------------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def db_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


# Printed by `manage.py shell`: for every NOT NULL column that the ORM fills from a model default
# (and the database does not), that default as an SQL literal. The SQL that writes rows behind the
# ORM's back (the pgbench script, the synthetic bills) gets them as column defaults, so it keeps
# working when a model grows a field.
MODEL_DEFAULTS_CODE = """
import datetime, decimal, json
from django.apps import apps
from django.db.models import NOT_PROVIDED
out = {}
for model in apps.get_models():
    cols = {}
    for f in model._meta.local_concrete_fields:
        if f.primary_key or f.null or getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            cols[f.column] = "now()"
            continue
        if not f.has_default():
            continue
        v = f.get_default()
        if isinstance(v, bool):
            cols[f.column] = "true" if v else "false"
        elif isinstance(v, (int, decimal.Decimal)):
            cols[f.column] = str(v)
        elif isinstance(v, str):
            cols[f.column] = "'" + v.replace("'", "''") + "'"
        elif isinstance(v, datetime.datetime):
            cols[f.column] = "now()"
    if cols:
        out[model._meta.db_table] = cols
print("MODEL_DEFAULTS " + json.dumps(out))
"""


def model_defaults(env: dict) -> dict[str, dict[str, str]]:
    out = manage(env, "shell", "-c", MODEL_DEFAULTS_CODE).stdout
    line = next(line for line in out.splitlines() if line.startswith("MODEL_DEFAULTS "))
    return json.loads(line.split(" ", 1)[1])


def set_column_defaults(db: psycopg.Connection, defaults: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    """Give the database columns the ORM's model defaults, where they have none of their own;
    returns the columns set, for ``drop_column_defaults``."""
    done = []
    for table, cols in defaults.items():
        for column, literal in cols.items():
            row = db.execute(
                "SELECT column_default IS NOT NULL FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = %s AND column_name = %s",
                [table, column],
            ).fetchone()
            if row is None or row[0]:
                continue
            db.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DEFAULT {literal}')
            done.append((table, column))
    return done


def drop_column_defaults(db: psycopg.Connection, columns: list[tuple[str, str]]) -> None:
    for table, column in columns:
        db.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP DEFAULT')


def drawer_audit_cmd() -> list[str] | None:
    if list(ROOT.glob("*/management/commands/drawer_audit.py")):
        return [sys.executable, "manage.py", "drawer_audit"]
    return None


class Gunicorn:
    def __init__(self, env: dict, *, workers: int, worker_class: str, threads: int, logdir: Path):
        self.port = free_port()
        self.log_path = logdir / "gunicorn.log"
        self.log_file = self.log_path.open("wb")
        cmd = [
            sys.executable, "-m", "gunicorn", "billing_project.wsgi",
            "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
            "--worker-class", worker_class, "--threads", str(threads),
            "--timeout", "30", "--graceful-timeout", "5",
            # No recycling (production's max_requests): a worker that exits mid-run takes its CPU
            # counters with it, and the CPU per bill would come out short.
            "--max-requests", "0",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, _ = Api(self.port, timeout=2).request("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}")

    def workers(self) -> list[int]:
        return procfs.worker_pids(self.proc.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: the master and its workers
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)
        self.log_file.close()


# --- phases --------------------------------------------------------------------------------------


def seed(api: Api, rng: random.Random):
    spread, initial_stock = [], {}
    for n in range(SPREAD_PRODUCTS):
        price = Decimal(rng.randint(5, 1500)) + rng.choice([Decimal(0), Decimal("0.50")])
        status, body = api.request(
            "POST",
            "/api/v1/products",
            {"name": f"Bench item {n:02d}", "sku": f"BENCH-{n:02d}", "price": f"{price:.2f}",
             "tax_percent": rng.choice(TAX_RATES), "stock": SPREAD_STOCK},
        )  # fmt: skip
        if status != 201:
            raise RuntimeError(f"seeding a product failed: {status} {body}")
        spread.append(ProductInfo(body["id"], Decimal(body["price"]), Decimal(body["tax_percent"])))
        initial_stock[body["id"]] = body["stock"]
    drawer = {}  # (till id, value) -> count
    for value in DENOMINATIONS:
        status, body = api.request("POST", "/api/v1/denominations", {"value": value, "available_count": DRAWER_FLOAT})
        if status != 201:
            raise RuntimeError(f"seeding the drawer failed: {status} {body}")
        drawer[(main_till_id(api), f"{Decimal(body['value']):.2f}")] = body["available_count"]
    return spread, initial_stock, drawer


def main_till_id(api: Api) -> int:
    status, body = api.request("GET", "/api/v1/tills?page_size=100")
    if status != 200:
        raise RuntimeError(f"listing the tills failed: {status} {body}")
    return next(t["id"] for t in body["results"] if t["code"] == "MAIN")


def seed_tills(api: Api, initial_drawer: dict, count: int = TILLS) -> list[int]:
    """Tills T1..Tn (8 by default), each with its own drawer of the same float; adds them to ``initial_drawer``."""
    ids = []
    for n in range(1, count + 1):
        status, body = api.request("POST", "/api/v1/tills", {"code": f"T{n}", "name": f"Bench till {n}"})
        if status != 201:
            raise RuntimeError(f"creating a till failed: {status} {body}")
        ids.append(body["id"])
        for value in DENOMINATIONS:
            st, den = api.request(
                "POST", f"/api/v1/tills/{body['id']}/denominations", {"value": value, "available_count": DRAWER_FLOAT}
            )
            if st != 201:
                raise RuntimeError(f"seeding till T{n}'s drawer failed: {st} {den}")
            initial_drawer[(body["id"], f"{Decimal(den['value']):.2f}")] = den["available_count"]
    return ids


def make_hot(api: Api, rng: random.Random, label: str, initial_stock: dict) -> list[ProductInfo]:
    hot = []
    for n in range(HOT_PRODUCTS):
        price = Decimal(rng.randint(20, 400))
        status, body = api.request(
            "POST",
            "/api/v1/products",
            {"name": f"Hot {label} {n}", "price": f"{price:.2f}", "tax_percent": rng.choice(TAX_RATES),
             "stock": HOT_STOCK},
        )  # fmt: skip
        if status != 201:
            raise RuntimeError(f"creating a hot product failed: {status} {body}")
        hot.append(ProductInfo(body["id"], Decimal(body["price"]), Decimal(body["tax_percent"])))
        initial_stock[body["id"]] = body["stock"]
    return hot


def make_weighed(api: Api, rng: random.Random, label: str, initial_stock: dict) -> list[ProductInfo]:
    """Loose goods sold by the kilogram, with stock enough for any run (to the gram)."""
    weighed = []
    for n in range(WEIGHED_PRODUCTS):
        price = Decimal(rng.randint(30, 900)) + rng.choice([Decimal(0), Decimal("0.50")])
        status, body = api.request(
            "POST",
            "/api/v1/products",
            {"name": f"Loose {label} {n}", "unit": "kg", "price": f"{price:.2f}",
             "tax_percent": rng.choice(TAX_RATES), "stock": f"{WEIGHED_STOCK}.000"},
        )  # fmt: skip
        if status != 201:
            raise RuntimeError(f"creating a weighed product failed: {status} {body}")
        weighed.append(ProductInfo(body["id"], Decimal(body["price"]), Decimal(body["tax_percent"])))
        initial_stock[body["id"]] = Decimal(body["stock"])
    return weighed


def seed_pgbench_db(url: str, spread: list[ProductInfo], defaults: dict) -> None:
    with psycopg.connect(url, autocommit=True) as db:
        set_column_defaults(db, defaults)
        for n, p in enumerate(spread, start=1):
            db.execute(
                "INSERT INTO catalog_product (id, sku, name, price, tax_percent, is_active, created_at,"
                " updated_at) VALUES (%s, %s, %s, %s, %s, true, now(), now())",
                [n, f"PGB-{n:02d}", f"pgbench item {n:02d}", p.price, p.tax_percent],
            )
            # Its stock at the default store, where the pgbench till stands.
            db.execute(
                "INSERT INTO catalog_storestock (store_id, product_id, stock, updated_at)"
                " SELECT id, %s, %s, now() FROM catalog_store WHERE is_default",
                [n, 1_000_000_000],
            )
        db.execute("DELETE FROM cashdrawer_till")  # the migration's MAIN; this copy has nothing else yet
        db.execute("INSERT INTO cashdrawer_till (id, code, name) VALUES (1, 'PGB', 'pgbench till')")
        db.execute(
            "INSERT INTO cashdrawer_tillsession (id, till_id, status, opened_at, opening_counted, opening_variance,"
            " auto_opened, note, store_id) SELECT 1, 1, 'open', now(), '[]', 0, true, '', store_id"
            " FROM cashdrawer_till WHERE id = 1"
        )
        for value in DENOMINATIONS:
            # pgbench's bills bring in 500-notes and never give them out: they start at none (and are
            # emptied again before each pgbench run), so a run stays under the drawer's cap (a CHECK).
            count = 0 if value == "500" else DRAWER_FLOAT
            db.execute("INSERT INTO cashdrawer_denomination (till_id, value, count) VALUES (1, %s, %s)", [value, count])


def run_pgbench(url: str, clients: int, duration: float) -> dict:
    parts = urlsplit(url)
    cmd = [
        shutil.which("pgbench") or "pgbench", "-n", "-M", "simple",
        "-h", parts.hostname or "localhost", "-p", str(parts.port or 5432), "-U", parts.username or "postgres",
        "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)), "-T", str(max(1, round(duration))),
        "-f", str(BENCH / "pgbench_bill.sql"), parts.path.lstrip("/"),
    ]  # fmt: skip
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, env=env)
    out = proc.stdout + proc.stderr
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    lat = re.search(r"latency average = ([\d.]+) ms", out)
    if proc.returncode != 0 or not tps:
        raise RuntimeError(f"pgbench failed ({proc.returncode}):\n{out[-2000:]}")
    return {
        "clients": clients,
        "tps": round(float(tps.group(1)), 1),
        "failed": int(failed.group(1)) if failed else 0,
        "latency_avg_ms": float(lat.group(1)) if lat else None,
    }


def fault_kill_workers(*, gunicorn: Gunicorn, admin: psycopg.Connection, dbname: str, kills: int, duration: float):
    """An ``on_tick`` for run_load: at evenly spaced moments, SIGKILL a worker that is mid-bill."""
    schedule = [duration * (i + 1) / (kills + 1) for i in range(kills)]
    events: list[dict] = []

    def on_tick(elapsed: float) -> None:
        if not schedule or elapsed < schedule[0]:
            return
        workers = gunicorn.workers()
        if not workers:
            return
        found = procfs.worker_mid_bill(admin, dbname=dbname, workers=workers)
        waited = elapsed - schedule[0]
        if found is None and waited < 2.0:
            return  # keep polling for up to 2 s for a worker with an open transaction
        victim, backend = found if found else (random.choice(workers), None)
        procfs.kill(victim)
        schedule.pop(0)
        events.append(
            {"at_s": round(elapsed, 2), "pid": victim, "mid_transaction": found is not None, **(backend or {})}
        )
        where = (
            f"in a transaction for {backend['xact_ms']} ms, {backend['state']}: {backend['query']}"
            if backend
            else "busy"
        )
        log(f"fault: SIGKILL worker {victim} at {elapsed:.1f} s ({where})")

    return on_tick, events


def backend_pids(admin: psycopg.Connection, dbname: str) -> set[int]:
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"
        " AND pid <> pg_backend_pid()",
        [dbname],
    ).fetchall()
    return {pid for (pid,) in rows}


def measured_load(*, gunicorn: Gunicorn, admin: psycopg.Connection, dbname: str, **kwargs) -> RunStats:
    """run_load, plus where the CPU went: gunicorn's workers, the database's backends, this load
    generator, and everything else on the machine (other users' work makes the figures noisy)."""
    workers, backends = set(gunicorn.workers()), backend_pids(admin, dbname)
    app0, db0, gen0 = procfs.cpu_seconds(workers), procfs.cpu_seconds(backends), time.process_time()
    busy0, total0 = procfs.machine_cpu()
    load0 = os.getloadavg()[0]
    wal0 = wal_position(admin)
    stats = run_load(**kwargs)
    wal = wal_bytes_since(admin, wal0)
    workers |= set(gunicorn.workers())
    backends |= backend_pids(admin, dbname)
    app = procfs.cpu_seconds(workers) - app0
    db = procfs.cpu_seconds(backends) - db0
    gen = time.process_time() - gen0
    busy1, total1 = procfs.machine_cpu()
    busy, total = busy1 - busy0, max(total1 - total0, 1e-9)
    n = max(len(stats.results), 1)
    stats.cpu = {
        "app_ms_per_bill": round(app / max(len(stats.created), 1) * 1000, 2),
        "app_ms_per_req": round(app / n * 1000, 2),
        "db_ms_per_req": round(db / n * 1000, 2),
        "gen_ms_per_req": round(gen / n * 1000, 2),
        # The whole server's WAL during the run: on a quiet server, what the requests wrote.
        "wal_kb_per_req": round(wal / n / 1024, 1),
        "machine_busy_pct": round(busy / total * 100, 1),
        "others_pct": round(max(busy - app - db - gen, 0) / total * 100, 1),
        "loadavg_start": round(load0, 2),
        "loadavg_end": round(os.getloadavg()[0], 2),
    }
    return stats


def wal_position(admin: psycopg.Connection) -> str:
    ((lsn,),) = admin.execute("SELECT pg_current_wal_insert_lsn()").fetchall()
    return str(lsn)


def wal_bytes_since(admin: psycopg.Connection, start: str) -> int:
    ((diff,),) = admin.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn)", [start]).fetchall()
    return int(diff)


def deadlocks(admin: psycopg.Connection, dbname: str) -> int:
    admin.execute("SELECT pg_stat_clear_snapshot()")
    row = admin.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = %s", [dbname]).fetchone()
    return int(row[0]) if row else 0


def prepare_reprints(
    *, api: Api, till_api: Api, rng: random.Random, lines: int, initial_stock: dict
) -> tuple[str, RunStats, tuple[float, float]]:
    """A bill of ``lines`` lines (products of its own), rung up by the till user as the load's
    bills are, its first print (the original, rendered and stored) and its first reprint (the
    DUPLICATE mark laid over, stored). Returns the PDF's path, the bill as a run of its own for the
    audits, and the two prints' times in ms."""
    products = []
    for n in range(lines):
        price = Decimal(rng.randint(5, 900)) + rng.choice([Decimal(0), Decimal("0.50")])
        status, body = api.request(
            "POST",
            "/api/v1/products",
            {"name": f"Long invoice item {n:03d}", "price": f"{price:.2f}", "tax_percent": rng.choice(TAX_RATES),
             "stock": 1000},
        )  # fmt: skip
        if status != 201:
            raise RuntimeError(f"creating a product for the long invoice failed: {status} {body}")
        products.append(ProductInfo(body["id"], Decimal(body["price"]), Decimal(body["tax_percent"])))
        initial_stock[body["id"]] = body["stock"]
    paid, tendered = paid_in_notes([(p, 1) for p in products])
    bill = {
        "customer_email": "bench-long-invoice@example.com",
        "items": [{"product_id": p.id, "quantity": 1} for p in products],
        "paid_amount": f"{paid:.2f}",
        "tendered": tendered,
    }
    t0 = time.perf_counter()
    status, payload = till_api.request("POST", "/api/v1/purchases", bill)
    t1 = time.perf_counter()
    setup = RunStats(scenario="long invoice", clients=1, duration=t1 - t0)
    setup.results.append(bill_result(status, payload, t1 - t0, t1, bill, keep_body=True))
    if status != 201:
        raise RuntimeError(f"ringing up the {lines}-line bill failed: {status} {payload}")
    path = f"/api/v1/purchases/{payload['id']}/invoice.pdf"
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        status, pdf = api.request("GET", path, headers={"Accept": "application/pdf"})
        times.append((time.perf_counter() - t0) * 1000)
        if status != 200 or not bytes(pdf).startswith(b"%PDF-"):
            raise RuntimeError(f"printing the {lines}-line invoice failed: {status}")
    return path, setup, (times[0], times[1])


def print_users(env: dict, password: str, names: list[str]) -> list[str]:
    out = manage({**env, "BENCH_TILL_PASSWORD": password, "BENCH_PRINT_USERS": ",".join(names)},
                 "shell", "-c", PRINT_USERS_SCRIPT).stdout  # fmt: skip
    line = next(line for line in out.splitlines() if line.startswith("PRINT_TOKENS "))
    return json.loads(line.split(" ", 1)[1])


def reprint_summary(prints: list[Print]) -> dict:
    served = sorted(p.latency for p in prints if p.status == 200)
    others: dict[str, int] = {}
    for p in prints:
        if p.status != 200:
            key = f"{p.status} {p.code}".strip()
            others[key] = others.get(key, 0) + 1
    return {
        "served": len(served),
        "p50_ms": percentile_ms(served, 50),
        "p99_ms": percentile_ms(served, 99),
        "max_ms": round(served[-1] * 1000, 1) if served else None,
        "refused": dict(sorted(others.items())),
    }


def pooled_bill_p99(runs: list[RunStats]) -> float | None:
    return percentile_ms(sorted(r.latency for run in runs for r in run.created), 99)


# --- report --------------------------------------------------------------------------------------


def print_runs(summaries: list[dict]) -> None:
    head = f"{'scenario':<9}{'C':>4}{'bills':>8}{'bills/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    print("CPU ms per request: app = gunicorn workers, db = PostgreSQL backends, gen = this load generator;")
    print("app/bill = the gunicorn workers' CPU divided by the bills made (201s);")
    print("others = CPU share used by everything else on the machine during the run (noise);")
    print("WAL = KB of write-ahead log per request (the whole server's: exact on a quiet server).")
    print(head + f"{'app/bill':>9}{'app':>7}{'db':>6}{'gen':>6}{'WAL':>6}{'others':>8}  statuses / codes")
    for s in summaries:
        codes = ", ".join(f"{k}: {v}" for k, v in s["by_code"].items())
        cpu = s.get("cpu", {})
        print(
            f"{s['scenario']:<9}{s['clients']:>4}{s['bills']:>8}{s['bills_per_s']:>9}{s['p50_ms'] or '-':>9}"
            f"{s['p95_ms'] or '-':>9}{s['p99_ms'] or '-':>9}{s['max_ms'] or '-':>9}"
            f"{cpu.get('app_ms_per_bill', '-'):>9}{cpu.get('app_ms_per_req', '-'):>7}"
            f"{cpu.get('db_ms_per_req', '-'):>6}{cpu.get('gen_ms_per_req', '-'):>6}"
            f"{cpu.get('wal_kb_per_req', '-'):>6}{str(cpu.get('others_pct', '-')) + '%':>8}  "
            f"{s['by_status']}{' ' + codes if codes else ''}"
            f"{' refunds: ' + str(s['refunds']) if s.get('refunds') else ''}"
        )


def evaluate_targets(
    summaries, pgbench, list_result, audits_ok, total_deadlocks, pdf=None
) -> list[tuple[str, str, str]]:
    def find(scenario, clients):
        return next((s for s in summaries if s["scenario"] == scenario and s["clients"] == clients), None)

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    out = []
    spread = find("spread", TARGET_SPREAD_C)
    pg = next((r for r in pgbench if r["clients"] == TARGET_SPREAD_C), None)
    if spread:
        p99 = spread["p99_ms"] or 0
        out.append(
            (
                f"spread C={TARGET_SPREAD_C}: p99 <= {TARGET_SPREAD_P99_MS} ms",
                verdict(p99 <= TARGET_SPREAD_P99_MS),
                f"p99 {p99} ms",
            )
        )
        if pg:
            ratio = spread["bills_per_s"] / pg["tps"] if pg["tps"] else 0
            out.append(
                (
                    f"spread C={TARGET_SPREAD_C}: >= {TARGET_PGBENCH_RATIO:.0%} of pgbench",
                    verdict(ratio >= TARGET_PGBENCH_RATIO),
                    f"{spread['bills_per_s']} bills/s = {ratio:.1%} of {pg['tps']} tps",
                )
            )
        else:
            out.append(
                (f"spread C={TARGET_SPREAD_C}: >= {TARGET_PGBENCH_RATIO:.0%} of pgbench", "SKIP", "no pgbench run")
            )
    else:
        out.append((f"spread C={TARGET_SPREAD_C}", "SKIP", "not run"))
    # The app's CPU per bill at the target's load (every run's figure is in the table above; the
    # hot runs' 409s cost CPU too, so their figure per bill says little).
    for s in summaries:
        per_bill = s.get("cpu", {}).get("app_ms_per_bill")
        if per_bill is None or not s["bills"] or (s["scenario"], s["clients"]) != ("spread", TARGET_SPREAD_C):
            continue
        out.append(
            (
                f"{s['scenario']} C={s['clients']}: app CPU <= {TARGET_APP_MS_PER_BILL:g} ms per bill",
                verdict(per_bill <= TARGET_APP_MS_PER_BILL),
                f"{per_bill} ms per bill",
            )
        )
    hot = find("hot", TARGET_HOT_C)
    if hot:
        busy = hot["by_code"].get("503 busy", 0)
        out.append((f"hot C={TARGET_HOT_C}: zero lost units (audits)", verdict(audits_ok), "see audits"))
        out.append(
            (
                f"hot C={TARGET_HOT_C}: zero 5xx",
                verdict(hot["errors_5xx"] == 0),
                f"{hot['errors_5xx']} 5xx ({busy} busy), {hot['request_errors']} request errors",
            )
        )
        out.append(
            (
                f"hot C={TARGET_HOT_C}: zero deadlocks",
                verdict(total_deadlocks == 0 and busy == 0),
                f"{total_deadlocks} deadlocks in pg_stat_database (whole run), {busy} x 503 busy",
            )
        )
        worst = max(hot["p99_ms"] or 0, hot["bill_p99_ms"] or 0)
        out.append(
            (
                f"hot C={TARGET_HOT_C}: p99 <= {TARGET_HOT_P99_MS} ms",
                verdict(worst <= TARGET_HOT_P99_MS),
                f"p99 {hot['p99_ms']} ms (all), {hot['bill_p99_ms']} ms (201 only)",
            )
        )
    else:
        out.append((f"hot C={TARGET_HOT_C}", "SKIP", "not run"))

    def mean_rate(scenario):
        runs = [s for s in summaries if s["scenario"] == scenario and s["clients"] == TILLS_C]
        return round(sum(s["bills_per_s"] for s in runs) / len(runs), 1) if runs else None

    one, eight = mean_rate("till1"), mean_rate(f"tills{TILLS}")
    if one and eight:
        out.append(
            (
                f"{TILLS} tills at C={TILLS_C}: at least one till's throughput",
                verdict(eight >= one),
                f"{eight} against {one} bills/s (each the mean of its two runs, run A-B-B-A)",
            )
        )
    if pdf:
        rise = pdf["p99_rise"]
        out.append(
            (
                f"spread C={PDF_C} with {pdf['clients']} reprint clients of a {pdf['lines']}-line invoice:"
                f" bills' p99 at most {PDF_MAX_P99_RISE:.0%} above without",
                verdict(rise is not None and rise <= PDF_MAX_P99_RISE),
                f"p99 {pdf['with_p99_ms']} ms with, {pdf['without_p99_ms']} ms without"
                f" ({'-' if rise is None else f'{rise:+.1%}'}; {pdf['reprints']['served']} reprints served)",
            )
        )
    if list_result and list_result["bills_in_db"] >= TARGET_LIST_BILLS:
        p50 = list_result["page1"]["p50_ms"] or 0
        out.append(
            (
                f"list page of 100 at {TARGET_LIST_BILLS:,} bills: p50 <= {TARGET_LIST_P50_MS} ms",
                verdict(p50 <= TARGET_LIST_P50_MS),
                f"p50 {p50} ms at {list_result['bills_in_db']:,} bills",
            )
        )
    else:
        out.append(("list page at 100,000 bills", "SKIP", "fewer bills than the target (--list-bills)"))
    return out  # fmt: skip


# --- main ----------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    runs_planned = len(args.clients) * len([s for s in args.scenarios if s != "tills"])
    runs_planned += 4 if "tills" in args.scenarios else 0
    budget = int(
        240
        + runs_planned * (args.duration + args.timeout + 15)
        + len(args.clients) * (args.pgbench_duration + 30)
        + 60 + args.list_bills / 500 + args.list_requests * 2
        + (args.fault_duration + args.timeout + 60 if args.fault_kill_worker else 0)
        + (4 * (args.duration + args.timeout + 15) + 120 + args.pdf_lines if args.pdf_reprints else 0)
    )  # fmt: skip

    def on_alarm(signum, frame):
        raise BenchTimeout(f"the benchmark exceeded its {budget} s budget")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(budget)

    rng = random.Random(args.seed)
    name = f"billing_bench_{os.getpid()}"
    pg_name = f"{name}_pgbench"
    url, pg_url = db_url(args.pg, name), db_url(args.pg, pg_name)
    logdir = Path(tempfile.mkdtemp(prefix="billing-bench-"))
    env = {**os.environ, **production_env(url)}
    if args.no_metrics:
        env["METRICS_ENABLED"] = "False"
    if args.pdf_throttle_rate:
        env["PDF_THROTTLE_RATE"] = args.pdf_throttle_rate
    password = secrets.token_urlsafe(24)
    results: dict = {"machine": {"cpus": os.cpu_count()}, "args": {k: str(v) for k, v in vars(args).items()}}
    gunicorn = None
    admin = psycopg.connect(args.pg, autocommit=True)
    created: list[str] = []
    exit_code = 1
    try:
        log(f"database {name} (+ {pg_name} for pgbench) on {urlsplit(args.pg).hostname}")
        admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        manage(env, "migrate", "--noinput")
        if args.without_report_indexes:
            with psycopg.connect(url, autocommit=True) as db:
                db.execute("DROP INDEX purchase_created_id_cover")
                db.execute("DROP INDEX purchaseitem_created_at")
                db.execute("CREATE INDEX purchase_created_plain ON purchases_purchase (created_at)")
        # pgbench gets an exact copy of the schema, constraints and indexes, in its own database.
        admin.execute(f'CREATE DATABASE "{pg_name}" TEMPLATE "{name}"')
        created.append(pg_name)
        manage({**env, "DJANGO_SUPERUSER_PASSWORD": password},
               "createsuperuser", "--noinput", "--username", "bench", "--email", "bench@example.com")  # fmt: skip
        # The load rings up as a till does: a user with the Cashier role (and the refund grant the
        # mixed scenario needs), not the superuser that seeds and audits.
        manage({**env, "BENCH_TILL_PASSWORD": password}, "shell", "-c", TILL_USER_SCRIPT)
        manage(env, "setup_roles", "--cashier", TILL_USER)

        gunicorn = Gunicorn(env, workers=args.workers, worker_class=args.worker_class, threads=args.threads,
                            logdir=logdir)  # fmt: skip
        gunicorn.wait_ready()
        log(f"gunicorn on 127.0.0.1:{gunicorn.port}, {args.workers} {args.worker_class} workers")
        status, body = Api(gunicorn.port).request(
            "POST", "/api/v1/auth/token", {"username": "bench", "password": password}
        )
        if status != 200:
            raise RuntimeError(f"no token: {status} {body}")
        api = Api(gunicorn.port, body["token"], timeout=args.timeout)
        status, body = Api(gunicorn.port).request(
            "POST", "/api/v1/auth/token", {"username": TILL_USER, "password": password}
        )
        if status != 200:
            raise RuntimeError(f"no token for the till user: {status} {body}")
        token = body["token"]
        spread, initial_stock, initial_drawer = seed(api, rng)
        till_ids = seed_tills(api, initial_drawer) if "tills" in args.scenarios else []
        defaults = model_defaults(env)
        seed_pgbench_db(pg_url, spread, defaults)
        db = psycopg.connect(url, autocommit=True)
        ((seed_movement_id,),) = db.execute("SELECT coalesce(max(id), 0) FROM cashdrawer_drawermovement").fetchall()
        log(f"seeded {len(spread)} products and a drawer of {len(initial_drawer)} denominations")

        runs: list[RunStats] = []
        if args.pdf_reprints:
            pdf_path, pdf_setup, pdf_first_ms = prepare_reprints(
                api=api, till_api=Api(gunicorn.port, token, timeout=args.timeout), rng=rng, lines=args.pdf_lines,
                initial_stock=initial_stock,
            )  # fmt: skip
            runs.append(pdf_setup)
            # Two runs with reprints, each with users of its own: every run starts with fresh budgets.
            pdf_tokens = print_users(env, password, [f"bench-print-{r}-{i}" for r in (1, 2)
                                                     for i in range(args.pdf_reprints)])  # fmt: skip
            log(
                f"a {args.pdf_lines}-line bill; its first print (render and store) took {pdf_first_ms[0]:.0f} ms,"
                f" its first reprint (the DUPLICATE mark laid over, stored) {pdf_first_ms[1]:.0f} ms"
            )
        warm = run_load(port=gunicorn.port, token=token, scenario="spread", clients=2,
                        duration=min(2.0, args.duration), spread=spread, hot=[], seed=rng.randrange(10**6),
                        timeout=args.timeout)  # fmt: skip
        runs.append(warm)
        summaries = []
        stock_audits: list[Check] = []  # manage.py stock_audit after every scenario
        for scenario in args.scenarios:
            if scenario == "tills":
                # A-B-B-A: the database grows and autovacuum wakes up as the run goes on, so a later
                # run is a little slower; in this order both arrangements get the same share of that.
                one, eight = ("1 till", till_ids[:1]), (f"{TILLS} tills", till_ids)
                for label, tills in (one, eight, eight, one):
                    log(f"{label} C={TILLS_C} for {args.duration:.0f} s, every bill naming a till in turn")
                    stats = measured_load(gunicorn=gunicorn, admin=admin, dbname=name,
                                          port=gunicorn.port, token=token, scenario="spread", clients=TILLS_C,
                                          duration=args.duration, spread=spread, hot=[], seed=rng.randrange(10**6),
                                          timeout=args.timeout, tills=tills,
                                          idempotency_keys=args.idempotency_keys)  # fmt: skip
                    stats.scenario = "till1" if len(tills) == 1 else f"tills{TILLS}"
                    runs.append(stats)
                    summaries.append(stats.summary())
                    stock_audits.append(stock_audit_check(f"{stats.scenario} C={TILLS_C}", env=env, cwd=ROOT))
                    time.sleep(0.5)
                continue
            for clients in args.clients:
                hot = make_hot(api, rng, f"{scenario}-c{clients}", initial_stock) if scenario == "hot" else []
                if scenario == "weighed":
                    hot = make_weighed(api, rng, f"c{clients}", initial_stock)
                log(f"{scenario} C={clients} for {args.duration:.0f} s")
                stats = measured_load(gunicorn=gunicorn, admin=admin, dbname=name,
                                      port=gunicorn.port, token=token, scenario=scenario, clients=clients,
                                 duration=args.duration, spread=spread, hot=hot, seed=rng.randrange(10**6),
                                 timeout=args.timeout, idempotency_keys=args.idempotency_keys)  # fmt: skip
                runs.append(stats)
                summaries.append(stats.summary())
                stock_audits.append(stock_audit_check(f"{scenario} C={clients}", env=env, cwd=ROOT))
                time.sleep(0.5)
        pdf_result = None
        if args.pdf_reprints:
            n = args.pdf_reprints
            by_arrangement: dict[str, list[RunStats]] = {"without": [], "with": []}
            prints: list[Print] = []
            # A-B-B-A, as for the tills: a later run is a little slower as the tables grow.
            for arrangement, tokens in (("without", []), ("with", pdf_tokens[:n]), ("with", pdf_tokens[n:]),
                                        ("without", [])):  # fmt: skip
                what = f"{n} clients reprinting the {args.pdf_lines}-line invoice" if tokens else "no reprints"
                log(f"spread C={PDF_C} for {args.duration:.0f} s, {what}")
                reprinter = Reprinter(port=gunicorn.port, tokens=tokens, path=pdf_path, pause=args.pdf_pause,
                                      timeout=args.timeout)  # fmt: skip
                reprinter.start()
                try:
                    stats = measured_load(gunicorn=gunicorn, admin=admin, dbname=name,
                                          port=gunicorn.port, token=token, scenario="spread", clients=PDF_C,
                                          duration=args.duration, spread=spread, hot=[], seed=rng.randrange(10**6),
                                          timeout=args.timeout, idempotency_keys=args.idempotency_keys)  # fmt: skip
                finally:
                    prints.extend(reprinter.stop())
                stats.scenario = f"pdf-{arrangement}"
                by_arrangement[arrangement].append(stats)
                runs.append(stats)
                summaries.append(stats.summary())
                stock_audits.append(stock_audit_check(stats.scenario, env=env, cwd=ROOT))
                time.sleep(0.5)
            with_p99, without_p99 = pooled_bill_p99(by_arrangement["with"]), pooled_bill_p99(by_arrangement["without"])
            results["pdf"] = pdf_result = {
                "clients": n,
                "lines": args.pdf_lines,
                "throttle_rate": args.pdf_throttle_rate or "the app's default",
                "pause_s": args.pdf_pause,
                "first_print_ms": round(pdf_first_ms[0], 1),
                "first_reprint_ms": round(pdf_first_ms[1], 1),
                "reprints": reprint_summary(prints),
                "with_p99_ms": with_p99,
                "without_p99_ms": without_p99,
                "p99_rise": round(with_p99 / without_p99 - 1, 4) if with_p99 and without_p99 else None,
            }
        results["runs"] = summaries

        if args.fault_kill_worker:
            hot = make_hot(api, rng, "fault", initial_stock)
            log(f"fault check: hot C=8 for {args.fault_duration:.0f} s, SIGKILL {args.fault_kills} workers mid-bill")
            on_tick, events = fault_kill_workers(gunicorn=gunicorn, admin=admin, dbname=name,
                                                 kills=args.fault_kills, duration=args.fault_duration)  # fmt: skip
            stats = run_load(  # no CPU accounting here: the killed workers take their counters with them
                port=gunicorn.port, token=token, scenario="hot",
                clients=8, duration=args.fault_duration, spread=spread, hot=hot, seed=rng.randrange(10**6),
                timeout=args.timeout, on_tick=on_tick,
            )  # fmt: skip
            stats.scenario = "fault"
            runs.append(stats)
            stock_audits.append(stock_audit_check("fault", env=env, cwd=ROOT))
            deadline = time.monotonic() + 30
            while len(gunicorn.workers()) < args.workers and time.monotonic() < deadline:
                time.sleep(0.2)
            results["fault"] = {"kills": events, "run": stats.summary(), "workers_after": len(gunicorn.workers())}
            summaries.append(stats.summary())

        print()
        print_runs(summaries)
        print()
        if pdf_result:
            r = pdf_result["reprints"]
            print(f"Reprints (pdf-with): {pdf_result['clients']} clients, each its own cashier, reprinting a"
                  f" {pdf_result['lines']}-line invoice together, {pdf_result['pause_s']} s after each answer"
                  f" (PDF_THROTTLE_RATE: {pdf_result['throttle_rate']}); its first print took"
                  f" {pdf_result['first_print_ms']} ms,"
                  f" its first reprint {pdf_result['first_reprint_ms']} ms")  # fmt: skip
            print(f"  served {r['served']}: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms;"
                  f" refused {r['refused'] or 'none'}")  # fmt: skip
            print(f"  bills' p99 (201s of both runs pooled): {pdf_result['with_p99_ms']} ms with reprints,"
                  f" {pdf_result['without_p99_ms']} ms without")  # fmt: skip
            print()

        log("audits")
        checks: list[Check] = run_audits(
            db=db, api=api, runs=runs, initial_stock=initial_stock, initial_drawer=initial_drawer,
            seed_movement_id=seed_movement_id, drawer_audit_cmd=drawer_audit_cmd(), env=env, cwd=ROOT,
        )  # fmt: skip
        checks += stock_audits
        for c in checks:
            print(f"  {'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
        audits_ok = all(c.ok for c in checks)
        results["audits"] = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks]

        pgbench = []
        for clients in args.clients:
            log(f"pgbench C={clients} for {args.pgbench_duration:.0f} s")
            with psycopg.connect(pg_url, autocommit=True) as pg:  # see seed_pgbench_db: the 500s only come in
                pg.execute("UPDATE cashdrawer_denomination SET count = 0 WHERE value = 500")
            pgbench.append(run_pgbench(pg_url, clients, args.pgbench_duration))
        results["pgbench"] = pgbench
        print()
        print(f"{'C':>4}{'pgbench tps':>13}{'app bills/s (spread)':>22}{'ratio':>8}")
        for r in pgbench:
            app = next((s for s in summaries if s["scenario"] == "spread" and s["clients"] == r["clients"]), None)
            ratio = f"{app['bills_per_s'] / r['tps']:.1%}" if app and r["tps"] else "-"
            r["app_ratio"] = ratio
            print(f"{r['clients']:>4}{r['tps']:>13}{app['bills_per_s'] if app else '-':>22}{ratio:>8}")
        print()

        # After the audits, so the synthetic bills cannot confuse them.
        defaulted = set_column_defaults(db, defaults)
        try:
            inserted, secs = fill_bills(db, target=args.list_bills, product_ids=[p.id for p in spread])
        finally:
            drop_column_defaults(db, defaulted)
        ((total_bills,),) = db.execute("SELECT count(*) FROM purchases_purchase").fetchall()
        log(f"list: inserted {inserted:,} synthetic bills in {secs:.1f} s; {total_bills:,} bills in the database")
        page1 = time_list(api, path="/api/v1/purchases?page_size=100", requests=args.list_requests)
        middle = max(1, total_bills // 200)
        deep = time_list(
            api, path=f"/api/v1/purchases?page_size=100&page={middle}", requests=max(5, args.list_requests // 5)
        )
        count = time_sql(db, "SELECT count(*) FROM purchases_purchase")
        results["list"] = list_result = {
            "bills_in_db": total_bills,
            "page1": page1,
            "middle_page": deep,
            "count_query": count,
        }
        for r in (page1, deep):
            print(
                f"  GET {r['path']}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, max {r['max_ms']} ms"
                f" ({r['bills_on_page']} bills, {r['lines_on_page']} lines per page, {r['non_200']} non-200)"
            )
        print(f"  of which the paginator's {count['sql']}: p50 {count['p50_ms']} ms (timed directly)")

        api.close()
        db.close()
        gunicorn.stop()  # its backends exit and flush their statistics
        time.sleep(1.0)
        total_deadlocks = deadlocks(admin, name)
        results["deadlocks"] = total_deadlocks

        targets = evaluate_targets(summaries, pgbench, list_result, audits_ok, total_deadlocks, pdf_result)
        results["targets"] = [{"target": t, "verdict": v, "measured": m} for t, v, m in targets]
        print()
        print("Targets")
        for t, v, m in targets:
            print(f"  {v:<5}{t}: {m}")
        print()
        print(f"Audits: {'all passed' if audits_ok else 'FAILED'}; deadlocks: {total_deadlocks}")
        exit_code = 0 if audits_ok else 1
        if args.strict and any(v == "FAIL" for _, v, _ in targets):
            exit_code = 1
    except BenchTimeout as exc:
        log(str(exc))
    except Exception:
        if gunicorn is not None:
            log(f"gunicorn log tail:\n{gunicorn.log_tail()}")
        raise
    finally:
        signal.alarm(0)
        if gunicorn is not None:
            gunicorn.stop()
        if args.keep:
            log(f"kept databases: {', '.join(created)}")
        else:
            for dbname in reversed(created):
                admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.close()
        shutil.rmtree(logdir, ignore_errors=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
