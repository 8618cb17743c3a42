"""What the metrics add to one bill, in CPU time, measured in-process (noise on a shared machine
moves the load benchmark's bills/s far more than this).

A bill request makes these metric calls: the request counter and histogram (with the pool gauges
at most once a second), the bill counter and latency histogram, and the change-making histogram.
This times them in gunicorn's multiprocess mode (files in PROMETHEUS_MULTIPROC_DIR), the slower
mode, and prints microseconds per bill.

    .venv/bin/python bench/metrics_cost.py
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="billing-metrics-cost-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_project.settings.test")

import django  # noqa: E402

django.setup()

from billing_project.core import metrics  # noqa: E402


def one_bill() -> None:
    metrics.observe_request("POST", "purchase-list", 201, 0.012)
    metrics.observe_bill("MAIN", 0.011)
    metrics.observe_change_making(0.0002)


def main(n: int = 20000) -> None:
    for _ in range(1000):
        one_bill()
    best = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        for _ in range(n):
            one_bill()
        best = min(best, (time.process_time() - t0) / n)
    print(f"metric calls per bill (multiprocess mode): {best * 1e6:.1f} µs CPU")


if __name__ == "__main__":
    try:
        main()
    finally:
        import shutil

        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
