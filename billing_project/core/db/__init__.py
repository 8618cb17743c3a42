"""The database helpers the services share.

- ``transactions``: ``atomic_write``, the one write transaction with its timeouts and refusals;
- ``cursor``: ``shared_cursor``, one cursor for a service's statements;
- ``writes``: guarded updates, inserts built once per model, ``Writes`` (writes as CTEs of one statement);
- ``orm_internals``: everything that relies on what Django, DRF or django-tasks-db do not promise.

The bill's own statements, in the order they are sent, are in ``purchases/services/bill_statements.py``
(``docs/architecture.md`` has the plan).
"""

from .cursor import default_connection, shared_cursor, statement_cursor
from .orm_internals import compiled_rows, new_row, set_prefetched
from .transactions import atomic_write, reads_without_jit, set_transaction_timeouts, transaction_timeouts_sql
from .writes import (
    Children,
    InsertedIds,
    Writes,
    guarded_add,
    guarded_add_then_insert,
    insert_rows,
    insert_with_children,
    reserve_with_children,
)

__all__ = [
    "Children",
    "InsertedIds",
    "Writes",
    "atomic_write",
    "compiled_rows",
    "default_connection",
    "guarded_add",
    "guarded_add_then_insert",
    "insert_rows",
    "insert_with_children",
    "new_row",
    "reads_without_jit",
    "reserve_with_children",
    "set_prefetched",
    "set_transaction_timeouts",
    "shared_cursor",
    "statement_cursor",
    "transaction_timeouts_sql",
]
