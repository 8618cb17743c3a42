"""Race tests: real threads on real connections, started at the same moment."""

import threading

from django.db import close_old_connections, connection


def run_concurrently(n: int, work) -> list:
    """Start ``n`` threads that call ``work(i)`` at the same moment; return results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i):
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a buyer hung: deadlock or missing lock timeout"
    return results
