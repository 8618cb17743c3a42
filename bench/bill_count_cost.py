"""What the bill list's count costs a bill (issue 30): a bill's INSERT into ``purchases_purchase``,
timed by the server (``EXPLAIN (ANALYZE)``'s execution time, AFTER triggers included) with the
``BillCount`` trigger, without it, and without it but with the customer's own index back (the
state before migration purchases 0033 as far as the bill's row goes), each insert rolled back.

    .venv/bin/python bench/bill_count_cost.py NAME [--inserts 400]

NAME is a migrated database with bills and stores (``bench/lookup_bench.py --keep``). Nothing is
kept: the variants run in one transaction, rolled back at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

import psycopg


def insert_sql(db) -> str:
    """A copy of a bill as a new row: every column but its id and number (a fresh one)."""
    columns = [
        row[0]
        for row in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'purchases_purchase'"
            " AND column_name NOT IN ('id', 'number') ORDER BY ordinal_position"
        )
    ]
    names = ", ".join(columns)
    return (
        f"EXPLAIN (ANALYZE, FORMAT JSON) INSERT INTO purchases_purchase ({names}, number)"  # noqa: S608
        f" SELECT {names}, 'Z/9999/' || lpad(%s::text, 6, '0') FROM purchases_purchase WHERE id = %s"
    )


def timed(db, inserts: int, sample: int) -> tuple[float, float]:
    """Median server time of one bill's INSERT, and of the count trigger within it (ms)."""
    sql = insert_sql(db)
    total, trigger = [], []
    for n in range(inserts):
        db.execute("SAVEPOINT one")
        row = db.execute(sql, [n, sample]).fetchone()
        assert row is not None
        plan = row[0][0]
        db.execute("ROLLBACK TO SAVEPOINT one")
        total.append(plan["Execution Time"])
        trigger.append(
            sum(t["Time"] for t in plan.get("Triggers", []) if t["Trigger Name"].startswith("purchase_count"))
        )
    return statistics.median(total[inserts // 10 :]), statistics.median(trigger[inserts // 10 :])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name")
    p.add_argument("--inserts", type=int, default=400)
    p.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    args = p.parse_args()
    with psycopg.connect(f"{args.pg}/{args.name}") as db:
        found = db.execute("SELECT max(id) FROM purchases_purchase WHERE customer_id IS NOT NULL").fetchone()
        assert found is not None
        sample = found[0]
        rows = [("with the count trigger (as migrated)", *timed(db, args.inserts, sample))]
        db.execute("ALTER TABLE purchases_purchase DISABLE TRIGGER purchase_count_insert")
        rows.append(("without it", *timed(db, args.inserts, sample)))
        db.execute("CREATE INDEX bench_customer_fk ON purchases_purchase (customer_id)")
        rows.append(("without it, with the customer's own index", *timed(db, args.inserts, sample)))
        db.rollback()
    print(f"A bill's INSERT, median server time of {args.inserts} (the first tenth left out), ms")
    for name, total, trigger in rows:
        print(f"{name:<44}{total:>8.3f}   trigger {trigger:.3f}")
    print(json.dumps([{"variant": r[0], "insert_ms": r[1], "trigger_ms": r[2]} for r in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
