"""The connection pool's check of a connection before it hands it out, without a round trip.

psycopg_pool's own check (``ConnectionPool.check_connection``) sends an empty query and waits for
the answer: one round trip per request. This one first asks the kernel: an idle, healthy
connection has nothing to read, while one the server or a proxy has ended (a restart, an outage, an
idle timeout) is readable (the server's FATAL message, or end of file), and its libpq status may
already be bad. Only then does it run the full check, which fails and makes the pool replace the
connection, so the app still recovers by itself after an outage. A connection that is readable for
another reason (a notice) passes the full check and is handed out as before.
"""

import select

from psycopg import pq
from psycopg_pool import ConnectionPool


def _readable(fd: int) -> bool:
    """Whether the socket has something to read (or has ended), without waiting."""
    if hasattr(select, "poll"):  # any descriptor number; select() stops at FD_SETSIZE (1024)
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


def check_connection(conn) -> None:
    pgconn = conn.pgconn
    if (
        pgconn.status == pq.ConnStatus.OK
        and pgconn.transaction_status == pq.TransactionStatus.IDLE
        and not _readable(pgconn.socket)
    ):
        return
    ConnectionPool.check_connection(conn)
