"""Time to render one tax invoice PDF (issue 13): median and p95 over N renders of a real bill.

    DATABASE_URL=postgres://… .venv/bin/python bench/invoice_pdf_bench.py [--renders 50] [--lines 12]

Rings up one bill of ``--lines`` lines in a throwaway test database, then renders its invoice
``--renders`` times (the first render, which loads fonts, is reported apart). Also prints the bill
request's query count with and without the numbering statement.
"""

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_project.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument("--lines", type=int, default=12)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, get_runner, setup_test_environment

    setup_test_environment()
    runner = get_runner(settings)(verbosity=0)
    old = runner.setup_databases()
    try:
        from cashdrawer.tests.factories import INR, drawer_with
        from catalog.models import Product
        from purchases.documents import document_pdf, invoice_document
        from purchases.selectors import purchase_get
        from purchases.services import purchase_create

        drawer_with(dict.fromkeys(INR, 100))
        products = [
            Product.objects.create(
                name=f"Product {i}", price=Decimal("99.50") + i, tax_percent=Decimal((5, 12, 18)[i % 3]), stock=10**6
            )
            for i in range(args.lines)
        ]
        items: list = [{"product_id": p.pk, "quantity": 2} for p in products]
        with CaptureQueriesContext(connection) as queries:
            bill = purchase_create(customer_email="bench@example.com", items=items, paid_amount=Decimal("100000"))
        numbering = [q for q in queries.captured_queries if "ON CONFLICT" in q["sql"]]
        print(f"bill: {len(queries.captured_queries)} queries, of which numbering {len(numbering)}")
        purchase = purchase_get(purchase_id=bill.pk)
        started = time.perf_counter()
        document_pdf(invoice_document(purchase))
        print(f"first render (loads fonts): {(time.perf_counter() - started) * 1000:.0f} ms")
        times = []
        for _ in range(args.renders):
            started = time.perf_counter()
            pdf = document_pdf(invoice_document(purchase))
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(
            f"{args.renders} renders of a {args.lines}-line invoice ({len(pdf)} bytes): "
            f"median {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, on {connection.vendor}"
        )
    finally:
        runner.teardown_databases(old)


if __name__ == "__main__":
    main()
