"""The committed gunicorn.conf.py: gunicorn accepts it, and it puts a ceiling on every worker."""

import os
import resource
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from gunicorn.config import Config

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def load(**env) -> dict:
    from unittest import mock

    with mock.patch.dict(os.environ, env):
        return runpy.run_path(str(CONF))


def test_gunicorn_takes_every_setting_in_the_file():
    namespace = load()
    config = Config()
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)  # gunicorn validates each one
    assert config.worker_class_str == "sync"
    assert config.timeout == 30
    assert config.max_requests > 0
    assert config.wsgi_app == "billing_project.wsgi:application"


def test_the_sync_timeout_leaves_room_for_the_database_timeouts_to_answer_first():
    timeout_ms = load()["timeout"] * 1000
    assert timeout_ms > settings.BILL_STATEMENT_TIMEOUT_MS
    assert timeout_ms > settings.DB_STATEMENT_TIMEOUT_MS


def test_the_environment_picks_gthread_and_the_limits():
    namespace = load(GUNICORN_WORKER_CLASS="gthread", GUNICORN_THREADS="4", GUNICORN_TIMEOUT="20")
    assert (namespace["worker_class"], namespace["threads"], namespace["timeout"]) == ("gthread", 4, 20)


def in_a_worker(code: str, **env: str) -> str:
    """What ``code`` prints in a child process with ``env`` added to its environment, as gunicorn
    runs a new worker, the file's names in ``ns``: a hook changes the whole process, this one stays
    untouched."""
    code = f"import runpy; ns = runpy.run_path({str(CONF)!r}); {code}"
    child = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, **env}
    )
    return child.stdout


def test_post_fork_caps_the_worker_address_space():
    out = in_a_worker(
        "import resource; ns['post_fork'](None, None); print(resource.getrlimit(resource.RLIMIT_AS)[0])",
        GUNICORN_WORKER_MEMORY_MB="1500",
    )
    assert int(out) == 1500 * 1024 * 1024
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != 1500 * 1024 * 1024  # this process untouched


def test_a_worker_freezes_what_it_loaded_out_of_the_collectors_way():
    out = in_a_worker(
        "import gc, django.db.models; before = gc.get_freeze_count(); ns['post_worker_init'](None);"
        "print(before, gc.get_freeze_count(), gc.isenabled())"
    )
    before, frozen, automatic = out.split()
    assert int(before) == 0 and int(frozen) > 10_000
    assert automatic == "False"  # collected between requests instead (post_request)


def test_a_worker_collects_cycles_between_requests_once_enough_objects_were_made():
    # A request's garbage in cycles: freed by no reference count, only by a collection.
    out = in_a_worker(
        "import gc, weakref\n"
        "from billing_project.core.collector import COLLECT_AFTER\n"
        "class Node: pass\n"
        "ns['post_worker_init'](None)\n"
        "def request(n):\n"
        "    nodes = [Node() for _ in range(n)]\n"
        "    for a, b in zip(nodes, nodes[1:] + nodes[:1]): a.next = b\n"
        "    return weakref.ref(nodes[0])\n"
        "small = request(1000); ns['post_request'](None, None, {}, None)\n"
        "print(small() is not None)\n"  # too few objects yet: left for later
        "frozen = gc.get_freeze_count()\n"
        "big = request(COLLECT_AFTER); ns['post_request'](None, None, {}, None)\n"
        "print(small() is None, big() is None, gc.isenabled())\n"
        # The first collection's survivors are frozen, a later collection's are not.
        "first = gc.get_freeze_count(); kept = [Node() for _ in range(10)]\n"
        "again = request(COLLECT_AFTER); ns['post_request'](None, None, {}, None)\n"
        "print(again() is None, first > frozen, gc.get_freeze_count() == first)"
    )
    left_at_first, then_small, then_big, automatic, then_again, froze_first, not_later = out.split()
    assert left_at_first == "True"
    assert (then_small, then_big, automatic) == ("True", "True", "False")
    assert (then_again, froze_first, not_later) == ("True", "True", "True")


# --- one throttle count for every worker ----------------------------------------------------------

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
DBCACHE = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "throttle_counts"}}


def _server(workers: int):
    return SimpleNamespace(cfg=SimpleNamespace(workers=workers))


@pytest.mark.parametrize("caches", [LOCMEM, DUMMY], ids=["locmem", "dummy"])
def test_several_workers_on_a_per_process_cache_do_not_start(settings, caches):
    settings.CACHES = caches
    namespace = load(PROMETHEUS_MULTIPROC_DIR="")

    with pytest.raises(RuntimeError, match="2 workers would each keep their own token-request counts"):
        namespace["on_starting"](_server(2))

    assert not Path(namespace["_metrics_dir"]).exists()  # the directory it made is gone


@pytest.mark.parametrize(("caches", "workers"), [(LOCMEM, 1), (DBCACHE, 4)], ids=["one-worker", "dbcache"])
def test_one_worker_or_a_shared_cache_starts(settings, tmp_path, caches, workers):
    settings.CACHES = caches
    namespace = load(PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))

    namespace["on_starting"](_server(workers))

    assert (tmp_path / "metrics").is_dir()
