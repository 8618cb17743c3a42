"""Python's cycle collector in a web worker: run between two requests, never in the middle of one.

A request leaves a few thousand objects in reference cycles (Django's request, response, template
contexts and querysets refer to one another). They are still in use when the young generations are
collected during the request, so they reach the oldest generation, which only a full collection
frees; Python started one every dozen requests or so, in whichever request was running: 35 ms of a
75 ms admin list (the low-stock list's p95 105-142 ms against a p50 of 74, bench/RESULTS.md). So a
worker (gunicorn.conf.py):

- once it has loaded the app, freezes what it holds (``gc.freeze``: Django's, the app's and
  WeasyPrint's objects, about 100,000, which no collection walks again) and turns the automatic
  collector off (``worker_started``);
- after each response has been sent (gunicorn's ``post_request``), collects everything once the
  objects made since the last collection pass ``COLLECT_AFTER`` (``request_done``): every 5 or so
  requests of an admin list, 6-11 ms each, in the time between two requests. What survives the
  first collection (what the first requests loaded: templates, URL patterns, caches) is frozen
  too, once; later survivors are not, so an object that dies in a cycle afterwards is still freed.

Reference counting still frees every object outside a cycle at once; a single request's cycles wait
at most for the end of that request, bounded as every request is (the worker's memory cap, its
``max_requests``). WeasyPrint's renders pause the collector themselves and leave it as they found it
(``purchases.documents.render``)."""

import gc
import threading

# Net new objects the collector tracks (``gc.get_count()[0]``) after which a request's end collects:
# every 5 or so requests of an admin list, each collection 6-10 ms.
COLLECT_AFTER = 25_000
# Set once the first collection's survivors are frozen.
_warmed = threading.Event()


def worker_started() -> None:
    """Freeze what the worker has loaded and turn the automatic collector off."""
    gc.freeze()
    gc.disable()


def request_done() -> bool:
    """Collect, between requests, when enough objects were made since the last collection; whether
    it did. What survives the first such collection is frozen too: what the first requests loaded
    (templates, URL patterns, the caches of forms and serializers) would otherwise be walked by
    every later collection."""
    if gc.get_count()[0] < COLLECT_AFTER:
        return False
    gc.collect()
    if not _warmed.is_set():
        gc.freeze()
        _warmed.set()
    return True
