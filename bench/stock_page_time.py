"""Where a store's stock page and its low-stock list spend their time (issue 30): the admin's
product list called in-process, as ``bench/scale.py`` times it, with one request split into the
view's CPU (without its SQL), the template's CPU and the SQL's wall time (each statement timed
around its ``execute``).

    .venv/bin/python bench/stock_page_time.py DBNAME [--calls 20] [--profile stock|low]

DBNAME is a kept chain (``bench/scale.py --keep``, or a copy of one); it is read, not migrated (run
``bench/scale.py --reuse DBNAME --only stock`` once first). ``--profile`` prints cProfile's top
functions by their own time for one page, over ``--calls`` requests.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from appenv import SqlClock, production_env

PAGES = {
    "stock": {},
    "low": {"low_stock": "yes", "is_active__exact": "1"},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--profile", choices=sorted(PAGES))
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    os.environ.update(production_env(f"{args.pg}/{args.database}"))
    os.environ["STATIC_ROOT"] = tempfile.mkdtemp(prefix="stock-page-static-")

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.template.response import SimpleTemplateResponse
    from django.test import Client

    from catalog.models import Store

    call_command("collectstatic", interactive=False, verbosity=0)
    admin = get_user_model().objects.filter(is_superuser=True, username="scale-admin").first()
    if admin is None:
        parser.error("no scale-admin user: run bench/scale.py --reuse DBNAME --only stock once first")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    store = Store.objects.get(is_default=True).pk

    sql_clock = SqlClock()
    render_cpu = [0.0]

    original_render = SimpleTemplateResponse.render

    def timed_render(self):
        t0 = time.thread_time()
        try:
            return original_render(self)
        finally:
            render_cpu[0] += time.thread_time() - t0

    SimpleTemplateResponse.render = timed_render  # type: ignore[method-assign]

    def call(params: dict) -> tuple[float, float, float, float]:
        sql_clock.reset()
        render_cpu[0] = 0.0
        wall, cpu = time.perf_counter(), time.thread_time()
        with connection.execute_wrapper(sql_clock):
            response = client.get("/admin/catalog/product/", {**params, "store": store})
        assert response.status_code == 200, response.status_code
        cpu = time.thread_time() - cpu
        wall = time.perf_counter() - wall
        return wall * 1000, (cpu - render_cpu[0]) * 1000, render_cpu[0] * 1000, sql_clock.seconds * 1000

    if args.profile:
        params = PAGES[args.profile]
        call(params)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.calls):
            call(params)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats(60)

        return 0

    print(
        f"{'page':<8}{'wall p50':>10}{'p95':>8}{'view CPU':>10}{'render CPU':>12}{'SQL':>8}{'CPU min':>9}"
        "   (ms, p50 unless said; CPU min: the least view and render CPU of a call)"
    )
    for name, params in PAGES.items():
        call(params)
        call(params)
        rows = [call(params) for _ in range(args.calls)]
        walls = sorted(r[0] for r in rows)
        p95 = walls[min(len(walls) - 1, round(0.95 * len(walls)) - 1)]
        view, render, sql = (statistics.median(r[i] for r in rows) for i in (1, 2, 3))
        least = min(r[1] + r[2] for r in rows)
        print(
            f"{name:<8}{statistics.median(walls):>10.1f}{p95:>8.1f}{view:>10.1f}{render:>12.1f}{sql:>8.1f}{least:>9.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
