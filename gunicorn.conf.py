"""gunicorn settings, read automatically when gunicorn starts in this directory.

Sections are independent; command-line flags still override anything here.
"""

import os
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
# a fresh one. The directory is emptied when the master starts (counters restart from zero, as
# Prometheus expects after a restart), and a dead worker's live gauges are dropped when it exits.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="billing-metrics-")
_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def on_starting(server):
    os.makedirs(_metrics_dir, exist_ok=True)
    for name in os.listdir(_metrics_dir):
        if name.endswith(".db"):  # only prometheus_client's own files
            os.remove(os.path.join(_metrics_dir, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
