"""The bill, side by side with the seed (issue 30): this system and the one it replaces, the same
bills, one sitting. See bench/README.md ("Side by side with the seed") for how to start the seed.

    .venv/bin/python bench/side_by_side.py --seed-url http://127.0.0.1:8001 \\
        --seed-db postgres://postgres@127.0.0.1:5432/seed_side

The seed must already be running (uvicorn, 2 workers, on 127.0.0.1) on a database of its own.
This script makes a fresh database for ours, starts ours as ``bench/run.py`` does (gunicorn, 2 sync
workers, production settings), seeds both with the same 50 products (same names, prices, tax
rates, stock) and a drawer through their own APIs, then rings up the spread load (1 to 5 lines,
C=8, the same seconds) on ours and on the seed in the order A-B-B-A (ours, seed, seed, ours): each
pair of runs uses the same random seed, so both systems get the same bills. Per run it prints
bills/s, p50/p95/p99, errors by code, the app's and the database's CPU per bill and the share of
the machine that others used; then each side's means, the throughput ratio against the issue's
target (ours at least 2x the seed's), and the units each side lost (stock decrease against the
units on its acknowledged bills). Ours also gets the full audits of ``bench/run.py``.

Only the seed's request and answer shape is seed-specific (``SeedBills``). Everything stops by
itself (per-request timeouts, a duration per run, an alarm for the whole); our gunicorn is
stopped and our database dropped at the end (not the seed's: it was started by hand).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import procfs
import psycopg
import run as bench
from appenv import production_env
from audit import _api_stock, run_audits
from loadgen import Api, ProductInfo, Result, RunStats, percentile_ms, run_load, signature

TARGET_RATIO = 2.0  # issue 30: throughput at C=8 at least 2x the seed's


class SeedBills:
    """The seed's bill: ``POST /api/v1/purchases/`` (its route ends with a slash) with the customer's
    email, ``product_id``/``quantity`` lines, ``paid_amount`` as a number and the notes handed over as
    ``denominations``. It has no bill discount, so the discount of every fourth bill is left out
    (ours does that work, the seed does not). It answers 201 with the bill and its
    ``purchase_items``; a refusal is ``{"detail": "<sentence>"}``, named here by its first words."""

    path = "/api/v1/purchases/"

    def request(self, body: dict) -> dict:
        return {
            "customer_email": body["customer_email"],
            "items": [{"product_id": i["product_id"], "quantity": i["quantity"]} for i in body["items"]],
            "paid_amount": float(body["paid_amount"]),
            "denominations": [{"value": int(Decimal(t["value"])), "count": t["count"]} for t in body["tendered"]],
        }

    def result(self, status: int, payload, latency: float, finished: float, body: dict, *, keep_body: bool) -> Result:
        if status != 201:
            return Result(status, seed_code(payload), latency, finished, signature(body))
        items = {i["product_id"]: Decimal(str(i["quantity"])) for i in payload["purchase_items"]}
        return Result(201, "", latency, finished, signature(body), bill_id=payload["id"], items=items)


SEED_CODES = {
    "insufficient stock": "insufficient_stock",
    "insufficient payment": "insufficient_payment",
    "cannot provide exact change": "no_change",
    "duplicatekey": "duplicate_key",  # two bills creating the same new customer at once
    "deadlock": "deadlock",
}


def seed_code(payload) -> str:
    if not isinstance(payload, dict):
        return "non_json"
    text = payload.get("detail") or payload.get("error") or ""
    if not isinstance(text, str):
        return "validation"
    flat = text.lower().replace(" ", "").replace("_", "")
    for words, code in SEED_CODES.items():
        if words.replace(" ", "") in flat:
            return code
    return text[:40]


class Served:
    """A server this script did not start: its workers are found from its listening port."""

    def __init__(self, port: int):
        self.port = port

    def workers(self) -> list[int]:
        return procfs.serving_pids(self.port)


class BackendCpu:
    """The CPU a database's backends use during a run, those that come and go included (the seed's
    SQLAlchemy pool closes the connections it opens beyond its 5 when they are returned): sampled
    at the start and every tick (about 0.1 s), each backend counted from its first sample (0 when
    it was born during the run) to its last. At most a tick of a leaving backend's work is missed."""

    def __init__(self, admin: psycopg.Connection, dbname: str):
        self.admin, self.dbname = admin, dbname
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.started = False

    def sample(self, elapsed: float = 0.0) -> None:
        for pid in bench.backend_pids(self.admin, self.dbname):
            cpu = procfs.cpu_seconds([pid])
            if cpu <= 0 and pid in self.last:  # gone since it was listed
                continue
            self.first.setdefault(pid, cpu if not self.started else 0.0)
            self.last[pid] = cpu
        self.started = True

    def used(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def measured(server, admin: psycopg.Connection | None, dbname: str, load: dict) -> RunStats:
    """``run_load`` with where the CPU went, as ``run.measured_load`` reports it (app = the
    server's workers, db = its database's backends, gen = this process, others = the rest of the
    machine), the backends followed through the run (``BackendCpu``). Without ``admin`` (no
    ``--seed-db``), no db column."""
    workers = set(server.workers())
    backends = BackendCpu(admin, dbname) if admin is not None else None
    if backends:
        backends.sample()
    app0, gen0 = procfs.cpu_seconds(workers), time.process_time()
    busy0, total0 = procfs.machine_cpu()
    stats = run_load(**load, on_tick=backends.sample if backends else None)
    if backends:
        backends.sample()
    app = procfs.cpu_seconds(workers | set(server.workers())) - app0
    gen = time.process_time() - gen0
    db = backends.used() if backends else 0.0
    busy1, total1 = procfs.machine_cpu()
    busy, total = busy1 - busy0, max(total1 - total0, 1e-9)
    n = max(len(stats.results), 1)
    stats.cpu = {
        "app_ms_per_bill": round(app / max(len(stats.created), 1) * 1000, 2),
        "app_ms_per_req": round(app / n * 1000, 2),
        "gen_ms_per_req": round(gen / n * 1000, 2),
        "machine_busy_pct": round(busy / total * 100, 1),
        "others_pct": round(max(busy - app - db - gen, 0) / total * 100, 1),
    }
    if backends:
        stats.cpu["db_ms_per_req"] = round(db / n * 1000, 2)
        stats.cpu["backends_seen"] = len(backends.last)
    return stats


def seed_the_seed(api: Api, spread: list[ProductInfo], stock: dict[int, int], tag: str) -> list[ProductInfo]:
    """Our products on the seed (same order, names, prices, tax rates and stock); its drawer of the
    same float. Returns the seed's products, in our order."""
    theirs = []
    for n, p in enumerate(spread):
        body = {"name": f"Bench item {n:02d} {tag}", "stock": stock[p.id], "price": float(p.price),
                "tax_percent": float(p.tax_percent)}  # fmt: skip
        status, answer = api.request("POST", "/api/v1/products/", body)
        if status != 201:
            raise RuntimeError(f"seeding a product on the seed failed: {status} {answer}")
        theirs.append(ProductInfo(answer["id"], p.price, p.tax_percent))
    for value in bench.DENOMINATIONS:
        body = {"value": int(value), "available_count": bench.DRAWER_FLOAT}
        status, answer = api.request("POST", "/api/v1/denominations/", body)
        if status == 400:  # already there from an earlier run: set its count
            status, answer = api.request(
                "PUT", f"/api/v1/denominations/{value}", {"available_count": body["available_count"]}
            )
        if status not in (200, 201):
            raise RuntimeError(f"seeding the seed's drawer failed: {status} {answer}")
    return theirs


def seed_stock(api: Api, products: list[ProductInfo]) -> dict[int, Decimal]:
    stock = {}
    for p in products:
        status, body = api.request("GET", f"/api/v1/products/{p.id}")
        if status != 200:
            raise RuntimeError(f"reading the seed's product {p.id} failed: {status} {body}")
        stock[p.id] = Decimal(str(body["stock"]))
    return stock


def lost_units(initial: dict[int, int], now: dict[int, Decimal], runs: list[RunStats]) -> dict:
    """Units on acknowledged bills that did not leave the stock (or left it twice), per product."""
    sold: dict[int, Decimal] = {}
    for run in runs:
        for r in run.created:
            for pid, qty in r.items.items():
                sold[pid] = sold.get(pid, Decimal(0)) + qty
    off = {pid: sold.get(pid, Decimal(0)) - (Decimal(initial[pid]) - now[pid]) for pid in initial}
    off = {pid: d for pid, d in off.items() if d}
    return {
        "units_acknowledged": int(sum(sold.get(pid, Decimal(0)) for pid in initial)),
        "stock_decrease": int(sum(Decimal(initial[pid]) - now[pid] for pid in initial)),
        "lost_units": int(sum(off.values())),
        "products_off": len(off),
    }


def seed_db_units(url: str, products: list[ProductInfo]) -> dict:
    """From the seed's database: its bills, and the units on them, of our products."""
    with psycopg.connect(url) as db:
        ((units, bills),) = db.execute(
            "SELECT coalesce(sum(quantity), 0), count(DISTINCT purchase_id) FROM purchase_items"
            " WHERE product_id = ANY(%s)",
            [[p.id for p in products]],
        ).fetchall()
    return {"units_in_db": int(units), "bills_in_db": int(bills)}


def row(system: str, stats: RunStats) -> dict:
    s = stats.summary()
    cpu = s["cpu"]
    bills = max(s["bills"], 1)
    return {
        "system": system,
        "bills": s["bills"],
        "bills_per_s": s["bills_per_s"],
        "p50_ms": s["p50_ms"],
        "p95_ms": s["p95_ms"],
        "p99_ms": s["p99_ms"],
        "errors": s["requests"] - s["bills"],
        "by_code": s["by_code"],
        "app_ms_per_bill": cpu.get("app_ms_per_bill"),
        "db_ms_per_bill": round(cpu["db_ms_per_req"] * s["requests"] / bills, 2) if "db_ms_per_req" in cpu else None,
        "others_pct": cpu.get("others_pct"),
    }


def pooled(runs: list[RunStats], pct: float) -> float | None:
    return percentile_ms(sorted(r.latency for run in runs for r in run.results if r.status), pct)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed-url", required=True, help="the running seed, http://127.0.0.1:PORT")
    p.add_argument(
        "--seed-db",
        help="the seed's database URL (on 127.0.0.1): its backends' CPU per bill and its bills as stored;"
        " without it the seed's db column is empty",
    )
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                   help="admin URL of the PostgreSQL server for our fresh database (env BENCH_PG_URL)")  # fmt: skip
    p.add_argument("--duration", type=float, default=20.0, help="seconds per run (default 20)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--rounds", type=int, default=1, help="A-B-B-A rounds (default 1)")
    p.add_argument("--workers", type=int, default=2, help="our gunicorn sync workers (default 2)")
    p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds")
    p.add_argument("--seed", type=int, default=30, help="random seed of the products and the bills")
    p.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = p.parse_args(argv)
    seed_url = urlsplit(args.seed_url)
    for url in (args.seed_url, args.pg, args.seed_db):
        if url and urlsplit(url).hostname not in bench.LOCALHOST:
            p.error(f"only 127.0.0.1 is targeted: {url}")
    if seed_url.port is None:
        p.error("--seed-url needs its port")
    args.seed_port = seed_url.port
    if not 1 <= args.clients <= 64 or not 1 <= args.rounds <= 5 or not 1 <= args.duration <= 300:
        p.error("--clients 1..64, --rounds 1..5, --duration 1..300")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    budget = int(600 + args.rounds * 4 * (args.duration + args.timeout + 15))

    def on_alarm(signum, frame):
        raise bench.BenchTimeout(f"the side-by-side run exceeded its {budget} s budget")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(budget)

    rng = random.Random(args.seed)
    name = f"billing_side_{os.getpid()}"
    url = bench.db_url(args.pg, name)
    env = {**os.environ, **production_env(url)}
    password = secrets.token_urlsafe(24)
    logdir = Path(tempfile.mkdtemp(prefix="billing-side-"))
    admin = psycopg.connect(args.pg, autocommit=True)
    seed_admin = psycopg.connect(args.seed_db, autocommit=True) if args.seed_db else None
    seed_dbname = urlsplit(args.seed_db).path.lstrip("/") if args.seed_db else ""
    seed_api = Api(args.seed_port, timeout=args.timeout)
    seed_server = Served(args.seed_port)
    gunicorn = None
    created = False
    results: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "machine": {"cpus": os.cpu_count()}}
    exit_code = 1
    try:
        status, health = seed_api.request("GET", "/health")
        if status != 200:
            raise RuntimeError(f"the seed does not answer GET /health: {status} {health}")
        seed_workers = seed_server.workers()
        bench.log(f"the seed: {health.get('service')} on 127.0.0.1:{args.seed_port}, workers {seed_workers}")

        bench.log(f"our database {name}")
        admin.execute(f'CREATE DATABASE "{name}"')
        created = True
        bench.manage(env, "migrate", "--noinput")
        bench.manage({**env, "DJANGO_SUPERUSER_PASSWORD": password},
                     "createsuperuser", "--noinput", "--username", "bench", "--email", "bench@example.com")  # fmt: skip
        bench.manage({**env, "BENCH_TILL_PASSWORD": password}, "shell", "-c", bench.TILL_USER_SCRIPT)
        bench.manage(env, "setup_roles", "--cashier", bench.TILL_USER)
        gunicorn = bench.Gunicorn(env, workers=args.workers, worker_class="sync", threads=1, logdir=logdir)
        gunicorn.wait_ready()
        bench.log(f"ours: gunicorn on 127.0.0.1:{gunicorn.port}, {args.workers} sync workers")
        tokens = {}
        for user in ("bench", bench.TILL_USER):
            status, body = Api(gunicorn.port).request(
                "POST", "/api/v1/auth/token", {"username": user, "password": password}
            )
            if status != 200:
                raise RuntimeError(f"no token for {user}: {status} {body}")
            tokens[user] = body["token"]
        api = Api(gunicorn.port, tokens["bench"], timeout=args.timeout)
        ours, initial_stock, initial_drawer = bench.seed(api, rng)
        seed_api.close()  # the seed closes an idle keep-alive connection after 5 s: open a new one
        theirs = seed_the_seed(seed_api, ours, initial_stock, tag=str(os.getpid()))
        seed_initial = {p.id: initial_stock[o.id] for p, o in zip(theirs, ours, strict=True)}
        db = psycopg.connect(url, autocommit=True)
        ((seed_movement_id,),) = db.execute("SELECT coalesce(max(id), 0) FROM cashdrawer_drawermovement").fetchall()
        bench.log(f"seeded both with {len(ours)} products and a drawer of {len(bench.DENOMINATIONS)} denominations")

        sides = {
            "ours": {"server": gunicorn, "admin": admin, "dbname": name, "port": gunicorn.port,
                     "token": tokens[bench.TILL_USER], "spread": ours, "adapter": None},
            "seed": {"server": seed_server, "admin": seed_admin, "dbname": seed_dbname, "port": args.seed_port,
                     "token": "", "spread": theirs, "adapter": SeedBills()},
        }  # fmt: skip
        runs: dict[str, list[RunStats]] = {"ours": [], "seed": []}
        warm: dict[str, list[RunStats]] = {"ours": [], "seed": []}
        for system, side in sides.items():  # not reported; counted in the audits and the lost units
            warmup = run_load(port=side["port"], token=side["token"], scenario="spread", clients=2,
                              duration=min(2.0, args.duration), spread=side["spread"], hot=[],
                              seed=rng.randrange(10**6), timeout=args.timeout, adapter=side["adapter"])  # fmt: skip
            warm[system].append(warmup)
        rows = []
        for round_ in range(args.rounds):
            pair_seeds = [rng.randrange(10**6), rng.randrange(10**6)]
            for i, system in enumerate(("ours", "seed", "seed", "ours")):
                side = sides[system]
                bench.log(f"round {round_ + 1}, run {i + 1}: {system}, spread C={args.clients} for {args.duration:g} s")
                load = {"port": side["port"], "token": side["token"], "scenario": "spread", "clients": args.clients,
                        "duration": args.duration, "spread": side["spread"], "hot": [],
                        "seed": pair_seeds[0 if i in (0, 1) else 1], "timeout": args.timeout,
                        "adapter": side["adapter"]}  # fmt: skip
                stats = measured(side["server"], side["admin"], side["dbname"], load)
                runs[system].append(stats)
                rows.append(row(system, stats))
                time.sleep(0.5)

        seed_api.close()
        losses = {
            "ours": lost_units(initial_stock, _api_stock(api), warm["ours"] + runs["ours"]),
            "seed": lost_units(seed_initial, seed_stock(seed_api, theirs), warm["seed"] + runs["seed"]),
        }
        if args.seed_db:
            losses["seed"].update(seed_db_units(args.seed_db, theirs))
            losses["seed"]["bills_acknowledged"] = sum(len(r.created) for r in warm["seed"] + runs["seed"])
        bench.log("audits of ours")
        checks = run_audits(
            db=db, api=api, runs=warm["ours"] + runs["ours"], initial_stock=initial_stock,
            initial_drawer=initial_drawer, seed_movement_id=seed_movement_id,
            drawer_audit_cmd=bench.drawer_audit_cmd(), env=env, cwd=bench.ROOT,
        )  # fmt: skip
        audits_ok = all(c.ok for c in checks)
        api.close()
        db.close()

        print()
        print(f"spread, 1-5 lines, C={args.clients}, {args.duration:g} s per run, A-B-B-A x {args.rounds};")
        print("errors = answers other than 201; app/db = CPU ms per bill of the app's workers / PostgreSQL's")
        print("backends; others = the machine's CPU share used by everything else during the run.")
        head = (f"{'run':<5}{'system':<7}{'bills':>7}{'bills/s':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
                f"{'errors':>8}{'app/bill':>9}{'db/bill':>8}{'others':>8}  codes")  # fmt: skip
        print(head)
        for n, r in enumerate(rows, start=1):
            codes = ", ".join(f"{k}: {v}" for k, v in r["by_code"].items())
            print(
                f"{n:<5}{r['system']:<7}{r['bills']:>7}{r['bills_per_s']:>9}{r['p50_ms'] or '-':>8}"
                f"{r['p95_ms'] or '-':>8}{r['p99_ms'] or '-':>8}{r['errors']:>8}"
                f"{r['app_ms_per_bill'] if r['app_ms_per_bill'] is not None else '-':>9}"
                f"{r['db_ms_per_bill'] if r['db_ms_per_bill'] is not None else '-':>8}"
                f"{str(r['others_pct']) + '%' if r['others_pct'] is not None else '-':>8}  {codes}"
            )
        means = {}
        for system in sides:
            mine = [r for r in rows if r["system"] == system]

            def mean(key, mine=mine):
                values = [r[key] for r in mine if r[key] is not None]
                return round(sum(values) / len(values), 2) if values else None

            means[system] = {
                "bills_per_s": mean("bills_per_s"),
                "p50_ms": pooled(runs[system], 50),
                "p95_ms": pooled(runs[system], 95),
                "p99_ms": pooled(runs[system], 99),
                "errors": sum(r["errors"] for r in mine),
                "app_ms_per_bill": mean("app_ms_per_bill"),
                "db_ms_per_bill": mean("db_ms_per_bill"),
                "others_pct": mean("others_pct"),
                **losses[system],
            }
        print()
        print(f"{'system':<7}{'bills/s':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>8}{'app/bill':>9}"
              f"{'db/bill':>8}{'others':>8}{'lost units':>12}")  # fmt: skip
        for system, m in means.items():
            print(
                f"{system:<7}{m['bills_per_s']:>9}{m['p50_ms']:>8}{m['p95_ms']:>8}{m['p99_ms']:>8}{m['errors']:>8}"
                f"{m['app_ms_per_bill'] if m['app_ms_per_bill'] is not None else '-':>9}"
                f"{m['db_ms_per_bill'] if m['db_ms_per_bill'] is not None else '-':>8}"
                f"{str(m['others_pct']) + '%' if m['others_pct'] is not None else '-':>8}{m['lost_units']:>12}"
            )
        for system, m in means.items():
            extra = ""
            if "units_in_db" in m:
                extra = (f"; its database holds {m['bills_in_db']} bills ({m['bills_acknowledged']} acknowledged)"
                         f" with {m['units_in_db']} units")  # fmt: skip
            print(
                f"  {system}: {m['units_acknowledged']} units on acknowledged bills, stock down by"
                f" {m['stock_decrease']}: {m['lost_units']} units lost over {m['products_off']} products{extra}"
            )
        for system, m in means.items():  # what a quiet machine's throughput follows; noise moves it little
            if m["app_ms_per_bill"] is not None and m["db_ms_per_bill"] is not None:
                m["cpu_ms_per_bill"] = round(m["app_ms_per_bill"] + m["db_ms_per_bill"], 2)
                print(f"  {system}: {m['cpu_ms_per_bill']} ms of CPU per bill (app + db)")
        ratio = means["ours"]["bills_per_s"] / means["seed"]["bills_per_s"] if means["seed"]["bills_per_s"] else None
        verdict = "PASS" if ratio and ratio >= TARGET_RATIO else "FAIL"
        print()
        print(f"Target: ours at least {TARGET_RATIO:g}x the seed's bills/s at C={args.clients}: {verdict}"
              f" ({ratio:.2f}x)" if ratio else "Target: no seed bills")  # fmt: skip
        print(f"Audits of ours: {'all passed' if audits_ok else 'FAILED'}")
        for c in checks:
            if not c.ok:
                print(f"  FAIL {c.name}: {c.detail}")
        results.update(runs=rows, means=means, ratio=ratio, verdict=verdict,
                       audits=[{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks])  # fmt: skip
        exit_code = 0 if audits_ok else 1
    except bench.BenchTimeout as exc:
        bench.log(str(exc))
    except Exception:
        if gunicorn is not None:
            bench.log(f"gunicorn log tail:\n{gunicorn.log_tail()}")
        raise
    finally:
        signal.alarm(0)
        if gunicorn is not None:
            gunicorn.stop()
        if created:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        if seed_admin is not None:
            seed_admin.close()
        seed_api.close()
        shutil.rmtree(logdir, ignore_errors=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
