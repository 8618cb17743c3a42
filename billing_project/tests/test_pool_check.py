"""The connection pool's check: no round trip for a healthy connection, the full check for one the
server has ended (PostgreSQL only)."""

import os
import socket
import time

import psycopg
import pytest
from django.db import connection
from psycopg_pool import ConnectionPool

from billing_project.core import pool_check
from billing_project.core.pool_check import check_connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connection pool"),
]


def _connect() -> psycopg.Connection:
    return psycopg.connect(**{**connection.get_connection_params(), "autocommit": True})


def test_the_pool_checks_connections_with_the_check_without_a_round_trip():
    assert connection.settings_dict["OPTIONS"].get("pool")
    assert connection.pool._check is check_connection  # type: ignore[attr-defined]


def test_a_healthy_idle_connection_passes_without_a_query(monkeypatch):
    def full_check(conn):
        raise AssertionError("the full check ran")

    monkeypatch.setattr(ConnectionPool, "check_connection", full_check)
    with _connect() as conn:
        check_connection(conn)  # no exception: nothing sent


def test_a_connection_the_server_ended_fails_the_check():
    with _connect() as conn, _connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
        time.sleep(0.2)  # the server's message and end of file reach the socket
        with pytest.raises(psycopg.OperationalError):
            check_connection(conn)


def test_a_connection_in_a_transaction_gets_the_full_check(monkeypatch):
    checked: list[psycopg.Connection] = []
    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(checked.append))
    with _connect() as conn:
        conn.execute("BEGIN")
        check_connection(conn)
        conn.execute("ROLLBACK")
    assert len(checked) == 1


def test_a_descriptor_above_select_s_limit_is_checked_too():
    a, b = socket.socketpair()
    high = os.dup2(a.fileno(), 1500)
    try:
        assert pool_check._readable(high) is False
        b.send(b"x")
        assert pool_check._readable(high) is True
    finally:
        os.close(high)
        a.close()
        b.close()
