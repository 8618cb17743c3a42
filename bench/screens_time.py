"""Screens outside ``make bench-scale``'s table, timed on a chain it kept: the admin's home page (its
low stock over every store) and the lists a manager pages through (products, customers, the stock
ledger and counts, refunds) and deep pages of them. In-process, as ``scale.py``
times its cases (production settings, the head office superuser), from a warm cache: the first call,
then the median of five more (a call over 5 s is not repeated).

    .venv/bin/python bench/screens_time.py <database kept by bench/scale.py --keep> [path ...]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from appenv import production_env  # noqa: E402

PATHS = [
    "/admin/",
    "/admin/catalog/product/?p=400",
    "/admin/catalog/product/?low_stock=yes&is_active__exact=1",
    "/admin/catalog/stockcount/",
    "/api/v1/refunds?page=800",
    "/admin/customers/customer/",
    "/admin/customers/customer/?p=500",
    "/api/v1/customers",
    "/api/v1/customers?page=2000",
    "/admin/catalog/stockmovement/",
    "/admin/catalog/stockmovement/?store__id__exact=1",
    "/admin/purchases/refund/",
    "/admin/purchases/refund/?p=200",
    "/admin/cashdrawer/tillsession/",
    "/admin/catalog/receipt/",
    # The bills of a year and of a month, chosen in the date bar (their totals sum those bills).
    f"/admin/purchases/purchase/?created_at__year={date.today().year}",
    f"/admin/purchases/purchase/?created_at__month={date.today().month}&created_at__year={date.today().year}",
]


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    os.environ.update(production_env(f"postgres://postgres@127.0.0.1:5432/{sys.argv[1]}"))
    os.environ["STATIC_ROOT"] = tempfile.mkdtemp(prefix="screens-static-")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import close_old_connections
    from scale import clients

    call_command("collectstatic", interactive=False, verbosity=0)
    users = clients()
    for path in sys.argv[2:] or PATHS:
        client = users["api" if path.startswith("/api/") else "admin"]
        times = []
        for _ in range(6):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            close_old_connections()
            if times[-1] > 5000:
                break
        rest = statistics.median(times[1:] or times)
        print(f"{path:55s} {response.status_code}  first {times[0]:9.1f}  then {rest:9.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
