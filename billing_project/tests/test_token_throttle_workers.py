"""The token throttle counts across gunicorn's workers: production settings default to the database
cache, migrate creates its table, and the real app under two sync workers on 127.0.0.1 (with the
test PostgreSQL database) answers the 11th token request of a minute with 429.

Which worker answers a request is up to the kernel, so the test decides it: a sync worker serves
one connection at a time, and one that has accepted a request whose headers are not finished
waits for them. Holding one worker that way sends every other request to the other one.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TOKEN_PATH = "/api/v1/auth/token"
# Missing its password: a 400, so no request pays for a password hash. DRF's throttle counts every
# request to the endpoint before the view reads the body.
TOKEN_BODY = json.dumps({"username": "till"}).encode()
CACHE_TABLE = "django_cache"  # the production settings' default CACHE_URL, dbcache://django_cache


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _test_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _production_env(database_url: str) -> dict[str, str]:
    """Production settings as a deployment sets them, with no CACHE_URL: their default is tested."""
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY")}
    env.update(
        DJANGO_SETTINGS_MODULE="billing_project.settings.production",
        SECRET_KEY="throttle-test-" + "x" * 40,
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        DEFAULT_FROM_EMAIL="throttle@example.com",
        AUTH_TOKEN_THROTTLE_RATE="10/min",
        DB_POOL_MAX_SIZE="2",
        LOG_LEVEL="WARNING",
    )
    return env


def _accept_queue_is_empty(port: int, timeout: float = 10.0) -> None:
    """Until a worker has accepted every connection waiting on the listening socket (Linux: for a
    listening socket, /proc/net/tcp's rx_queue is its accept queue)."""
    local = f"0100007F:{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[3] == "0A" and int(fields[4].split(":")[1], 16) == 0:
                return
        time.sleep(0.01)
    raise AssertionError(f"no worker accepted the waiting connection within {timeout} s")


def _post_token(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", TOKEN_PATH, body=TOKEN_BODY, headers={"Content-Type": "application/json"})
        return conn.getresponse().status
    finally:
        conn.close()


def _hold_a_worker(port: int, request_line: str) -> socket.socket:
    """Start a request and leave its headers unfinished: the worker that accepts it waits."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"{request_line}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n".encode())
    _accept_queue_is_empty(port)
    return sock


def _finish(sock: socket.socket, body: bytes = b"") -> int:
    with sock:
        sock.sendall(f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    return int(response.split(b" ", 2)[1])


class Gunicorn:
    def __init__(self, env: dict[str, str], access_log: Path):
        self.port = _free_port()
        self.log = access_log.with_suffix(".err")
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, "-m", "gunicorn", "billing_project.wsgi", "--workers", "2",
                 "--worker-class", "sync", "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "5",
                 "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(U)s %(s)s"],
                cwd=ROOT, env=env, stdout=err, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"gunicorn exited:\n{self.log.read_text(errors='replace')}"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not answer /healthz:\n{self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)  # its own session: the master and its workers
                self.proc.wait(wait)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


def test_production_settings_default_to_the_database_cache():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    env = _production_env("postgres://nobody@127.0.0.1:1/none")  # settings only: nothing connects
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)  # noqa: S603

    assert out.stdout.strip() == "django.core.cache.backends.db.DatabaseCache"


def test_migrate_creates_the_database_caches_table(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "throttle_counts"}
    }
    try:
        call_command("migrate", verbosity=0)

        assert "throttle_counts" in connection.introspection.table_names()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS throttle_counts")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the workers must see what the test commits
def test_the_eleventh_token_request_in_a_minute_is_429_across_two_workers(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the production settings' shared cache is a table there")
    env = _production_env(_test_database_url())
    # The deployment's step: migrate also creates the cache table of a database cache.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    access_log = tmp_path / "access.log"
    server = Gunicorn(env, access_log)
    try:
        server.wait_ready()
        first = _hold_a_worker(server.port, "GET /healthz HTTP/1.1")  # worker A waits
        statuses = [_post_token(server.port) for _ in range(5)]  # worker B answers
        second = _hold_a_worker(server.port, f"POST {TOKEN_PATH} HTTP/1.1")  # worker B waits
        assert _finish(first) == 200  # worker A is free again
        statuses += [_post_token(server.port) for _ in range(5)]  # worker A answers
        eleventh = _finish(second, TOKEN_BODY)  # worker B answers its 6th
    finally:
        server.stop()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {CACHE_TABLE}")

    served_by = [line.split()[0] for line in access_log.read_text().splitlines() if f" {TOKEN_PATH} " in line]
    assert statuses == [400] * 10
    assert eleventh == 429
    assert len(served_by) == 11
    # Each worker counted at most 6 of the 11 itself: only a count they share reaches the limit.
    assert sorted(Counter(served_by).values()) == [5, 6], served_by
