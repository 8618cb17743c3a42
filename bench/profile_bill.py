"""Where does a bill's time go? Profile ``POST /api/v1/purchases`` in-process, with the production
settings on a fresh PostgreSQL database: queries per request (and their SQL), time in SQL vs
Python, and the hottest functions (cProfile). Also the bill list's queries.

    .venv/bin/python bench/profile_bill.py [--bills 300] [--sql] [--top 25]
        [--cashier] [--idempotency] [--close-connections] [--request-only] [--save bills.prof]
        [--keep DBNAME]

``--keep DBNAME`` names the database and keeps it, for ``bench/statement_cpu.py`` (with ``--sql``
and ``PROFILE_SQL_CHARS=100000``, which prints the bill's statements whole).

Like run.py it creates its own database on 127.0.0.1 and drops it at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from appenv import SqlClock, migrated_database
from inprocess_shop import bill_body as shop_bill_body
from inprocess_shop import seed_products, superuser, token_client

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bills", type=int, default=300)
    p.add_argument("--pages", type=int, default=30, help="list pages timed")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--sql", action="store_true", help="print one bill's SQL")
    p.add_argument("--cashier", action="store_true", help="ring up as a user with the Cashier role, not a superuser")
    p.add_argument(
        "--close-connections",
        action="store_true",
        help="after each request, hand the database connection back as the WSGI handler does (the test client "
        "keeps it): the pool's checkout, health check and return are then in the figures",
    )
    p.add_argument("--idempotency", action="store_true", help="send each bill with an Idempotency-Key, as tills do")
    p.add_argument(
        "--request-only",
        action="store_true",
        help="profile the request layer only: the service call (purchase_create) is left out of the profile",
    )
    p.add_argument("--save", metavar="FILE", help="also write the bills' raw profile to FILE (pstats), to dig into")
    p.add_argument("--keep", metavar="DBNAME", help="name the database DBNAME and keep it (bench/statement_cpu.py)")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    args = p.parse_args()
    parts = urlsplit(args.pg)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        p.error("only 127.0.0.1")
    with migrated_database(args.pg, args.keep or f"billing_profile_{os.getpid()}", keep=bool(args.keep)):
        return profile(args)


def profile(args) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rng = random.Random(6)
    products = seed_products(rng)
    user = superuser()
    if args.cashier:
        from billing_project.core.roles import CASHIER, role_assign, roles_setup

        roles_setup()
        user = get_user_model().objects.create_user("till", "till@example.com", secrets.token_urlsafe(20))
        role_assign(user=user, role=CASHIER)
    client = token_client(user)

    def bill_body():
        return shop_bill_body(rng, products)

    from django.db import close_old_connections

    def post():
        headers = {"Idempotency-Key": secrets.token_hex(16)} if args.idempotency else {}
        r = client.post("/api/v1/purchases", bill_body(), content_type="application/json", headers=headers)
        assert r.status_code == 201, (r.status_code, r.content[:300])
        if args.close_connections:
            close_old_connections()  # what request_finished does under gunicorn
        return r

    for _ in range(20):
        post()

    with CaptureQueriesContext(connection) as ctx:
        post()
    print(f"POST /api/v1/purchases: {len(ctx.captured_queries)} queries")
    if args.sql:
        for q in ctx.captured_queries:
            print(f"  {q['time']}s  {q['sql'][: int(os.environ.get('PROFILE_SQL_CHARS', '300'))]}")

    # Wall time split between SQL round trips and everything else.
    timer = SqlClock()

    # Three batches; the least CPU per bill is the least disturbed by whatever else the machine runs.
    batch = max(1, args.bills // 3)
    wall = cpu = float("inf")
    for _ in range(3):
        timer.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(timer):
            for _ in range(batch):
                post()
        if time.process_time() - c0 < cpu:
            wall, cpu, sql = time.perf_counter() - t0, time.process_time() - c0, timer.seconds
    print(
        f"POST: {wall / batch * 1000:.1f} ms per bill, of which {sql / batch * 1000:.1f} ms waiting on SQL;"
        f" {cpu / batch * 1000:.1f} ms of Python CPU (best of 3 batches of {batch}; in-process, one client)"
    )
    profiler = cProfile.Profile()
    if args.request_only:
        import purchases.api

        service = purchases.api.purchase_create

        def unprofiled_service(**kwargs):
            profiler.disable()
            try:
                return service(**kwargs)
            finally:
                profiler.enable()

        purchases.api.purchase_create = unprofiled_service
    profiler.enable()
    for _ in range(args.bills):
        post()
    profiler.disable()
    if args.request_only:
        purchases.api.purchase_create = service
        print("(--request-only: the figures below leave out purchase_create)")
    if args.save:
        profiler.dump_stats(args.save)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    # total_calls is set by pstats.Stats at load; typeshed does not declare it.
    calls = stats.total_calls  # type: ignore[attr-defined]
    print(f"POST: {calls / args.bills:,.0f} Python calls per bill (a CPU proxy immune to noise)")
    # The project's own functions first (not the virtualenv's), then everything by own time.
    stats.sort_stats("cumulative").print_stats(rf"^{re.escape(str(ROOT))}/(?!\.venv)", args.top)
    stats.strip_dirs().sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    print(out.getvalue().replace(str(ROOT) + "/", ""))

    page = "/api/v1/purchases?page_size=100"
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(page)
    assert r.status_code == 200
    print(f"GET {page}: {len(ctx.captured_queries)} queries")
    if args.sql:
        for q in ctx.captured_queries:
            print(f"  {q['time']}s  {q['sql'][: int(os.environ.get('PROFILE_SQL_CHARS', '300'))]}")
    wall = cpu = float("inf")
    for _ in range(3):
        timer.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(timer):
            for _ in range(args.pages):
                assert client.get(page).status_code == 200
        if time.process_time() - c0 < cpu:
            wall, cpu, sql = time.perf_counter() - t0, time.process_time() - c0, timer.seconds
    print(
        f"GET: {wall / args.pages * 1000:.1f} ms per page of 100 bills, of which {sql / args.pages * 1000:.1f} ms"
        f" waiting on SQL; {cpu / args.pages * 1000:.1f} ms of Python CPU (best of 3 batches of {args.pages})"
    )
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.pages):
        client.get(page)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    calls = stats.total_calls  # type: ignore[attr-defined]
    print(f"GET: {calls / args.pages:,.0f} Python function calls per page")
    stats.sort_stats("cumulative").print_stats(rf"^{re.escape(str(ROOT))}/(?!\.venv)", args.top)
    stats.strip_dirs().sort_stats("tottime").print_stats(args.top)
    print(out.getvalue().replace(str(ROOT) + "/", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
