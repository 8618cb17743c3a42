"""Two commits side by side, A-B-B-A: the spread load at C=8, bills/s and app CPU per bill.

    .venv/bin/python bench/compare.py BEFORE AFTER            # e.g. a commit hash and HEAD
    .venv/bin/python bench/compare.py BEFORE AFTER --duration 30 --rounds 2
    .venv/bin/python bench/compare.py BEFORE AFTER --clients 1   # one client: a bill's own cost, no queueing
    make bench-compare BEFORE=<rev> [AFTER=HEAD]

Each commit is checked out (``git worktree add --detach``) in a scratch folder, and ``bench/run.py``
of that checkout runs its own code against a fresh database: ``--scenarios spread --clients 8``
(``--clients`` to change it) with a short list and pgbench (they are not compared here). The runs go
A, B, B, A (``--rounds`` repeats the four), so a drift of the machine or of PostgreSQL during the
sitting falls on both sides alike. It prints every run and each side's mean, and the change from A to B. The worktrees
are removed at the end. Run it on a quiet machine: the `others` column says how quiet it was.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def _run(checkout: Path, out: Path, duration: float, clients: int, extra: list[str]) -> dict:
    cmd = [
        sys.executable,
        str(checkout / "bench" / "run.py"),
        *("--scenarios", "spread", "--clients", str(clients), "--duration", str(duration)),
        *("--list-bills", "2000", "--list-requests", "5", "--pgbench-duration", "2"),
        *("--json", str(out)),
        *extra,
    ]
    subprocess.run(cmd, cwd=checkout, check=True, timeout=duration * 4 + 900)
    results = json.loads(out.read_text())
    spread = next(r for r in results["runs"] if r["scenario"] == "spread" and r["clients"] == clients)
    return {
        "bills_per_s": spread["bills_per_s"],
        "app_ms": spread["cpu"]["app_ms_per_bill"],
        "db_ms": spread["cpu"]["db_ms_per_req"],
        # KB of WAL per request; older commits' run.py did not measure it.
        "wal_kb": spread["cpu"].get("wal_kb_per_req"),
        "p99_ms": spread["p99_ms"],
        "others": spread["cpu"]["others_pct"],
        "audits_ok": all(a["ok"] for a in results["audits"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after", nargs="?", default="HEAD")
    parser.add_argument("--duration", type=float, default=20, help="seconds per run (default 20)")
    parser.add_argument("--rounds", type=int, default=1, help="how many A-B-B-A rounds (default 1)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients, all at one till (default 8)")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="after --: more options for bench/run.py")
    args = parser.parse_args()
    extra = [a for a in args.extra if a != "--"]
    revs = {"A": _git("rev-parse", args.before), "B": _git("rev-parse", args.after)}
    scratch = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    checkouts = {side: scratch / side for side in revs}
    try:
        for side, rev in revs.items():
            _git("worktree", "add", "--detach", str(checkouts[side]), rev)
            (checkouts[side] / ".venv").symlink_to(ROOT / ".venv")
        rows: list[tuple[str, dict]] = []
        for round_ in range(args.rounds):
            for i, side in enumerate("ABBA"):
                print(f"[compare] round {round_ + 1}, run {i + 1}: {side} = {revs[side][:10]}", flush=True)
                rows.append(
                    (
                        side,
                        _run(checkouts[side], scratch / f"run-{round_}-{i}.json", args.duration, args.clients, extra),
                    )
                )
    finally:
        for checkout in checkouts.values():
            subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, check=False)

    print(
        f"\nA = {args.before} ({revs['A'][:10]}), B = {args.after} ({revs['B'][:10]});"
        f" spread C={args.clients}, {args.duration:g} s"
    )
    print(
        f"{'run':<5}{'side':<6}{'bills/s':>9}{'app ms':>8}{'db ms':>7}{'WAL KB':>8}{'p99 ms':>8}{'others':>8}  audits"
    )
    for n, (side, r) in enumerate(rows, start=1):
        audits = "ok" if r["audits_ok"] else "FAILED"
        print(
            f"{n:<5}{side:<6}{r['bills_per_s']:>9}{r['app_ms']:>8}{r['db_ms']:>7}{r['wal_kb'] or '-':>8}"
            f"{r['p99_ms']:>8}{r['others']:>7}%  {audits}"
        )
    means = {
        side: {k: statistics.mean(r[k] for s, r in rows if s == side) for k in ("bills_per_s", "app_ms", "db_ms")}
        for side in "AB"
    }
    for key, label in (("bills_per_s", "bills/s"), ("app_ms", "app CPU ms per bill"), ("db_ms", "db CPU ms per bill")):
        a, b = means["A"][key], means["B"][key]
        print(f"{label:<22} A {a:8.2f}   B {b:8.2f}   B/A {b / a - 1:+.1%}")
    return 0 if all(r["audits_ok"] for _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
