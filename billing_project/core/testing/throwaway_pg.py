"""``make test-pg``: the whole suite on PostgreSQL, in a throwaway database of its own.

The production SQL only runs on PostgreSQL: the bill's statements with their locks and guards, the
race tests with real threads, the report's covering index. This run names a database for itself
alone (``billing_testpg_<pid>``), so two runs side by side never meet; pytest-django creates
``test_<name>`` (``test_<name>_gw0``, ``_gw1``… under ``-n``) and drops it at the end, and whatever an
interrupted run left of it is dropped here on the way out.

``PG_URL`` names the server (default ``postgres://postgres@127.0.0.1:5432``); the arguments are
pytest's. Run as ``python -m billing_project.core.testing.throwaway_pg [pytest arguments]``.
"""

import os
import subprocess
import sys

import psycopg
from psycopg import sql

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def database_name(pid: int) -> str:
    return f"billing_testpg_{pid}"


def run(args: list[str], *, server: str, pid: int) -> int:
    """pytest with ``args`` on ``server``, in a database named for ``pid``; returns pytest's exit code."""
    name = database_name(pid)
    env = {
        **os.environ,
        "DATABASE_URL": f"{server.rstrip('/')}/{name}",
        "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "deterministic"),
    }
    print(f"test-pg: {server} / test_{name}", flush=True)
    try:
        return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)  # noqa: S603 - our own pytest
    finally:
        drop_test_databases(server, name)


def drop_test_databases(server: str, name: str) -> list[str]:
    """Drop the test databases pytest-django makes for ``name`` that are still there; returns their names."""
    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as connection:
        left = [
            row[0]
            for row in connection.execute(
                "SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s ORDER BY datname",
                [f"test_{name}", f"test_{name}\\_gw%"],
            )
        ]
        for datname in left:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(datname)))
    return left


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], server=os.environ.get("PG_URL") or DEFAULT_SERVER, pid=os.getpid()))
