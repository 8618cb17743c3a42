"""The scale-out rehearsal (``make cluster-check``): the chain deployment of docs/operations.md, on this
machine, on 127.0.0.1 only, with faults.

    8 till clients -> HAProxy (/healthz checks) -> 2 gunicorn nodes -> PgBouncer (transaction mode)
    -> PostgreSQL;  2 db_workers -> PgBouncer;  invoices and refund receipts -> a local SMTP sink

It creates 8 tills, each with its own drawer, in two stores of four (the default store and a
branch, ``bench/chain.py``); every bill names a till in turn, one bill in 10 is refunded (one unit,
cash out of the same till), and goods are sent between the stores and received (some a unit short)
throughout. Under load it SIGKILLs one app node, restarts it and checks it rejoins, SIGKILLs one
invoice worker, then audits stock (in all and per store), each till's drawer and ledger, the
transfers, the store boundary (a branch manager sees none of the main store's rows), every bill and
refund, every invoice and refund receipt (counted apart by Message-ID), and prints PASS or FAIL.
Every bill, refund and transfer carries an ``Idempotency-Key`` and is retried with it when it got no
answer (or a 502/503 from the proxy, or 409 ``idempotency_in_progress``), as a real till does; after
the node kill no till may wait more than 2 s for its answer (the dead node's transactions rolled
back and released their keys). The emails' outbox must then drain within a deadline sized from its
backlog and the send rate measured during the load. It also shows the app is safe behind PgBouncer
in transaction mode: ``lock_timeout`` still applies per transaction, and no session setting leaks
from one transaction to the next server connection.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import http.client
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from appenv import production_env
from audit import Check, run_audits, stock_audit_check
from chain import (
    TransferThread,
    away_from_the_stores,
    boundary_check,
    make_branch,
    move_tills,
    stock_the_branch,
    store_stock_checks,
    wait_stopped,
)
from loadgen import REFUND_EVERY, Api, BillMaker, Result, RunStats, pieces, refund_request, refund_result, signature
from run import LOCALHOST, db_url, drawer_audit_cmd, free_port, manage, seed, seed_tills

ROOT = Path(__file__).resolve().parent.parent
PGBOUNCER = "/usr/sbin/pgbouncer"
RETRYABLE_STATUS = {502, 503, 504}
BILL_RETRY_SECONDS = 30  # a till gives up on a bill after this long (none should come near it)
FAILOVER_WAIT_LIMIT = 2.0  # seconds from a retried request's first try to its answer, after the node kill
INVOICE_BACKOFF_SECONDS = 5
# The outbox must drain within DRAIN_SAFETY x (emails left at the end of the load / the send rate
# measured during it), and never less than DRAIN_FLOOR_SECONDS: the deadline follows the machine's
# speed and the backlog, so a slower machine or a longer load still passes if nothing is stuck.
DRAIN_SAFETY = 2.0
DRAIN_FLOOR_SECONDS = 60.0
AUDIT_SECONDS = 300  # after the drain, for the audits, probes and scrapes (the budget is extended by the drain)
PENDING_JOBS = "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING')"
EMAILS_LEFT = (
    "SELECT (SELECT count(*) FROM purchases_purchase WHERE invoice_status = 'pending')"
    " + (SELECT count(*) FROM purchases_refund r JOIN purchases_purchase p ON p.id = r.purchase_id"
    " WHERE r.receipt_sent_at IS NULL AND p.invoice_status <> 'skipped')"
)


class CheckTimeout(Exception):
    pass


def log(msg: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="admin URL of the PostgreSQL server, on 127.0.0.1 (env BENCH_PG_URL)",
    )
    p.add_argument("--tills", type=int, default=8, help="concurrent tills (default 8)")
    p.add_argument("--duration", type=float, default=40.0, help="seconds of load (default 40)")
    p.add_argument("--workers-per-node", type=int, default=2, help="gunicorn workers per app node (default 2)")
    p.add_argument("--budget", type=int, default=900,
                   help="time limit in seconds (default 900), extended by the outbox's drain deadline")  # fmt: skip
    p.add_argument("--seed", type=int, default=15)
    p.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with every log")
    args = p.parse_args(argv)
    if urlsplit(args.pg).hostname not in LOCALHOST:
        p.error("the check only targets 127.0.0.1")
    if not 1 <= args.tills <= 32:
        p.error("--tills must be between 1 and 32")
    return args


# --- packages --------------------------------------------------------------------------------------


def ensure_packages() -> None:
    missing = [pkg for pkg, path in (("haproxy", shutil.which("haproxy")), ("pgbouncer", PGBOUNCER)) if not path or
               not Path(path).exists()]  # fmt: skip
    if not missing:
        return
    if os.geteuid() != 0:
        raise RuntimeError(f"missing Debian packages {missing}: run `sudo apt-get install {' '.join(missing)}`")
    log(f"installing {', '.join(missing)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env, timeout=300, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", *missing], check=True, env=env, timeout=600, capture_output=True)
    # Debian starts the packaged services; this check runs its own copies on ports of its own.
    for service in missing:
        subprocess.run(["service", service, "stop"], capture_output=True, timeout=60)


# --- processes -------------------------------------------------------------------------------------


class Proc:
    """A process in its own session, so that it and its children stop together."""

    def __init__(self, name: str, cmd: list[str], *, env: dict, logdir: Path, cwd: Path = ROOT, user: str = ""):
        self.name = name
        self.log_path = logdir / f"{name}.log"
        self.log_file = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True,
            user=user or None,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean shutdown."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        self.log_file.close()

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def healthy(port: int) -> bool:
    try:
        status, _ = Api(port, timeout=2).request("GET", "/healthz")
        return status == 200
    except OSError:
        return False


# --- PgBouncer and HAProxy -------------------------------------------------------------------------


def pgbouncer_config(tmp: Path, *, port: int, dbname: str, pg: str) -> Path:
    parts = urlsplit(pg)
    (tmp / "userlist.txt").write_text(f'"{parts.username or "postgres"}" ""\n')
    ini = tmp / "pgbouncer.ini"
    ini.write_text(
        f"""[databases]
{dbname} = host={parts.hostname} port={parts.port or 5432} dbname={dbname}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {tmp / "userlist.txt"}
admin_users = {parts.username or "postgres"}
; Transaction mode: a server connection serves one transaction, then another client's. The app
; keeps no session state: timeouts are SET LOCAL (set_config(..., true)), there are no prepared
; statements (psycopg's client-side binding cursors) and no server-side cursors.
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
reserve_pool_size = 5
server_check_query = select 1
ignore_startup_parameters = extra_float_digits
"""
    )
    for path in (tmp, tmp / "userlist.txt", ini):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return ini


def haproxy_config(tmp: Path, *, port: int, nodes: list[int]) -> Path:
    servers = "\n".join(f"    server node{i + 1} 127.0.0.1:{p} check" for i, p in enumerate(nodes))
    cfg = tmp / "haproxy.cfg"
    cfg.write_text(
        f"""global
    maxconn 1000
    stats socket {tmp / "haproxy.sock"} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    # A health check waits behind the bills in a busy node's accept queue (sync workers): give it
    # time, or a loaded node is taken out for being busy.
    timeout check 3s
    timeout client 40s
    timeout server 40s
    # Retries only when the connection could not be made: nothing was sent, so even a POST is safe.
    retries 2
    option redispatch

frontend tills
    bind 127.0.0.1:{port}
    default_backend app

backend app
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
{servers}
"""
    )
    return cfg


def haproxy_servers(sock: Path) -> dict[str, dict]:
    """``show stat`` on the admin socket: {server: {status, stot, ...}}."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        s.connect(str(sock))
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    out = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == "app" and row.get("svname") not in ("FRONTEND", "BACKEND"):
            out[row["svname"]] = row
    return out


# --- the SMTP sink ---------------------------------------------------------------------------------


class SmtpSink:
    def __init__(self):
        self.lock = threading.Lock()
        self.message_ids: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.message_ids.append(str(message["Message-ID"]))
        return "250 2.0.0 OK: queued"


def message_kind(message_id: str) -> tuple[str, int | None]:
    """("invoice", bill id) for <invoice-<bill>.<round>@domain>, ("refund", refund id) for a refund
    receipt's <refund-<refund>@domain>, ("other", None) for anything else."""
    head = message_id.strip("<>").split("@")[0]
    if head.startswith("invoice-"):
        return "invoice", int(head.removeprefix("invoice-").split(".")[0])
    if head.startswith("refund-") and head.removeprefix("refund-").isdigit():
        return "refund", int(head.removeprefix("refund-"))
    return "other", None


# --- the tills -------------------------------------------------------------------------------------


def post(conn: http.client.HTTPConnection, path: str, body: dict, headers: dict):
    conn.request("POST", path, body=json.dumps(body).encode(), headers=headers)
    response = conn.getresponse()
    raw = response.read()
    if response.will_close:
        conn.close()
    payload = json.loads(raw) if response.getheader("Content-Type", "").startswith("application/json") else {}
    return response.status, payload, response


@dataclass
class Answered:
    status: int  # 0: gave up
    code: str
    payload: dict
    attempts: int
    replayed: bool
    retried_after: list[str]  # why each retry was needed: "RemoteDisconnected", "502", "409 idempotency_in_progress"


def post_answered(conn: http.client.HTTPConnection, path: str, body: dict, key: str, headers: dict) -> Answered:
    """POST until a definite answer: a request that got no answer, a 502/503/504 from the proxy or
    ``409 idempotency_in_progress`` is sent again with the same key and body, up to
    BILL_RETRY_SECONDS."""
    give_up = time.perf_counter() + BILL_RETRY_SECONDS
    retried_after: list[str] = []
    while True:
        try:
            status, payload, response = post(conn, path, body, {**headers, "Idempotency-Key": key})
        except (OSError, http.client.HTTPException) as exc:
            conn.close()  # the next request opens a new connection
            retried_after.append(type(exc).__name__)
        else:
            code = payload.get("code", "") if isinstance(payload, dict) else ""
            if status not in RETRYABLE_STATUS and code != "idempotency_in_progress":
                replayed = response.getheader("Idempotent-Replayed") == "true"
                return Answered(status, code, payload, len(retried_after) + 1, replayed, retried_after)
            retried_after.append(f"{status} {code}".strip())
        if time.perf_counter() > give_up:
            return Answered(0, "gave_up", {}, len(retried_after), False, retried_after)
        time.sleep(0.2)


@dataclass
class Retried:
    """A bill or refund that needed more than one try: when it started (seconds into the load), how
    long from its first try to its answer, and why each retry was needed."""

    kind: str
    started: float
    wait: float
    retried_after: list[str]

    @property
    def failover(self) -> bool:
        """Retried because of the node kill (no answer, the proxy's 5xx, the key still held), not
        only because the till was busy (503 ``busy``: a lock wait past BILL_LOCK_TIMEOUT_MS)."""
        return any(reason != "503 busy" for reason in self.retried_after)


def run_tills(*, port, token, clients, till_ids, duration, spread, seed, on_tick) -> tuple[RunStats, dict, list]:
    """``clients`` threads ring up bills for ``duration`` seconds, every bill naming one of
    ``till_ids`` in turn (loadgen's BillMaker), and refund one unit of every REFUND_EVERY-th bill at
    the same till. Bills and refunds each carry an ``Idempotency-Key`` and are retried until they
    get a definite answer (``post_answered``). Returns the run, the clients' counters and every
    request that was retried (``Retried``)."""
    results: list[Result] = []
    retried: list[Retried] = []
    stats: Counter[str] = Counter()
    lock = threading.Lock()
    t_start = time.perf_counter()
    deadline = t_start + duration

    def client(index: int) -> None:
        maker = BillMaker(scenario="spread", spread=spread, hot=[], client=index, seed=seed * 100 + index,
                          tills=till_ids)  # fmt: skip
        headers = {"Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Token {token}"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=35)
        mine: list[Result] = []
        mine_retried: list[Retried] = []
        local: Counter[str] = Counter()

        def answered(kind: str, path: str, body: dict, key: str) -> tuple[Answered, float, float]:
            t0 = time.perf_counter()
            answer = post_answered(conn, path, body, key, headers)
            t1 = time.perf_counter()
            local["requests"] += answer.attempts
            local[f"{kind}s retried"] += answer.attempts > 1
            local[f"{kind}s replayed"] += answer.replayed
            local.update(f"retry after {reason}" for reason in answer.retried_after)
            if answer.retried_after:
                mine_retried.append(Retried(kind, t0 - t_start, t1 - t0, answer.retried_after))
            return answer, t0, t1

        while time.perf_counter() < deadline:
            body = maker.make()
            key = f"c{index + 1}-bill-{maker.made:06d}"
            answer, t0, t1 = answered("bill", "/api/v1/purchases", body, key)
            status, code, payload = answer.status, answer.code, answer.payload
            if status != 201:
                mine.append(Result(status, code, t1 - t0, t1, signature(body), till=body.get("till")))
                continue
            mine.append(Result(
                201, "", t1 - t0, t1, signature(body), bill_id=payload["id"],
                items={i["product_id"]: i["quantity"] for i in payload["items"]},
                tendered=pieces(payload["tendered"]), change=pieces(payload["change"]), till=payload["till"],
                body=payload if maker.made % 5 == 0 else None,
            ))  # fmt: skip
            if maker.made % REFUND_EVERY:
                continue
            path, refund_body, sig = refund_request(payload, payload["till"])
            answer, t0, t1 = answered("refund", path, refund_body, f"{key}-refund")
            mine.append(refund_result(answer.status, answer.payload, t1 - t0, t1, sig, payload["id"]))
        conn.close()
        with lock:
            results.extend(mine)
            retried.extend(mine_retried)
            stats.update(local)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        on_tick(time.perf_counter() - t_start)
        for t in threads:
            t.join(0.05)
        if time.perf_counter() - t_start > duration + 2 * BILL_RETRY_SECONDS + 40:
            break
    elapsed = time.perf_counter() - t_start
    return RunStats(scenario="cluster", clients=clients, duration=elapsed, results=results), dict(stats), retried


# --- the check -------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)

    def on_alarm(signum, frame):
        raise CheckTimeout(f"the cluster check exceeded its {args.budget} s budget")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.budget)
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="billing-cluster-"))
    name = f"billing_cluster_{os.getpid()}"
    procs: dict[str, Proc] = {}
    smtp = None
    admin = None
    created = False
    checks: list[Check] = []
    exit_code = 1
    try:
        ensure_packages()
        admin = psycopg.connect(args.pg, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        created = True
        direct_url = db_url(args.pg, name)
        pb_port, hp_port, smtp_port = free_port(), free_port(), free_port()
        node_ports = [free_port(), free_port()]
        pg_parts = urlsplit(args.pg)
        pooled_url = f"postgres://{pg_parts.username or 'postgres'}@127.0.0.1:{pb_port}/{name}"
        password, metrics_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)

        from aiosmtpd.controller import Controller

        sink = SmtpSink()
        smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        smtp.start()

        base_env = {
            **os.environ,
            **production_env(pooled_url),
            "LOG_LEVEL": "INFO",
            "METRICS_TOKEN": metrics_token,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "DEFAULT_FROM_EMAIL": "Chain <billing@example.com>",
            "INVOICE_RETRY_BACKOFF_SECONDS": str(INVOICE_BACKOFF_SECONDS),
            "INVOICE_RETRY_BACKOFF_MAX_SECONDS": str(INVOICE_BACKOFF_SECONDS * 4),
            "EMAIL_TIMEOUT": "3",
            "BILL_LOCK_TIMEOUT_MS": "1000",
            "DISABLE_SERVER_SIDE_CURSORS": "True",
            # PgBouncer refuses the startup parameter "options" that would set the idle-in-transaction
            # timeout as a session default; it is still set per transaction.
            "DB_IDLE_TIMEOUT_AT_CONNECT": "False",
            "DB_POOL_MAX_SIZE": "4",
            "CACHE_URL": "dbcache://django_cache",
        }
        direct_env = {**base_env, "DATABASE_URL": direct_url}
        log(f"database {name}; migrating directly (DDL does not go through the transaction pooler)")
        manage(direct_env, "migrate", "--noinput")
        manage(direct_env, "createcachetable")
        manage({**direct_env, "DJANGO_SUPERUSER_PASSWORD": password},
               "createsuperuser", "--noinput", "--username", "chain", "--email", "chain@example.com")  # fmt: skip

        ini = pgbouncer_config(tmp, port=pb_port, dbname=name, pg=args.pg)
        procs["pgbouncer"] = Proc("pgbouncer", [PGBOUNCER, str(ini)], env=dict(os.environ), logdir=tmp,
                                  user="postgres" if os.geteuid() == 0 else "")  # fmt: skip
        wait_for(lambda: _connects(pooled_url), 15, "PgBouncer")
        log(f"PgBouncer (transaction mode) on 127.0.0.1:{pb_port}")

        def start_node(i: int) -> Proc:
            env = {
                **base_env,
                "GUNICORN_BIND": f"127.0.0.1:{node_ports[i]}",
                "WEB_CONCURRENCY": str(args.workers_per_node),
                "PROMETHEUS_MULTIPROC_DIR": str(tmp / f"metrics-node{i + 1}"),
            }
            cmd = [sys.executable, "-m", "gunicorn", "billing_project.wsgi", "--timeout", "30",
                   "--graceful-timeout", "5"]  # fmt: skip
            return Proc(f"node{i + 1}", cmd, env=env, logdir=tmp)

        for i in range(2):
            procs[f"node{i + 1}"] = start_node(i)
        for i, p in enumerate(node_ports):
            wait_for(lambda p=p: healthy(p), 30, f"node{i + 1} /healthz")
        log(f"app nodes on 127.0.0.1:{node_ports[0]} and :{node_ports[1]}, {args.workers_per_node} workers each")

        cfg = haproxy_config(tmp, port=hp_port, nodes=node_ports)
        procs["haproxy"] = Proc("haproxy", ["haproxy", "-db", "-f", str(cfg)], env=dict(os.environ), logdir=tmp)
        sock = tmp / "haproxy.sock"
        wait_for(lambda: sock.exists() and all(s["status"] == "UP" for s in haproxy_servers(sock).values()), 20,
                 "HAProxy to see both nodes UP")  # fmt: skip
        log(f"HAProxy on 127.0.0.1:{hp_port}, health checks on /healthz every second")

        for i in range(2):
            procs[f"worker{i + 1}"] = Proc(
                f"worker{i + 1}",
                [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay",
                 "--worker-id", f"worker{i + 1}"],
                # Each worker shares a node's metrics directory: that node's /metrics counts its emails.
                env={**base_env, "PROMETHEUS_MULTIPROC_DIR": str(tmp / f"metrics-node{i + 1}")}, logdir=tmp,
            )  # fmt: skip
        log(f"2 invoice workers (db_worker) through PgBouncer; SMTP sink on 127.0.0.1:{smtp_port}")

        status, body = Api(hp_port).request("POST", "/api/v1/auth/token", {"username": "chain", "password": password})
        if status != 200:
            raise RuntimeError(f"no token: {status} {body}")
        token = body["token"]
        api = Api(hp_port, token)
        spread, initial_stock, initial_drawer = seed(api, rng)
        till_ids = seed_tills(api, initial_drawer, args.tills)
        # The chain: a branch with the second half of the tills and half of every product's stock.
        stores = make_branch(api)
        branch_tills = till_ids[len(till_ids) // 2 :]
        move_tills(api, branch_tills, stores["branch"])
        stock_the_branch(api, stores, initial_stock)
        log(
            f"a branch (store #{stores['branch']}) with tills {branch_tills} and half of every product's stock,"
            f" sent and received as a transfer; the main store (#{stores['main']}) keeps the rest"
        )
        db = psycopg.connect(direct_url, autocommit=True)
        seed_movement_id = db.execute("SELECT coalesce(max(id), 0) FROM cashdrawer_drawermovement").fetchone()[0]  # type: ignore[index]  # an aggregate always returns a row
        log(
            f"seeded {len(spread)} products and {len(till_ids)} tills T1..T{len(till_ids)} (+ MAIN), each with a drawer"
            f" of {len(initial_drawer) // (len(till_ids) + 1)} denominations, through HAProxy"
        )

        # --- the load, with the faults on a timetable -------------------------------------------
        d = args.duration
        events: dict[str, float] = {}
        pending = [(0.25 * d, "kill node1"), (0.5 * d, "restart node1"), (0.7 * d, "kill worker1")]

        def on_tick(elapsed: float) -> None:
            if "node1 down" not in events and "kill node1" in events:
                servers = haproxy_servers(sock)
                if servers["node1"]["status"].startswith("DOWN"):
                    events["node1 down"] = elapsed
            if "restart node1" in events and "node1 up" not in events:
                servers = haproxy_servers(sock)
                if servers["node1"]["status"] == "UP":
                    events["node1 up"] = elapsed
                    events["node1 stot at up"] = int(servers["node1"]["stot"])
            if not pending or elapsed < pending[0][0]:
                return
            _, what = pending.pop(0)
            events[what] = elapsed
            if what == "kill node1":
                procs["node1"].kill()
                log(f"SIGKILL node1 (gunicorn master and workers) at {elapsed:.1f} s")
            elif what == "restart node1":
                procs["node1"] = start_node(0)
                log(f"restarted node1 at {elapsed:.1f} s")
            elif what == "kill worker1":
                procs["worker1"].kill()
                with sink.lock:
                    events["emails at kill worker1"] = len(sink.message_ids)
                log(f"SIGKILL invoice worker1 at {elapsed:.1f} s")

        log(
            f"{args.tills} clients ring up bills over {len(till_ids)} tills through HAProxy for {d:.0f} s, every bill"
            f" naming a till in turn, 1 refund per {REFUND_EVERY} bills"
        )
        transfers = TransferThread(port=hp_port, token=token, stores=stores, product_ids=[p.id for p in spread],
                                   seed=args.seed, post_answered=post_answered)  # fmt: skip
        transfers.start()
        run, till_stats, retried = run_tills(port=hp_port, token=token, clients=args.tills, till_ids=till_ids,
                                             duration=d, spread=spread, seed=args.seed, on_tick=on_tick)  # fmt: skip
        wait_stopped(transfers)
        load_ended = time.monotonic()
        with sink.lock:
            emails_at_load_end = len(sink.message_ids)
        servers = haproxy_servers(sock)
        summary = run.summary()
        log(
            f"load done in {run.duration:.1f} s: {summary['bills']} bills, {summary['bills_per_s']} bills/s, "
            f"p50 {summary['bill_p50_ms']} ms, p99 {summary['bill_p99_ms']} ms; statuses {summary['by_status']};"
            f" {summary['refunds']} refunds"
        )
        log(f"clients: {dict(sorted(till_stats.items()))}")
        log("events (s into the load): " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                                                     for k, v in events.items()))  # fmt: skip
        failover = [r for r in retried if r.failover]
        if failover:
            log("retried through the failover (s into the load: wait, why): " + "; ".join(
                f"{r.kind} at {r.started:.1f}: {r.wait:.2f} s, {', '.join(_runs(r.retried_after))}"
                for r in sorted(failover, key=lambda r: r.started)))  # fmt: skip

        # --- the outbox's backlog, and the deadline for it to drain --------------------------------
        # One worker is left, and each email renders a PDF: the backlog takes a while to send, and
        # how long depends on this machine's speed and how much the load rang up. So the deadline
        # is sized from the backlog and the send rate measured during the load (one worker, from
        # worker1's kill to the end of the load); below, the check waits for the outbox (the task
        # table) to hold no job READY or RUNNING, the follow-up attempts included.
        emails_left = db.execute(EMAILS_LEFT).fetchone()[0]  # type: ignore[index]  # an aggregate always returns a row
        jobs_left = db.execute(PENDING_JOBS).fetchone()[0]  # type: ignore[index]  # an aggregate always returns a row
        window = run.duration - events.get("kill worker1", run.duration)
        sent_in_window = emails_at_load_end - events.get("emails at kill worker1", emails_at_load_end)
        if window >= 5 and sent_in_window >= 5:
            send_rate = sent_in_window / window
            rate_from = f"{sent_in_window} emails in the {window:.0f} s after worker1's kill"
        else:  # too short a window: the whole load's rate, halved for the one worker left
            send_rate = emails_at_load_end / run.duration / 2
            rate_from = f"half the load's {emails_at_load_end} emails in {run.duration:.0f} s"
        drain_seconds = max(DRAIN_FLOOR_SECONDS, DRAIN_SAFETY * emails_left / send_rate if send_rate else 0.0)
        # The drain may take longer than the budget foresaw: extend the budget by its deadline.
        signal.alarm(max(signal.alarm(0), int(drain_seconds + AUDIT_SECONDS)))
        log(
            f"send rate during the load: {send_rate:.2f} emails/s with one worker ({rate_from}); backlog at the end "
            f"of the load: {emails_left} emails, {jobs_left} jobs; drain deadline {drain_seconds:.0f} s "
            f"(max({DRAIN_FLOOR_SECONDS:.0f} s, {DRAIN_SAFETY:g} x backlog / rate))"
        )
        api.close()  # idle through the load, HAProxy has closed it; audit on a fresh connection
        api = Api(hp_port, token)

        # --- PgBouncer: lock_timeout per transaction, and nothing leaks ---------------------------
        busy = _stuck_lock_probe(db, hp_port, token, spread, till_ids[0])
        leaks = _session_leak_probe(pooled_url, db)
        pool_mode = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(pb_port), "-U", pg_parts.username or "postgres", "-Atc",
             "SHOW CONFIG", "pgbouncer"], capture_output=True, text=True, timeout=20,
        ).stdout  # fmt: skip
        mode = next((line.split("|")[1] for line in pool_mode.splitlines() if line.startswith("pool_mode|")), "?")

        # --- invoices and refund receipts: wait for the outbox to drain --------------------------
        # The housekeeping a deployment runs from cron: jobs left RUNNING by a dead worker go back
        # in the queue (manage.py requeue_stale_tasks; every few minutes in production, here every
        # 5 s with a 15 s limit, 5 x this run's EMAIL_TIMEOUT).
        requeued = 0
        drain_deadline = load_ended + drain_seconds
        next_progress = time.monotonic() + 30
        next_requeue = 0.0
        drained_in: float | None = None
        while time.monotonic() < drain_deadline:
            pending = db.execute(PENDING_JOBS).fetchone()[0]  # type: ignore[index]  # an aggregate always returns a row
            if pending == 0:
                drained_in = time.monotonic() - load_ended
                break
            if time.monotonic() >= next_progress:
                left = db.execute(EMAILS_LEFT).fetchone()[0]  # type: ignore[index]  # an aggregate always returns a row
                log(f"{left} invoices and refund receipts still to send; {pending} jobs pending")
                next_progress = time.monotonic() + 30
            if time.monotonic() >= next_requeue:
                out = manage(base_env, "requeue_stale_tasks", "--seconds", "15").stdout
                requeued += int(out.split()[1])
                next_requeue = time.monotonic() + 5
            time.sleep(1)
        with sink.lock:
            sent_in_drain = len(sink.message_ids) - emails_at_load_end
        if drained_in is not None:
            log(
                f"outbox drained {drained_in:.0f} s after the load: {sent_in_drain} emails, "
                f"{sent_in_drain / max(drained_in, 1):.2f} emails/s with one worker and no load"
            )
        else:
            log(f"outbox not drained within {drain_seconds:.0f} s: {sent_in_drain} emails sent meanwhile")
        time.sleep(1)
        bills_total = db.execute("SELECT count(*) FROM purchases_purchase").fetchone()[0]  # type: ignore[index]  # an aggregate always returns a row
        statuses: dict[str, int] = dict(
            db.execute("SELECT invoice_status, count(*) FROM purchases_purchase GROUP BY 1").fetchall()
        )
        with sink.lock:
            received = list(sink.message_ids)
        # One invoice = one Message-ID per bill and round (<invoice-<bill>.<round>@…>), one refund
        # receipt = one per refund (<refund-<refund>@…>). A worker killed after the mail server
        # accepted a message but before it could record it leaves the next attempt to send it again
        # with the same Message-ID, once; the receiver can recognise that resend.
        copies = Counter(received)
        most_copies = max(copies.values(), default=0)
        ids_by_kind: dict[str, dict[int | None, set[str]]] = {"invoice": {}, "refund": {}, "other": {}}
        sent_by_kind: Counter[str] = Counter()
        for m in received:
            kind, ref = message_kind(m)
            ids_by_kind[kind].setdefault(ref, set()).add(m)
            sent_by_kind[kind] += 1
        distinct = {kind: sum(len(ids) for ids in refs.values()) for kind, refs in ids_by_kind.items()}
        bill_ids = {row[0] for row in db.execute("SELECT id FROM purchases_purchase")}
        invoices = ids_by_kind["invoice"]
        twice = {b: ids for b, ids in invoices.items() if len(ids) > 1}
        never = bill_ids - set(invoices)
        stray = set(invoices) - bill_ids
        refund_rows = db.execute(
            "SELECT r.id, r.receipt_sent_at IS NOT NULL, p.invoice_status <> 'skipped' FROM purchases_refund r"
            " JOIN purchases_purchase p ON p.id = r.purchase_id"
        ).fetchall()
        refund_ids = {rid for rid, _, _ in refund_rows}
        receipt_due = {rid for rid, _, due in refund_rows if due}
        receipt_marked = {rid for rid, sent, _ in refund_rows if sent}
        receipts = ids_by_kind["refund"]
        receipt_never = receipt_due - set(receipts)
        receipt_stray = set(receipts) - receipt_due
        receipt_unmarked = receipt_due - receipt_marked
        receipt_sent_unmarked = receipt_unmarked & set(receipts)
        stuck_jobs = db.execute(PENDING_JOBS).fetchone()[0]  # type: ignore[index]  # an aggregate always returns a row

        # --- metrics from each node ---------------------------------------------------------------
        scraped = {}
        for i, p in enumerate(node_ports):
            scraped[f"node{i + 1}"] = _scrape(p, metrics_token)

        # --- the verdicts ---------------------------------------------------------------------------
        code_of: dict[int | None, str] = {tid: f"T{n}" for n, tid in enumerate(till_ids, start=1)}
        bills_per_till = Counter(code_of.get(r.till, str(r.till)) for r in run.created)
        refunds_per_till = Counter(code_of.get(r.till, str(r.till)) for r in run.refunds)
        checks.append(Check(
            f"every till got bills and refunds through ({len(till_ids)} tills, every bill naming one in turn)",
            set(bills_per_till) == set(refunds_per_till) == set(code_of.values()),
            f"acknowledged bills per till {dict(sorted(bills_per_till.items()))}; refunds per till "
            f"{dict(sorted(refunds_per_till.items()))}",
        ))  # fmt: skip
        answers: dict[str, Counter[str]] = {"bill": Counter(), "refund": Counter()}
        for r in run.results:
            answers[r.kind]["201" if r.status == 201 else "gave up" if r.status == 0 else f"{r.status} {r.code}"] += 1
        unanswered = {kind: {k: v for k, v in c.items() if k != "201"} for kind, c in answers.items()}
        checks.append(Check(
            "every bill and refund got a definite answer (retried with its Idempotency-Key through the failover)",
            not unanswered["bill"] and not unanswered["refund"],
            f"{sum(answers['bill'].values())} bills, other answers {unanswered['bill'] or 'none'}; "
            f"{till_stats.get('bills retried', 0)} retried, {till_stats.get('bills replayed', 0)} answered by a "
            f"replay; {sum(answers['refund'].values())} refunds, other answers {unanswered['refund'] or 'none'}; "
            f"{till_stats.get('refunds retried', 0)} retried, {till_stats.get('refunds replayed', 0)} answered by a "
            "replay",
        ))  # fmt: skip
        refunds_per_bill = Counter(row[0] for row in db.execute("SELECT purchase_id FROM purchases_refund"))
        acked_refund_ids = Counter(r.refund_id for r in run.refunds)
        refunded_twice = [b for b, n in refunds_per_bill.items() if n > 1]
        acked_twice = [rid for rid, n in acked_refund_ids.items() if n > 1]
        asked = {r.bill_id for r in run.results if r.kind == "refund"}
        checks.append(Check(
            "no duplicate refund: one refund per refunded bill, as many as were asked for",
            not refunded_twice and not acked_twice and set(refunds_per_bill) <= asked
            and len(refund_ids) == len(acked_refund_ids),
            f"{len(asked)} refunds asked for, {len(acked_refund_ids)} acknowledged, {len(refund_ids)} in the database; "
            f"{len(refunded_twice)} bills refunded twice, {len(acked_twice)} refunds acknowledged twice",
        ))  # fmt: skip
        failover_waits = sorted(r.wait for r in failover)
        busy_only = [r for r in retried if not r.failover]
        in_progress = sum(r.retried_after.count("409 idempotency_in_progress") for r in retried)
        checks.append(Check(
            f"after the node kill no till waited more than {FAILOVER_WAIT_LIMIT:g} s for its answer (first try to "
            "answer, retried with the same Idempotency-Key)",
            bool(failover) and failover_waits[-1] <= FAILOVER_WAIT_LIMIT,
            f"{len(failover)} requests retried through the failover, waits "
            f"{', '.join(f'{w:.2f}' for w in failover_waits) or 'none'} s; 409 idempotency_in_progress answers: "
            f"{in_progress}; {len(busy_only)} retried only after 503 busy (a lock wait past BILL_LOCK_TIMEOUT_MS), "
            f"longest {max((r.wait for r in busy_only), default=0):.2f} s",
        ))  # fmt: skip
        checks.append(Check(
            "HAProxy took node1 out after SIGKILL",
            "node1 down" in events,
            f"killed at {events.get('kill node1', 0):.1f} s, DOWN at {events.get('node1 down', float('nan')):.1f} s",
        ))  # fmt: skip
        stot_now = int(servers["node1"]["stot"])
        rejoined = "node1 up" in events and stot_now > events.get("node1 stot at up", stot_now)
        checks.append(Check(
            "node1 restarted, rejoined and served bills again",
            rejoined and servers["node1"]["status"] == "UP",
            f"restarted at {events.get('restart node1', 0):.1f} s, UP at {events.get('node1 up', float('nan')):.1f} s; "
            f"requests to node1 after rejoining: {stot_now - events.get('node1 stot at up', stot_now)}; "
            f"node2 total {servers['node2']['stot']}",
        ))  # fmt: skip
        checks.extend(run_audits(
            db=db, api=api, runs=[run], initial_stock=initial_stock, initial_drawer=initial_drawer,
            seed_movement_id=seed_movement_id, drawer_audit_cmd=drawer_audit_cmd(), env=direct_env, cwd=ROOT,
            away=away_from_the_stores(db),
        ))  # fmt: skip
        checks.append(stock_audit_check("the cluster run", env=direct_env, cwd=ROOT))
        checks.extend(store_stock_checks(db, transfers.stats))
        checks.append(boundary_check(
            lambda t: Api(hp_port, t), db, stores=stores, password=secrets.token_urlsafe(16),
            manage_shell=lambda script: manage(direct_env, "shell", "-c", script),
        ))  # fmt: skip
        checks.append(Check(
            "PgBouncer runs in transaction mode", mode == "transaction", f"pool_mode = {mode}",
        ))  # fmt: skip
        checks.append(Check(
            "lock_timeout applies per transaction through PgBouncer (a held drawer lock -> 503 busy)",
            busy["status"] == 503 and busy["code"] == "busy" and busy["seconds"] < 5,
            f"{busy['status']} {busy['code']} after {busy['seconds']:.2f} s (BILL_LOCK_TIMEOUT_MS=1000); "
            f"bills before/after: {busy['bills_before']}/{busy['bills_after']}",
        ))  # fmt: skip
        checks.append(Check(
            "no session state leaks through PgBouncer (fresh transactions see the server defaults)",
            not leaks["leaked"],
            f"{leaks['probes']} transactions on {leaks['backends']} server connections: lock_timeout / "
            f"statement_timeout / idle_in_transaction_session_timeout {sorted(leaks['seen'])}, server defaults "
            f"{leaks['defaults']}",
        ))  # fmt: skip
        checks.append(Check(
            "the outbox drained (no job READY or RUNNING) within its deadline, sized from the backlog and the send "
            "rate",
            drained_in is not None and not stuck_jobs,
            f"{emails_left} emails and {jobs_left} jobs left at the end of the load; send rate during the load "
            f"{send_rate:.2f} emails/s (one worker); deadline {drain_seconds:.0f} s; "
            + (f"drained in {drained_in:.0f} s" if drained_in is not None else f"{stuck_jobs} jobs still pending"),
        ))  # fmt: skip
        checks.append(Check(
            "every invoice reached the SMTP sink with one Message-ID per bill (twice at most: a resend after a worker"
            " died), with worker1 killed",
            not twice and not never and not stray and statuses.get("sent", 0) == bills_total and most_copies <= 2,
            f"{bills_total} bills, {distinct['invoice']} distinct invoices in {sent_by_kind['invoice']} SMTP "
            f"transactions ({sent_by_kind['invoice'] - distinct['invoice']} resent with the same Message-ID); statuses "
            f"{statuses}; never sent {len(never)}, two different invoices {len(twice)}, unknown {len(stray)}; jobs "
            f"requeued by requeue_stale_tasks: {requeued}, left RUNNING or due: {stuck_jobs}; worker2 alive: "
            f"{procs['worker2'].alive()}",
        ))  # fmt: skip
        checks.append(Check(
            "every refund receipt reached the SMTP sink with one Message-ID per refund, recorded sent (counted apart"
            " from invoices)",
            bool(refund_ids) and not receipt_never and not receipt_stray and not receipt_unmarked
            and not ids_by_kind["other"],
            f"{len(refund_ids)} refunds ({len(receipt_due)} with a receipt due), {distinct['refund']} distinct "
            f"receipts in {sent_by_kind['refund']} SMTP transactions ({sent_by_kind['refund'] - distinct['refund']} "
            f"resent with the same Message-ID); never sent {len(receipt_never)}, unknown {len(receipt_stray)}, not "
            f"marked sent {len(receipt_unmarked)} (of which sent {len(receipt_sent_unmarked)}); most copies of one "
            f"Message-ID (invoices and receipts): {most_copies}; other messages {sent_by_kind['other']}",
        ))  # fmt: skip
        node2 = scraped.get("node2", {})
        checks.append(Check(
            "/metrics on each node (bearer token) counts bills, refunds and invoice emails, shows the pool and queue",
            node2.get("billing_bills_total", 0) > 0 and node2.get("billing_refunds_total", 0) > 0
            and "billing_db_pool_connections" in node2
            and "billing_invoice_queue_depth" in node2 and sum(m.get("emails_sent", 0) for m in scraped.values()) > 0,
            "; ".join(_scrape_line(n, m) for n, m in scraped.items()),
        ))  # fmt: skip

        print()
        print(f"Cluster check: 2 gunicorn nodes x {args.workers_per_node} workers behind HAProxy, PgBouncer "
              f"(transaction mode), 2 db_workers, {args.tills} clients over {len(till_ids)} tills, {d:.0f} s of"
              " load")  # fmt: skip
        print(f"  bills: {summary['bills']} acknowledged, {summary['bills_per_s']} bills/s; latency p50 "
              f"{summary['bill_p50_ms']} ms, p95 {summary['p95_ms']} ms, p99 {summary['bill_p99_ms']} ms, "
              f"max {summary['max_ms']} ms (including the failover retries); refunds: {summary['refunds']}"
              " acknowledged")  # fmt: skip
        for c in checks:
            print(f"  {'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
        ok = all(c.ok for c in checks)
        print()
        print("PASS" if ok else "FAIL")
        exit_code = 0 if ok else 1
        db.close()
        api.close()
    except CheckTimeout as exc:
        log(str(exc))
        print("FAIL")
    except Exception:
        for proc in procs.values():
            log(f"{proc.name} log tail:\n{proc.tail()}")
        raise
    finally:
        signal.alarm(0)
        for key in reversed(list(procs)):
            procs[key].stop()
        if smtp is not None:
            smtp.stop()
        if admin is not None:
            if created:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        if args.keep_logs:
            log(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return exit_code


def _runs(reasons: list[str]) -> list[str]:
    """["502", "409 x", "409 x"] -> ["502", "409 x (2)"]: a retry's reasons, repeats folded."""
    out: list[str] = []
    for reason, n in ((r, len(list(g))) for r, g in itertools.groupby(reasons)):
        out.append(reason if n == 1 else f"{reason} ({n})")
    return out


def _connects(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _stuck_lock_probe(db, port: int, token: str, spread, till: int) -> dict:
    """Hold every drawer row locked directly on PostgreSQL (a stuck till), ring up a bill at
    ``till`` through HAProxy and PgBouncer: it must give up after BILL_LOCK_TIMEOUT_MS with 503
    ``busy``."""
    bills_before = db.execute("SELECT count(*) FROM purchases_purchase").fetchone()[0]
    holder = psycopg.connect(db.info.dsn)
    try:
        holder.execute("SELECT id FROM cashdrawer_denomination ORDER BY value FOR UPDATE").fetchall()
        product = spread[0]
        body = {
            "customer_email": "stuck-probe@example.com",
            "items": [{"product_id": product.id, "quantity": 1}],
            "paid_amount": "2000",
            "tendered": [{"value": "2000", "count": 1}],
            "till": till,
        }
        t0 = time.perf_counter()
        status, payload = Api(port, token, timeout=20).request("POST", "/api/v1/purchases", body)
        seconds = time.perf_counter() - t0
    finally:
        holder.rollback()
        holder.close()
    bills_after = db.execute("SELECT count(*) FROM purchases_purchase").fetchone()[0]
    code = payload.get("code", "") if isinstance(payload, dict) else ""
    return {"status": status, "code": code, "seconds": seconds, "bills_before": bills_before,
            "bills_after": bills_after}  # fmt: skip


def _session_leak_probe(pooled_url: str, direct, rounds: int = 8) -> dict:
    """Transactions through PgBouncer on the server connections the bills ran on: after the app's
    bills (which SET LOCAL their timeouts), every one must still see the server defaults (read on
    ``direct``, a connection straight to PostgreSQL that set nothing)."""
    query = (
        "SELECT pg_backend_pid(), current_setting('lock_timeout'), current_setting('statement_timeout'),"
        " current_setting('idle_in_transaction_session_timeout')"
    )
    defaults = tuple(direct.execute(query).fetchone()[1:])
    seen, backends = set(), set()
    # prepare_threshold=None, as the app's own connections: a server-side prepared statement lives on
    # one server connection, and the next transaction may get another ("_pg3_0 already exists").
    # Transactions held open side by side each get a server connection of their own.
    clients = [psycopg.connect(pooled_url, prepare_threshold=None) for _ in range(8)]
    try:
        for _ in range(rounds):
            for c in clients:
                pid, *settings = c.execute(query).fetchone()  # type: ignore[misc]
                backends.add(pid)
                seen.add(tuple(settings))
            for c in clients:
                c.commit()
    finally:
        for c in clients:
            c.close()
    probes = rounds * len(clients)
    return {
        "probes": probes,
        "backends": len(backends),
        "seen": seen,
        "defaults": defaults,
        "leaked": seen != {defaults},
    }


def _scrape_line(node: str, m: dict) -> str:
    return (
        f"{node}: bills {m.get('billing_bills_total', 0):.0f}, refunds {m.get('billing_refunds_total', 0):.0f},"
        f" refusals {m.get('billing_refusals_total', 0):.0f},"
        f" pool in use {m.get('pool_in_use', 0):.0f}/{m.get('pool_size', 0):.0f},"
        f" queue due {m.get('queue_due', 0):.0f}, invoice emails sent {m.get('emails_sent', 0):.0f}"
    )


def _scrape(port: int, token: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        text = response.read().decode()
    except OSError:
        return {}
    finally:
        conn.close()
    if response.status != 200:
        return {}
    from prometheus_client.parser import text_string_to_metric_families

    out: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        out[family.name] += 0  # the family exists
        for s in family.samples:
            if s.name in ("billing_bills_total", "billing_refusals_total", "billing_refunds_total"):
                out[s.name] += int(s.value)
            elif s.name == "billing_invoice_emails_total":
                out[f"emails_{s.labels['outcome']}"] += int(s.value)
            elif s.name == "billing_db_pool_connections":
                out[f"pool_{s.labels['state']}"] += int(s.value)
            elif s.name == "billing_invoice_queue_depth":
                out[f"queue_{s.labels['state']}"] += int(s.value)
    return dict(out)


if __name__ == "__main__":
    sys.exit(main())
