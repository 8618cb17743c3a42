"""A worker's cache of the reports by product it has read from the rollup, as the API writes them
(issue 30).

A report of a chain's 50,000 products spends most of its time reading the rollup: adding up to
325,000 rows of sums and writing each product's row (``sales_rollup_reads._read_written``, about
400 ms for 30 days of every store). What it reads is fixed by three things:

- the range of days and the stores asked for: the cache's key;
- the products' names and units, which each row carries: ``catalog.ProductNamesVersion``, which a
  trigger moves on in the same transaction as any change to them; also in the key;
- the seal: what the rollup holds is every bill and refund up to the seal's ids, and a seal only adds
  the ones past them (``sales_rollups``). So rows read under an earlier seal, with the bills and
  refunds past *that* seal read raw, are the report exactly, as long as the rollup still holds what
  it held then up to those ids. Each step of a seal writes a new random token to the seal's row with
  its rows (``SalesRollupSeal.steps``, the last ``SEAL_STEPS_KEPT``); a rebuild empties the list, and
  a transaction rolled back or a database restored to an earlier moment takes its tokens away with
  its rows. Cached rows are used while the token they were read under is still in the list
  (``usable``).

The seal is read in the statement that reads the rows (one snapshot), and again, in a statement of
one row, before a report looks in the cache. The bills and refunds past the rows' seal are not
cached: every report reads them raw, as without the cache, so a bill shows in the report as soon as
it commits. A cached answer is thus never stale. The raw part grows with every bill past the rows'
seal (about 65 ms a thousand for 30 days of a chain), so cached rows are read again once the seal is
more than ``REPORT_CACHE_LAG_BILLS`` bills (or refunds) past them. After a seal (every few minutes)
the next report thus still comes from the cache; a renamed product makes it read the rollup again.

Each worker process keeps its own entries (no serialisation: the rows are handed out as they are),
the most recently used first, up to ``REPORT_CACHE_ROWS`` rows in all (``0`` turns the cache off):
a row takes about 450 bytes, so the default 100,000 is about 45 MB a worker. An entry is handed out
as a copy of its dict of rows, which the report then adds the rows past the seal to."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any, NamedTuple

from django.conf import settings

# A ``sales_rollup_reads.Rolled`` (not imported: that module reads through this one), or any
# dataclass with a dict of ``rows``, a dict of ``totals``, ``bills_through``, ``refunds_through``
# and ``sealed_by``.
Rolled = Any


class Sealed(NamedTuple):
    """The seal as a report finds it, and the products' names' version."""

    steps: tuple[int, ...]  # ``SalesRollupSeal.steps``: the tokens of its last steps
    bills_through: int
    refunds_through: int
    names: int


# At most this many entries, whatever their rows: the oldest goes first.
MAX_ENTRIES = 16


class RolledCache:
    """``Rolled`` reads by key, the most recently used first, up to ``max_rows`` rows in all."""

    def __init__(self, max_rows: Callable[[], int]):
        self._max_rows = max_rows
        self._entries: OrderedDict[Hashable, Rolled] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, usable: Callable[[Rolled], bool] | None = None) -> Rolled | None:
        """A copy of the entry of ``key`` (its own dicts of rows and totals), if held (and ``usable``)."""
        with self._lock:
            rolled = self._entries.get(key)
            if rolled is None or (usable is not None and not usable(rolled)):
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

    def keys_by_use(self) -> list[Hashable]:
        """The keys held, the least recently used first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._rows = 0

    def __len__(self) -> int:
        return len(self._entries)


written_reports = RolledCache(lambda: settings.REPORT_CACHE_ROWS)


def usable(rolled: Rolled, now: Sealed) -> bool:
    """Whether rows read under an earlier seal still give the report with the bills and refunds past
    that seal: the rollup still holds what it held then (the step they were read under is still the
    seal's), and the seal is not more than ``REPORT_CACHE_LAG_BILLS`` bills or refunds past them."""
    lag = settings.REPORT_CACHE_LAG_BILLS
    return (
        rolled.sealed_by in now.steps
        and now.bills_through - rolled.bills_through <= lag
        and now.refunds_through - rolled.refunds_through <= lag
    )


def cached(key: Hashable, sealed: Callable[[], Sealed], read: Callable[[], tuple[Rolled | None, int]]) -> Rolled | None:
    """The ``Rolled`` of ``key``: from the cache when held under the names' version ``sealed()`` reads
    now and ``usable`` under its seal, else ``read()``, which gives the rows and the names' version
    they were read under (the same snapshot), kept under that version. With the cache off,
    ``read()`` alone."""
    if not settings.REPORT_CACHE_ROWS:
        return read()[0]
    now = sealed()
    rolled = written_reports.get((key, now.names), lambda held: usable(held, now))
    if rolled is not None:
        return rolled
    rolled, names = read()
    if rolled is not None:
        written_reports.put((key, names), rolled)
    return rolled
