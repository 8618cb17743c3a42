"""Tax invoice PDFs, timed in-process: renders, reprints and invoice emails per worker.

    DATABASE_URL=postgres://… .venv/bin/python bench/invoice_pdf_bench.py [--lines 12,100,200]
        [--renders 20] [--emails 40] [--profile]

In a throwaway test database, for each size in ``--lines`` it rings up one bill of that many lines
and prints, in milliseconds:

- ``first``: the process's first render of that size (the very first one also loads the fonts);
- ``render``: the median and p95 of ``--renders`` renders of the document (``document_pdf``), wall
  clock, and the median CPU time of this process (on a busy machine wall time waits for the CPU;
  the CPU time does not);
- ``print 1``: the first print (``invoice_pdf_print``: render, store, ORIGINAL FOR RECIPIENT);
- ``reprint``: the median and p95 of later prints (the stored PDF with the DUPLICATE mark laid over).

Then ``--emails`` bills of the first size are rung up with their invoice email queued, and one
``manage.py db_worker --batch`` sends them all (the locmem mail backend): invoice emails per second
for one worker, wall clock and CPU. ``--profile`` prints cProfile's view of one render of the
largest size. The first size's bill also prints its query count, with and without the numbering
statement.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_project.settings.test")

T = TypeVar("T")


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def timed(call: Callable[[], T]) -> tuple[float, float, T]:
    """(wall ms, CPU ms, result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, result


def time_one(purchase_id: int, renders: int) -> tuple[float, list[float], list[float], bytes, float, list[float]]:
    """A bill's invoice: the first render, ``renders`` more (wall and CPU ms), the last PDF, the first
    print and ``renders`` reprints (wall ms)."""
    from purchases.documents import document_pdf, invoice_document, invoice_pdf_print
    from purchases.selectors import purchase_get

    purchase = purchase_get(purchase_id=purchase_id)
    first, _, pdf = timed(lambda: document_pdf(invoice_document(purchase)))
    walls, cpus = [], []
    for _ in range(renders):
        wall, cpu, pdf = timed(lambda: document_pdf(invoice_document(purchase)))
        walls.append(wall)
        cpus.append(cpu)
    printed = timed(lambda: invoice_pdf_print(purchase_id=purchase_id))[0]
    reprints = [timed(lambda: invoice_pdf_print(purchase_id=purchase_id))[0] for _ in range(renders)]
    return first, walls, cpus, pdf, printed, reprints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", default="12,100,200", help="comma-separated line counts (default 12,100,200)")
    parser.add_argument("--renders", type=int, default=20, help="renders and reprints timed per size (default 20)")
    parser.add_argument("--emails", type=int, default=40, help="invoice emails sent by one worker (0: none)")
    parser.add_argument("--profile", action="store_true", help="cProfile one render of the largest size")
    args = parser.parse_args()
    sizes = [int(n) for n in args.lines.split(",") if n.strip()]

    import django

    django.setup()
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, get_runner, setup_test_environment

    setup_test_environment()
    runner = get_runner(settings)(verbosity=0)
    old = runner.setup_databases()
    try:
        from pypdf import PdfReader

        from cashdrawer.tests.factories import INR, drawer_with
        from catalog.models import Product
        from purchases.documents import document_pdf, invoice_document
        from purchases.selectors import purchase_get
        from purchases.services import purchase_create

        drawer_with(dict.fromkeys(INR, 50_000))
        products = [
            Product.objects.create(
                name=f"Product {i} basmati rice premium",
                price=Decimal("99.50") + i,
                tax_percent=Decimal((5, 12, 18)[i % 3]),
                hsn_code="1006",
                stock=10**6,
            )
            for i in range(max(sizes))
        ]

        def ring_up(lines: int, *, send_invoice: bool = False):
            items: list = [{"product_id": p.pk, "quantity": 2} for p in products[:lines]]
            return purchase_create(
                customer_email="bench@example.com",
                items=items,
                paid_amount=Decimal("100000"),
                send_invoice=send_invoice,
            )

        print(f"on {connection.vendor}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start")
        print(f"{'lines':>5} {'pages':>5} {'bytes':>7} {'first':>7} {'render p50':>11} {'p95':>7} {'CPU p50':>8}"
              f" {'print 1':>8} {'reprint p50':>12} {'p95':>6}")  # fmt: skip
        for index, lines in enumerate(sizes):
            if index == 0:
                with CaptureQueriesContext(connection) as queries:
                    bill = ring_up(lines)
                numbering = [q for q in queries.captured_queries if "ON CONFLICT" in q["sql"]]
                print(f"(a {lines}-line bill: {len(queries.captured_queries)} queries, of which numbering "
                      f"{len(numbering)})")  # fmt: skip
            else:
                bill = ring_up(lines)
            first, walls, cpus, pdf, printed, reprints = time_one(bill.pk, args.renders)
            pages = len(PdfReader(io.BytesIO(pdf)).pages)
            print(
                f"{lines:>5} {pages:>5} {len(pdf):>7} {first:>7.0f} {statistics.median(walls):>11.0f}"
                f" {p95(walls):>7.0f} {statistics.median(cpus):>8.0f} {printed:>8.0f}"
                f" {statistics.median(reprints):>12.1f} {p95(reprints):>6.1f}"
            )

        if args.emails:
            lines = sizes[0]
            for _ in range(args.emails):
                ring_up(lines, send_invoice=True)
            mail.outbox = []
            wall, cpu, _ = timed(
                lambda: call_command(
                    "db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0
                )
            )
            sent = len(mail.outbox)
            print(
                f"invoice emails with a {lines}-line PDF, one worker: {sent} sent in {wall / 1000:.1f} s ="
                f" {sent / (wall / 1000):.1f} a second ({cpu / max(sent, 1):.0f} ms of CPU each)"
            )

        if args.profile:
            purchase = purchase_get(purchase_id=ring_up(max(sizes)).pk)
            document = invoice_document(purchase)
            profile = cProfile.Profile()
            profile.enable()
            document_pdf(document)
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
            print(out.getvalue())
    finally:
        runner.teardown_databases(old)


if __name__ == "__main__":
    main()
