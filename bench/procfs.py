"""What the benchmark reads from /proc (Linux only): gunicorn's workers, the CPU time processes
used, and which worker is in the middle of a bill, for the worker-kill fault check.

A worker is "mid-bill" when its database connection has an open transaction. We find it by
matching the worker's TCP sockets (``/proc/<pid>/fd`` and ``/proc/net/tcp``) with the client
ports of the PostgreSQL backends that are in a transaction (``pg_stat_activity``).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn master's children, found by scanning /proc for their parent pid."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after it.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == master_pid:
            pids.append(int(entry.name))
    return sorted(pids)


def cpu_seconds(pids) -> float:
    """User + system CPU time used so far by these processes (those that are gone count 0)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / ticks, sum(values) / ticks


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _local_ports_by_inode() -> dict[str, int]:
    ports = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            ports[parts[9]] = int(parts[1].rsplit(":", 1)[1], 16)
    return ports


def worker_mid_bill(db, *, dbname: str, workers: list[int]) -> tuple[int, dict] | None:
    """A worker whose database connection is inside a transaction right now, if any, with what
    its backend is doing (``state``, the start of its last ``query``, the transaction's age).

    The sockets are mapped first and the database asked last, so that the answer is as fresh as
    possible when the caller sends the signal."""
    by_inode = _local_ports_by_inode()
    worker_by_port = {by_inode[inode]: pid for pid in workers for inode in _socket_inodes(pid) if inode in by_inode}
    rows = db.execute(
        "SELECT client_port, state, left(query, 60), round(extract(epoch FROM now() - xact_start) * 1000)"
        " FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"
        " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND client_port = ANY(%s)",
        [dbname, list(worker_by_port)],
    ).fetchall()
    for port, state, query, age in rows:
        return worker_by_port[port], {"state": state, "query": query, "xact_ms": int(age)}
    return None


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def serving_pids(port: int) -> list[int]:
    """The processes that hold the listening socket of 127.0.0.1:``port`` and serve from it, for a
    server the benchmark did not start (``bench/side_by_side.py``): a pre-forking server's master and
    workers all hold it; the workers are those whose parent holds it too (the master alone when
    nothing else does)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(parts[9])
    holders = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _socket_inodes(int(entry.name)) & inodes:
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            holders[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    workers = [pid for pid, parent in holders.items() if parent in holders]
    return sorted(workers or holders)
