"""How long the admin's Sales page takes to gather its figures: the five reports it runs (by day,
hour, product, payment method and tax rate), timed in-process on a database filled by
``report_bench.py --keep``.

    .venv/bin/python bench/report_bench.py --bills 100000 --refunds 5000 --runs 1 --record-runs 1 --keep
    DATABASE_URL=<the printed URL> .venv/bin/python bench/sales_dashboard_time.py [--runs 3]

Prints the wall-clock p50 and the Python CPU p50 of one page's reports for the last 30 days (the
page's default) and the last 366 days (the longest range). Drop the database afterwards.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to the PostgreSQL database report_bench.py --keep printed")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_project.settings.local")
    os.environ.setdefault("DEBUG", "False")  # no query log in memory

    import django

    django.setup()
    from django.utils import timezone

    from purchases.sales_dashboard import _blocks

    today = timezone.localdate()
    for days in (30, 366):
        params = {"date_from": today - timedelta(days=days - 1), "date_to": today, "till": None}
        _blocks(params)  # warm-up
        walls, cpus = [], []
        for _ in range(args.runs):
            wall, cpu = time.perf_counter(), time.process_time()
            _blocks(params)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        print(
            f"Sales page reports, {days:3} days: wall p50 {statistics.median(walls):6.0f} ms, "
            f"Python CPU p50 {statistics.median(cpus):5.0f} ms ({args.runs} runs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
