"""What the bill's prepared statements save (``DB_PREPARED_STATEMENTS``): bills posted in-process
(``POST /api/v1/purchases`` through Django's test client, the production settings, a fresh
PostgreSQL database), taking turns bill by bill with the setting on and off on one connection. For
each bill it reads the PostgreSQL backend's own CPU time (``/proc/<pid>/schedstat``) and this
process's (the app's), so a neighbour's load slows both sides alike.

    .venv/bin/python bench/prepared_cost.py [--bills 600]

Only 127.0.0.1; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from appenv import migrated_database
from inprocess_shop import bill_body, seed_products, superuser, token_client

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 40  # bills each way before the figures: psycopg prepares at the 6th, PostgreSQL plans 5 more


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bills", type=int, default=600, help="bills timed, half each way (default 600)")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    args = p.parse_args()
    if urlsplit(args.pg).hostname not in ("127.0.0.1", "localhost"):
        p.error("only 127.0.0.1")
    with migrated_database(args.pg, f"billing_prepared_{os.getpid()}"):
        return measure(args.bills)


def backend_cpu_ms(pid: int) -> float:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e6


def measure(bills: int) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    rng = random.Random(6)
    products = seed_products(rng)
    client = token_client(superuser())
    connection.ensure_connection()
    connection.connection.prepare_threshold = 5  # as the settings set it at connect
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()

    def post() -> None:
        r = client.post("/api/v1/purchases", bill_body(rng, products), content_type="application/json")
        assert r.status_code == 201, (r.status_code, r.content[:300])

    figures: dict[bool, dict[str, list[float]]] = {side: {"db": [], "app": []} for side in (False, True)}
    for n in range(2 * WARM_UP + bills):
        prepared = bool(n % 2)
        settings.DB_PREPARED_STATEMENTS = prepared
        db0, app0 = backend_cpu_ms(pid), time.process_time()
        post()
        if n >= 2 * WARM_UP:
            figures[prepared]["db"].append(backend_cpu_ms(pid) - db0)
            figures[prepared]["app"].append((time.process_time() - app0) * 1000)
    print(f"{bills} bills, taking turns (PostgreSQL backend's CPU and this process's, ms per bill)")
    print(f"{'':24}{'db median':>10}{'db mean':>10}{'app median':>12}{'app mean':>10}")
    for prepared in (False, True):
        db, app = figures[prepared]["db"], figures[prepared]["app"]
        label = "prepared statements" if prepared else "planned every time"
        print(
            f"{label:24}{statistics.median(db):10.3f}{statistics.mean(db):10.3f}"
            f"{statistics.median(app):12.3f}{statistics.mean(app):10.3f}"
        )
    before, after = (statistics.mean(figures[side]["db"]) for side in (False, True))
    print(f"database CPU per bill: {100 * (after / before - 1):+.1f} %")
    before, after = (statistics.mean(figures[side]["app"]) for side in (False, True))
    print(f"app CPU per bill: {100 * (after / before - 1):+.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
