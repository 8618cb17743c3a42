"""What a worker's cached report by product costs once the seal has moved past the rows it cached
(``purchases/report_cache.py``), on a chain kept by ``scale.py --keep``:

    .venv/bin/python bench/report_cache_lag.py --reuse DBNAME [--lags 0,1000,2000,5000] [--calls 7]

For 30 days of every store and of one store, through the API as ``scale.py`` times them: the report
read afresh (the cache emptied before each call), then from the cache with the seal N bills (and
N/100 refunds) past the cached rows, for each N of ``--lags``. The chain has no bills past its seal,
so a lag is made by lowering the cached rows' ids: the report then reads those N bills raw, as it
would once N new bills were sealed (its sums count them twice, which this bench does not look at).
``REPORT_CACHE_LAG_BILLS`` is lifted for the run. Prints p50 and the slowest call in milliseconds.
"""

import argparse
import os
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from appenv import production_env

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reuse", metavar="DBNAME", required=True, help="a chain kept by scale.py --keep")
    p.add_argument("--lags", default="0,1000,2000,5000", help="bills past the cached rows' seal")
    p.add_argument("--calls", type=int, default=7)
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    args = p.parse_args(argv)
    parts = urlsplit(args.pg)
    if parts.hostname not in {"127.0.0.1", "localhost"}:
        p.error("the benchmark only targets 127.0.0.1")
    lags = [int(lag) for lag in args.lags.split(",")]
    os.environ.update(production_env(urlunsplit((parts.scheme, parts.netloc, f"/{args.reuse}", "", ""))))
    os.environ["REPORT_CACHE_LAG_BILLS"] = str(max(lags))

    import django

    django.setup()
    from django.utils import timezone
    from scale import clients

    from billing_project.core import collector
    from purchases import report_cache

    collector.worker_started()
    api = clients()["api"]
    today = timezone.localdate()
    month = {"group_by": "product", "date_from": str(today - timedelta(days=29)), "date_to": str(today)}

    def timed(params) -> float:
        t0 = time.perf_counter()
        response = api.get("/api/v1/reports/sales", params)
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, response.content[:300]
        collector.request_done()
        return elapsed

    def line(label: str, samples: list[float]) -> None:
        samples.sort()
        print(f"{label:<52} {samples[len(samples) // 2]:8.1f} {samples[-1]:8.1f}", flush=True)

    print(f"{'30 d by product':<52} {'p50 ms':>8} {'max ms':>8}")
    for name, params in (("every store", month), ("one store", {**month, "store": 1})):
        fresh = []
        for _ in range(args.calls):
            report_cache.written_reports.clear()
            fresh.append(timed(params))
        line(f"{name}, read afresh", fresh)
        timed(params)
        cache = report_cache.written_reports
        held = {key: rolled for key in cache.keys_by_use() if (rolled := cache.get(key)) is not None}
        for lag in lags:
            samples = []
            for _ in range(args.calls):
                report_cache.written_reports.clear()
                for key, rolled in held.items():
                    bills, refunds = rolled.bills_through - lag, rolled.refunds_through - lag // 100
                    report_cache.written_reports.put(key, replace(rolled, bills_through=bills, refunds_through=refunds))
                samples.append(timed(params))
            line(f"{name}, cached, the seal {lag:,} bills past it", samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
