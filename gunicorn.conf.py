"""gunicorn settings, read automatically when gunicorn starts in this directory.

Sections are independent; command-line flags still override anything here.
"""

import os
import shutil
import tempfile

# --- Node settings from the environment ----------------------------------------------------------
# One node of a chain's deployment: where it listens and how many sync workers it runs. Each app
# node sets its own (GUNICORN_BIND=127.0.0.1:8001, WEB_CONCURRENCY=4, ...).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# --- Prometheus metrics in multiprocess mode ------------------------------------------------------
# Each worker writes its metrics to files in PROMETHEUS_MULTIPROC_DIR; /metrics sums them. The
# variable must be set before the app imports prometheus_client, so it is set here, in the master,
# and the workers inherit it. Every node needs a directory of its own; by default each master makes
# a fresh one. Give the invoice workers (db_worker) on the same machine the same directory, and the
# node's /metrics includes their counts (invoice emails). When the master starts it removes the
# files of processes that are gone (their counters restart from zero, as Prometheus expects after a
# restart) and keeps those of live ones (a db_worker); a dead worker's live gauges are dropped when
# it exits.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="billing-metrics-")
_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server):
    os.makedirs(_metrics_dir, exist_ok=True)
    for name in os.listdir(_metrics_dir):
        # prometheus_client's files only: <type>[_<mode>]_<pid>.db
        pid = name.removesuffix(".db").rpartition("_")[2]
        if name.endswith(".db") and pid.isdigit() and not _alive(int(pid)):
            os.remove(os.path.join(_metrics_dir, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:  # a directory this master made for itself
        shutil.rmtree(_metrics_dir, ignore_errors=True)
