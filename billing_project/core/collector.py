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
  objects made since the last collection pass ``COLLECT_AFTER`` (``request_done``): about every 25
  requests of an admin list, in the time between two requests.

Reference counting still frees every object outside a cycle at once; a single request's cycles wait
at most for the end of that request, bounded as every request is (the worker's memory cap, its
``max_requests``). WeasyPrint's renders pause the collector themselves and leave it as they found it
(``purchases.documents.render``)."""

import gc

# Net new objects the collector tracks (``gc.get_count()[0]``) after which a request's end collects.
COLLECT_AFTER = 100_000


def worker_started() -> None:
    """Freeze what the worker has loaded and turn the automatic collector off."""
    gc.freeze()
    gc.disable()


def request_done() -> bool:
    """Collect, between requests, when enough objects were made since the last collection; whether
    it did."""
    if gc.get_count()[0] < COLLECT_AFTER:
        return False
    gc.collect()
    return True
