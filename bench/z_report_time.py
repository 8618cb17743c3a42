"""How long a till session's X/Z report figures take (``cashdrawer.selectors``' report of a session,
``session_figures``) for a session of ``--bills`` bills, on a database ``report_bench.py --keep``
filled: the newest bills of one till are moved into that till's open session, then the figures are
computed ``--runs`` times after a warm-up. Prints p50 and p95 against issue 30's budget (200 ms).

    DATABASE_URL=<the printed URL> .venv/bin/python bench/z_report_time.py [--bills 2000] [--runs 30]

The bench's bills move no drawer notes, so the drawer part of the report reads no ledger rows; the
bills, payments, tax rates and refunds parts read what a real session's would.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BUDGET_MS = 200.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bills", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to the PostgreSQL database report_bench.py --keep printed")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_project.settings.local")
    os.environ.setdefault("DEBUG", "False")  # no query log in memory

    import django

    django.setup()
    from cashdrawer.models import TillSession
    from cashdrawer.reports import session_figures
    from purchases.models import Purchase

    session = TillSession.objects.filter(closed_at__isnull=True).order_by("pk").first()
    assert session is not None, "no open session: fill the database with report_bench.py --keep"
    newest = Purchase.objects.filter(till_id=session.till_id).order_by("-pk").values("pk")[: args.bills]
    moved = Purchase.objects.filter(pk__in=list(newest.values_list("pk", flat=True))).update(session=session)
    session_figures(session)  # warm-up
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        session_figures(session)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p50, p95 = statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    verdict = "OK" if p95 <= BUDGET_MS else "MISS"
    print(f"Z report figures of a session of {moved:,} bills: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({args.runs} runs)")
    print(f"budget p95 <= {BUDGET_MS:.0f} ms: {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
