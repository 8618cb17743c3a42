"""gunicorn settings for the web app. gunicorn reads ./gunicorn.conf.py by itself when started
from the project directory; command-line flags override what is set here.

    gunicorn billing_project.wsgi            # from the project directory

What bounds one request (see docs/operations.md, "A ceiling on every request"):
- sync workers (the default): ``timeout`` — the arbiter kills a worker that has not checked in for
  that long, i.e. one stuck in a single request, and starts a new one;
- gthread workers: the worker's main thread keeps checking in while a request runs, so ``timeout``
  does not stop a busy request. There the work itself is bounded: every database statement by
  PostgreSQL's ``statement_timeout`` and every lock wait by ``lock_timeout`` (DB_*_MS and BILL_*_MS,
  set on every write transaction), a transaction left idle by ``idle_in_transaction_session_timeout``,
  the change search by its step budget (a few tens of milliseconds), request bodies by
  DATA_UPLOAD_MAX_MEMORY_SIZE, lists by pagination;
- any worker class: ``GUNICORN_WORKER_MEMORY_MB`` caps each worker's address space, so a runaway
  request fails with MemoryError (500) instead of growing a worker to many gigabytes, and
  ``max_requests`` recycles workers.
"""

import os
import resource
import shutil
import tempfile

from billing_project.core import collector


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


wsgi_app = "billing_project.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("WEB_CONCURRENCY", 4)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = _int("GUNICORN_THREADS", 1)  # > 1 means gthread

# Seconds a sync worker may stay silent (one request) before the arbiter kills and replaces it.
# Above BILL_STATEMENT_TIMEOUT_MS, so a bill's own timeouts answer 503 `busy` first.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Recycle each worker after about this many requests, staggered so they do not all restart at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# The request line and headers: gunicorn's limits, stated here so they are visible.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Per-worker address-space cap in MiB (0: none). Virtual memory: leave room for the interpreter,
# the thread stacks and the allocator's arenas (a worker serving bills uses about 100 MiB resident).
worker_memory_mb = _int("GUNICORN_WORKER_MEMORY_MB", 2048)


def post_fork(server, worker):
    if worker_memory_mb > 0:
        limit = worker_memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def post_worker_init(worker):
    """Once the worker has loaded the app, its objects (Django's, the app's, WeasyPrint's: about
    150,000) move to the collector's permanent generation, and the automatic collector is off: a
    full collection walked them all again, 60-70 ms in the middle of whichever request set it off,
    and then the requests' own cycles, 35 ms (billing_project/core/collector.py)."""
    collector.worker_started()


def post_request(worker, req, environ, resp):
    """After the response has been sent: Python's cycle collector, when its turn has come."""
    collector.request_done()


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
    _refuse_a_per_worker_cache(server)
    os.makedirs(_metrics_dir, exist_ok=True)
    for name in os.listdir(_metrics_dir):
        # prometheus_client's files only: <type>[_<mode>]_<pid>.db
        pid = name.removesuffix(".db").rpartition("_")[2]
        if name.endswith(".db") and pid.isdigit() and not _alive(int(pid)):
            os.remove(os.path.join(_metrics_dir, name))


# --- One throttle count for every worker -----------------------------------------------------------
# DRF counts token requests in Django's default cache. In a per-process cache each worker would
# count on its own, and N workers would let N times AUTH_TOKEN_THROTTLE_RATE through, silently.
# Production settings default to the database cache; several workers on a per-process one do not
# start.
PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def _refuse_a_per_worker_cache(server) -> None:
    if server.cfg.workers <= 1:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_project.settings.production")  # as wsgi.py
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"]
    if backend in PER_PROCESS_CACHES:
        if _own_metrics_dir:
            shutil.rmtree(_metrics_dir, ignore_errors=True)  # on_exit does not run after a refusal
        raise RuntimeError(
            f"{server.cfg.workers} workers would each keep their own token-request counts in {backend}, "
            f"letting {server.cfg.workers} times AUTH_TOKEN_THROTTLE_RATE through. Set CACHE_URL to a shared "
            "cache (dbcache://django_cache, whose table `manage.py migrate` creates) or run one worker."
        )


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:  # a directory this master made for itself
        shutil.rmtree(_metrics_dir, ignore_errors=True)
