"""The PostgreSQL CPU of each of a bill's statements, two or more versions interleaved bill by bill.

    .venv/bin/python bench/profile_bill.py --bills 300 --sql --keep prof_a > a.txt   # PROFILE_SQL_CHARS=100000
    (the same at the other commit, into prof_b and b.txt)
    .venv/bin/python bench/statement_cpu.py --rounds 500 prof_a:a.txt prof_b:b.txt

Each ``DB:FILE`` is a database kept by ``profile_bill.py --keep`` and the bill's statements it printed
(run it with ``PROFILE_SQL_CHARS=100000`` so they are whole). The statements of one bill are sent again
as they were printed (text with its values, BEGIN to COMMIT: each bill commits) ``--rounds`` times, the
versions taking turns bill by bill, and the backend's own CPU time around each statement is read from
``/proc/<pid>/schedstat`` (nanoseconds): a neighbour's load slows both versions alike, and the client's
work is not counted. It prints each version's mean per statement and in all. A task's UUID is made new
for each bill, and the drawers are filled again every 200 bills. Only 127.0.0.1, and only databases
kept for this. This is how issue 29's last regression was found: it tells 0.05 ms apart where the
load bench (``compare.py``) needs several rounds to.
"""

from __future__ import annotations

import argparse
import re
import statistics
import uuid
from pathlib import Path

import psycopg

_QUERY_LINE = re.compile(r"\s+[0-9.]+s\s+(.*)")
_TASK_UUID = re.compile(r"[0-9a-f]{32}(?=.::uuid)")


def bill_statements(text: str) -> list[str]:
    """The statements profile_bill.py printed for the bill (``POST /api/v1/purchases``)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("POST /api/v1/purchases"))
    statements = []
    for line in lines[start + 1 :]:
        match = _QUERY_LINE.match(line)
        if not match:
            break
        statements.append(match.group(1))
    return statements


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("versions", nargs="+", metavar="DB:FILE")
    p.add_argument("--rounds", type=int, default=500)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    args = p.parse_args()
    if "127.0.0.1" not in args.pg and "localhost" not in args.pg:
        p.error("only 127.0.0.1")
    versions = []
    for spec in args.versions:
        db, _, file = spec.partition(":")
        versions.append((db, Path(file).name, bill_statements(Path(file).read_text())))
    # No server-side prepared statements, as the app (PgBouncer in transaction mode cannot keep them).
    connections = {
        db: psycopg.connect(f"{args.pg}/{db}", autocommit=True, prepare_threshold=None) for db, _, _ in versions
    }

    def cpu_ns(conn: psycopg.Connection) -> int:
        return int(Path(f"/proc/{conn.info.backend_pid}/schedstat").read_text().split()[0])

    spent: list[list[list[float]]] = [[[] for _ in statements] for _, _, statements in versions]
    for bill in range(args.warmup + args.rounds):
        if bill % 200 == 0:
            for conn in connections.values():
                conn.execute("UPDATE cashdrawer_denomination SET count = 50000")
        for k, (db, _, statements) in enumerate(versions):
            conn = connections[db]
            for i, sql in enumerate(statements):
                sql = _TASK_UUID.sub(lambda _: uuid.uuid4().hex, sql)
                before = cpu_ns(conn)
                conn.execute(sql)
                if bill >= args.warmup:
                    spent[k][i].append((cpu_ns(conn) - before) / 1e6)
    for (db, name, statements), per_statement in zip(versions, spent, strict=True):
        means = [statistics.mean(ms) for ms in per_statement]
        print(f"{db}:{name}  {sum(means):.3f} ms a bill")
        for sql, ms in zip(statements, means, strict=True):
            print(f"  {ms:7.3f}  {sql[:90]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
