"""``make test-pg`` cleans up after itself: what an interrupted run left is dropped, and nothing of
another run's."""

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from billing_project.core.testing.throwaway_pg import database_name, drop_test_databases

pytestmark = pytest.mark.postgres


def _server() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"


def _databases(conn) -> set[str]:
    return {
        row[0] for row in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'test_billing_testpg_%'")
    }


def test_a_runs_leftover_databases_are_dropped_and_no_other_runs(postgres_only):
    this, other = database_name(999_999_901), database_name(9_999_999_012)
    made = [f"test_{this}", f"test_{this}_gw0", f"test_{this}_gw1", f"test_{other}"]
    with psycopg.connect(f"{_server()}/postgres", autocommit=True) as conn:
        for name in made:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            dropped = drop_test_databases(_server(), this)
            left = _databases(conn)
        finally:
            for name in made:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    assert dropped == [f"test_{this}", f"test_{this}_gw0", f"test_{this}_gw1"]
    assert f"test_{other}" in left
    assert not left & set(dropped)
