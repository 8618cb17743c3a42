"""A worker's cache of the reports by product it has read from the rollup, as the API writes them
(issue 30).

A report of a chain's 50,000 products spends most of its time reading the rollup: adding up to
325,000 rows of sums and writing each product's row (``sales_rollup_reads._read_written``, about
400 ms for 30 days of every store). What it reads is fixed by three things, and the cache keys its
rows by all of them, so a cached answer is the answer read again, never an older one:

- the range of days and the stores asked for;
- the seal: only a seal writes the rollup, and every step of a seal writes the seal's row in the same
  transaction, so the row's version (PostgreSQL's ``xmin``, the transaction that last wrote it) names
  what the rollup holds;
- the products' names and units, which each row carries: ``catalog.ProductNamesVersion``, which a
  trigger moves on in the same transaction as any change to them.

Both versions are read in the statement that reads the rows (one snapshot), and again, in a statement
of one row, before a report looks in the cache. The bills and refunds past the seal are not cached:
every report reads them raw, as without the cache, so a bill shows in the report as soon as it
commits. A cached answer is thus never stale; a seal (every few minutes) or a renamed product makes the
next report read the rollup again.

Each worker process keeps its own entries (no serialisation: the rows are handed out as they are),
the most recently used first, up to ``REPORT_CACHE_ROWS`` rows in all (``0`` turns the cache off):
a row takes about 450 bytes, so the default 100,000 is about 45 MB a worker. An entry is handed out
as a copy of its dict of rows, which the report then adds the rows past the seal to."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any

from django.conf import settings

# A ``sales_rollup_reads.Rolled`` (not imported: that module reads through this one), or any
# dataclass with a dict of ``rows`` and a dict of ``totals``.
Rolled = Any

# At most this many entries, whatever their rows: the oldest goes first.
MAX_ENTRIES = 16


class RolledCache:
    """``Rolled`` reads by key, the most recently used first, up to ``max_rows`` rows in all."""

    def __init__(self, max_rows: Callable[[], int]):
        self._max_rows = max_rows
        self._entries: OrderedDict[Hashable, Rolled] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Rolled | None:
        """A copy of the entry of ``key`` (its own dicts of rows and totals), if held."""
        with self._lock:
            rolled = self._entries.get(key)
            if rolled is None:
                return None
            self._entries.move_to_end(key)
        return replace(rolled, rows=dict(rolled.rows), totals=dict(rolled.totals))

    def put(self, key: Hashable, rolled: Rolled) -> None:
        """Keep a copy of ``rolled`` under ``key``, dropping the least recently used entries to stay
        within the bounds. A read of more rows than the bound is not kept."""
        max_rows = self._max_rows()
        if len(rolled.rows) > max_rows:
            return
        kept = replace(rolled, rows=dict(rolled.rows), totals=dict(rolled.totals))
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._rows -= len(old.rows)
            self._entries[key] = kept
            self._rows += len(kept.rows)
            while self._rows > max_rows or len(self._entries) > MAX_ENTRIES:
                _, dropped = self._entries.popitem(last=False)
                self._rows -= len(dropped.rows)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._rows = 0

    def __len__(self) -> int:
        return len(self._entries)


written_reports = RolledCache(lambda: settings.REPORT_CACHE_ROWS)


def cached(key: Hashable, stamp: Callable[[], Any], read: Callable[[], tuple[Rolled | None, Any]]) -> Rolled | None:
    """The ``Rolled`` of ``key`` read under ``stamp()`` (the seal's and the names' versions, read now):
    from the cache when held under both, else ``read()``, which gives the rows and the stamp they were
    read under (the same snapshot), kept under that stamp. With the cache off, ``read()`` alone."""
    if not settings.REPORT_CACHE_ROWS:
        return read()[0]
    rolled = written_reports.get((key, stamp()))
    if rolled is not None:
        return rolled
    rolled, read_under = read()
    if rolled is not None:
        written_reports.put((key, read_under), rolled)
    return rolled
