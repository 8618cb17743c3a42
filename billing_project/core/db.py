"""Small database helpers shared by the services."""

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, models, transaction
from django.db.models import Model, QuerySet

from billing_project.core.errors import Busy, is_busy

logger = logging.getLogger("billing.db")

M = TypeVar("M", bound=Model)


def set_transaction_timeouts(*, lock_timeout_ms: int | None = None, statement_timeout_ms: int | None = None) -> None:
    """Bound the current transaction on PostgreSQL: ``lock_timeout``, ``statement_timeout`` and
    ``idle_in_transaction_session_timeout``, from ``DB_*_MS`` unless given.

    ``set_config(..., true)`` is ``SET LOCAL``: it ends with the transaction, so nothing is left on
    the connection for the next user of a pooled (or PgBouncer transaction-mode) connection. Call
    it inside the transaction; elsewhere (SQLite) it does nothing.
    """
    conn = default_connection()
    if conn.vendor != "postgresql":
        return
    sql, params = transaction_timeouts_sql(lock_timeout_ms=lock_timeout_ms, statement_timeout_ms=statement_timeout_ms)
    with statement_cursor() as cursor:
        cursor.execute(sql, params)


def transaction_timeouts_sql(
    *, lock_timeout_ms: int | None = None, statement_timeout_ms: int | None = None
) -> tuple[str, list[str]]:
    """The ``SELECT set_config(…)`` that ``set_transaction_timeouts`` runs, with its parameters, for
    a service that sends it inside its first statement (as a one-row subquery in ``FROM``) to save
    a round trip. The timeouts then hold from the next statement on, so that first statement must
    take no lock. PostgreSQL only."""
    lock_ms = settings.DB_LOCK_TIMEOUT_MS if lock_timeout_ms is None else lock_timeout_ms
    statement_ms = settings.DB_STATEMENT_TIMEOUT_MS if statement_timeout_ms is None else statement_timeout_ms
    return (
        "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true), "
        "set_config('idle_in_transaction_session_timeout', %s, true)",
        [f"{lock_ms}ms", f"{statement_ms}ms", f"{settings.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS}ms"],
    )


@contextmanager
def atomic_write(*, lock_timeout_ms: int | None = None, statement_timeout_ms: int | None = None) -> Iterator[None]:
    """``transaction.atomic`` for a write service, with ``set_transaction_timeouts`` at its start.

    A decorator (``@atomic_write()``) or a ``with`` block. A statement that gives up waiting (lock or
    statement timeout, deadlock) rolls the block back and raises ``Busy`` (503 ``busy``, Retry-After),
    as a bill does, instead of hanging or answering 500.
    """
    try:
        with transaction.atomic():
            set_transaction_timeouts(lock_timeout_ms=lock_timeout_ms, statement_timeout_ms=statement_timeout_ms)
            yield
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        logger.warning("write refused: busy (%s)", getattr(exc.__cause__, "sqlstate", "?"))
        raise Busy("Another change holds what this one needs; nothing was written. Try again.") from exc


def guarded_add(model, field: str, deltas: Mapping[int, int], *, also_set: Mapping[str, object] | None = None) -> int:
    """``field = field + delta`` for every primary key in ``deltas`` in ONE statement, only where
    the result stays >= 0. Returns the number of rows updated: fewer than ``len(deltas)`` means a
    guard refused a row, and the caller refuses the whole operation.

    Plain SQL (``UPDATE … FROM (VALUES …)``, which PostgreSQL and SQLite both run): the ORM's
    ``Case(When(…))`` form of the same UPDATE costs more CPU to build than the statement takes to
    run, and this is on every bill's path. Only placeholders carry values; names come from the model.
    """
    extra = dict(also_set or {})
    sql = _guarded_add_sql(model, field, len(deltas), tuple(extra))
    params: list[Any] = [*extra.values(), *(value for pair in deltas.items() for value in pair)]
    with statement_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@cache
def _guarded_add_sql(model: Any, field: str, rows: int, also_set: tuple[str, ...], returning: bool = False) -> str:
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(model._meta.get_field(field).column)
    pk = quote(model._meta.pk.column)
    assignments = ", ".join(
        [f"{column} = t.{column} + v.column2"] + [f"{quote(model._meta.get_field(n).column)} = %s" for n in also_set]
    )
    values = ", ".join(["(%s, %s)"] * rows)
    return (
        f"UPDATE {table} AS t SET {assignments} FROM (VALUES {values}) AS v "  # noqa: S608 - names from the model
        f"WHERE t.{pk} = v.column1 AND t.{column} + v.column2 >= 0" + (f" RETURNING t.{pk}" if returning else "")
    )


def guarded_add_then_insert(model, field: str, deltas: Mapping[int, int], objs: Sequence[M]) -> list[M] | None:
    """``guarded_add(model, field, deltas)`` and then ``insert_rows(objs)``, the INSERT only when
    the guarded UPDATE updated every row of ``deltas``. Returns the inserted ``objs``, or ``None``
    when a guard refused a row: then nothing is inserted, and the caller refuses the whole
    operation (its transaction rolls back the rows that were updated), as with ``guarded_add``.

    On PostgreSQL this is ONE statement: the UPDATE is a data-modifying CTE and the INSERT's rows
    are selected only when the CTE returned ``len(deltas)`` rows. Both see the same snapshot, so
    the inserted rows are computed by the caller (from rows it holds locked), not read back. The
    rows travel as one JSON parameter (``_json_rows``), so the statement's text and its number
    of parameters do not grow with the rows. ``deltas`` and ``objs`` must not be empty. Elsewhere
    (SQLite) it is the two statements. ``Writes`` gives the same writes as CTEs of a statement of
    the caller's own."""
    writes = Writes()
    ids = writes.guarded_add_then_insert("g", model, field, deltas, objs)
    if writes.run_now():
        return ids.inserted()
    with statement_cursor() as cursor:
        cursor.execute(f"WITH {writes.sql} SELECT {ids.sql}", writes.params)
        (value,) = cursor.fetchone()
    return ids.inserted(value)


class Writes:
    """Writes to send as data-modifying CTEs of ONE statement the caller sends anyway (on
    PostgreSQL), saving each its round trip: ``sql`` is their ``name AS (…)`` list for the
    statement's ``WITH``, ``params`` their parameters, in order, before the statement's own.
    Each write hands back an ``InsertedIds``: an SQL expression for the statement's ``RETURNING``
    (or ``SELECT``) list, and what to do with its value. CTEs run in one snapshot and to completion
    whether or not the statement reads them; their order is not defined, so take any locks they
    need before (a write here only updates rows the caller holds locked, or inserts new ones).

    Elsewhere (SQLite) ``run_now()`` is true: each write has already run, on its own, when added,
    and ``InsertedIds.inserted()`` takes no value."""

    def __init__(self) -> None:
        self._ctes: list[str] = []
        self.params: list[Any] = []
        self._now = default_connection().vendor != "postgresql"

    def run_now(self) -> bool:
        return self._now

    @property
    def sql(self) -> str:
        return ", ".join(self._ctes)

    def add(self, name: str, sql: str, params: Sequence[Any]) -> None:
        """A write of the caller's own: ``name AS (sql)``. PostgreSQL only."""
        assert not self._now, "writes are sent as CTEs only on PostgreSQL"
        self._ctes.append(f"{name} AS ({sql})")
        self.params.extend(params)

    def guarded_add_then_insert(
        self, name: str, model, field: str, deltas: Mapping[int, int], objs: Sequence[M]
    ) -> "InsertedIds[M]":
        """``guarded_add_then_insert`` as two CTEs, ``{name}_guarded`` and ``{name}_inserted``; the
        rows are inserted only when every row of ``deltas`` was updated (else ``inserted()`` is
        ``None``). ``deltas`` may be empty: then it is ``insert_rows``. ``objs`` must not be."""
        if self._now:
            if deltas and guarded_add(model, field, deltas) != len(deltas):
                return InsertedIds(objs, "", refused=True)
            return InsertedIds(insert_rows(objs), "")
        insert_model = type(objs[0])
        guarded, inserted, pk = _guarded_insert_ctes(model, field, insert_model, name, bool(deltas))
        rows = _json_rows(objs, _insert_fields(insert_model))
        if deltas:
            self.add(f"{name}_guarded", guarded, [json.dumps(list(deltas.items()))])
            self.add(f"{name}_inserted", inserted, [rows, len(deltas)])
        else:
            self.add(f"{name}_inserted", inserted, [rows])
        # The new keys in the order given (the INSERT keeps the JSON rows' order; keys ascend).
        keys = f"(SELECT coalesce(json_agg({pk} ORDER BY {pk}), '[]') FROM {name}_inserted)"  # noqa: S608
        return InsertedIds(objs, keys)


class InsertedIds(Generic[M]):
    """The rows of a ``Writes`` INSERT: ``sql`` is an expression giving their new keys (a JSON
    array); ``inserted(value)`` sets them on the instances, as ``insert_rows`` does, and returns
    them, or ``None`` when a guard refused a row and nothing was inserted."""

    def __init__(self, objs: Sequence[M], sql: str, *, refused: bool = False) -> None:
        self.objs, self.sql, self.refused = objs, sql, refused

    def inserted(self, value: Any = None) -> list[M] | None:
        if not self.sql:  # already written (SQLite)
            return None if self.refused else list(self.objs)
        keys = json.loads(value) if isinstance(value, str) else value
        if len(keys) != len(self.objs):  # a guard refused a row: nothing was inserted
            return None
        return _set_inserted(self.objs, [(key,) for key in keys])


@cache
def _guarded_insert_ctes(model: Any, field: str, insert_model: Any, name: str, guarded: bool) -> tuple[str, str, str]:
    # Only quoted names from the models are interpolated; the values are parameters.
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(model._meta.get_field(field).column)
    pk = quote(model._meta.pk.column)
    pk_type, delta_type = _bare_type(model._meta.pk), _bare_type(model._meta.get_field(field))
    update = (
        f"UPDATE {table} AS t SET {column} = t.{column} + v.delta "  # noqa: S608
        f"FROM (SELECT (e->>0)::{pk_type} AS pk, (e->>1)::{delta_type} AS delta "
        "FROM json_array_elements(%s::json) AS e) AS v "
        f"WHERE t.{pk} = v.pk AND t.{column} + v.delta >= 0 RETURNING t.{pk}"
    )
    fields = _insert_fields(insert_model)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    new_pk = quote(str(insert_model._meta.pk.column))
    condition = f" WHERE (SELECT count(*) FROM {name}_guarded) = %s" if guarded else ""  # noqa: S608
    insert = (
        f"INSERT INTO {quote(insert_model._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT u.* FROM {_from_json_rows(fields)}{condition} RETURNING {new_pk}"
    )
    return update, insert, new_pk


def _json_rows(objs: Sequence[Model], fields: Sequence) -> str:
    """The values of ``objs`` for ``fields``, prepared by each field as the ORM prepares them, as
    ONE JSON parameter: a list of rows, each a list of values (decimals and times as their text,
    which PostgreSQL reads back exactly). One parameter, however many rows and columns.

    A value that the field's preparation would hand back unchanged, or changed only in a way the
    JSON text cannot show (``_AS_IS``), is taken as it is: the bill's lines, payments and ledger
    rows hold about eighty values, and ``get_db_prep_save`` costs about ten calls each. Any other
    value, and every value of any other field class, goes through ``get_db_prep_save``."""
    db = default_connection()
    plan = [(field, _as_is(field)) for field in fields]
    rows = [_prepared(obj, plan, db) for obj in objs]
    return json.dumps(rows, default=str)


def _prepared(obj: Model, plan: Sequence[tuple[Any, tuple[type, ...]]], db) -> list[Any]:
    """``[field.get_db_prep_save(field.pre_save(obj, True), db) for field in fields]``, taking a
    value as it is where that would hand it back unchanged (``_AS_IS``; ``plan`` pairs each field
    with ``_as_is(field)``). What it returns renders the same, as a parameter or in JSON. Only
    PostgreSQL's preparation is known here: elsewhere every value goes through the field."""
    if db.vendor != "postgresql":
        return [field.get_db_prep_save(field.pre_save(obj, True), db) for field, _ in plan]
    row = []
    for field, as_is in plan:
        value = field.pre_save(obj, True)
        kind = type(value)
        if kind in as_is and (
            (kind is not Decimal and kind is not datetime)
            or (value.is_finite() if kind is Decimal else value.utcoffset() is not None)
        ):
            row.append(value)
        else:
            row.append(field.get_db_prep_save(value, db))
    return row


@cache
def _plan_for(model: type[Model]) -> tuple[tuple[Any, tuple[type, ...]], ...]:
    return tuple((field, _as_is(field)) for field in _insert_fields(model))


# Field classes (exactly these, not subclasses) and the value types that their get_db_prep_save
# returns unchanged on PostgreSQL, or as an equal value of a subclass that JSON writes the same
# (integers as psycopg's Int4/Int8, a Decimal as a copy with the same digits): None for every
# field but a boolean (whose to_python refuses it unless nullable), a finite Decimal, an aware datetime.
# A foreign key is prepared by the field it points at: taken as is only when that is an integer key.
_INTEGER = (int, type(None))
_INTEGER_FIELDS = (
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)
_AS_IS: dict[type, tuple[type, ...]] = {
    **dict.fromkeys(_INTEGER_FIELDS, _INTEGER),
    models.DecimalField: (Decimal, type(None)),
    models.CharField: (str, type(None)),
    models.TextField: (str, type(None)),
    models.DateTimeField: (datetime, type(None)),
    models.BooleanField: (bool,),
}
_INTEGER_KEYS = (*_INTEGER_FIELDS, models.AutoField, models.BigAutoField, models.SmallAutoField)


@cache
def _as_is(field) -> tuple[type, ...]:
    if type(field) is models.ForeignKey:
        return _INTEGER if type(field.target_field) in _INTEGER_KEYS else ()
    return _AS_IS.get(type(field), ())


class _SharedCursor:
    """The cursor of a ``shared_cursor()`` block, made on first use and made again if the
    connection changed under it or began or stopped logging queries (``CaptureQueriesContext``)."""

    __slots__ = ("cursor", "logged", "raw")

    def __init__(self) -> None:
        self.cursor: Any = None
        self.raw: Any = None
        self.logged = False

    def get(self):
        conn = default_connection()
        if self.cursor is None or self.raw is not conn.connection or self.logged != conn.queries_logged:
            self.close()
            self.cursor = conn.cursor()
            self.raw, self.logged = conn.connection, conn.queries_logged
        return self.cursor

    def close(self) -> None:
        if self.cursor is not None:
            self.cursor.close()
            self.cursor = None


_scope = threading.local()


@contextmanager
def shared_cursor() -> Iterator[None]:
    """Inside, ``statement_cursor()`` hands every statement on the default connection the same
    cursor, closed when the block ends. A bill sends several statements in one transaction, and
    making and closing a cursor costs more CPU than executing a small statement on one. Nested blocks
    share the outer one's cursor."""
    if getattr(_scope, "shared", None) is not None:
        yield
        return
    shared = _scope.shared = _SharedCursor()
    try:
        yield
    finally:
        _scope.shared = None
        shared.close()


def statement_cursor():
    """``with statement_cursor() as cursor:``: a cursor on the default connection for a statement.
    Inside ``shared_cursor()`` it is the block's cursor (left open for the next statement);
    elsewhere a new one, closed after the statement, as ``connection.cursor()`` gives."""
    shared = getattr(_scope, "shared", None)
    if shared is None:
        return default_connection().cursor()
    return nullcontext(shared.get())


def default_connection():
    """The default database's connection wrapper itself. ``django.db.connection`` is a proxy that
    looks the wrapper up (a thread-local read) on every attribute access, and a field preparing a
    value reads several of them: resolved once per call, a bill's statements skip over a hundred
    lookups. The helpers here and the bill's own statements use it."""
    return connections[DEFAULT_DB_ALIAS]


def _from_json_rows(fields: Sequence) -> str:
    """``(SELECT (e->>0)::type AS c0, … FROM json_array_elements(%s::json) …) AS u``: the rows of
    ``_json_rows``, in their order, each value cast to its column's type without its length or
    precision (the column's own assignment cast still checks them on INSERT, as for ``INSERT …
    VALUES``; an explicit cast to ``varchar(n)`` would cut a long value short instead)."""
    columns = ", ".join(f"(e.value->>{i})::{_bare_type(f)} AS c{i}" for i, f in enumerate(fields))
    rows = "json_array_elements(%s::json) WITH ORDINALITY AS e (value, n)"
    return f"(SELECT {columns} FROM {rows} ORDER BY e.n) AS u"  # noqa: S608 - names from the models


def _bare_type(field) -> str:
    return re.sub(r"\(.*?\)", "", field.db_type(connection)).strip()


def insert_rows(objs: Sequence[M]) -> list[M]:
    """``bulk_create`` for the bill's path: every concrete field of the new instances (all of one
    model) in ONE ``INSERT … VALUES … RETURNING`` of the primary keys, set on the instances as
    ``bulk_create`` sets them. The values are prepared by each field, as the ORM prepares them.

    The ORM builds the same statement through its insert compiler on every call, at more CPU than
    the statement takes to run; here its text is built once per model and row count. No signals are
    sent, as with ``bulk_create``. PostgreSQL only; elsewhere it is ``bulk_create``."""
    conn = default_connection()
    if not objs:
        return []
    model = type(objs[0])
    if conn.vendor != "postgresql":
        return model._default_manager.bulk_create(objs)
    plan = _plan_for(model)
    params: list[Any] = [value for obj in objs for value in _prepared(obj, plan, conn)]
    with statement_cursor() as cursor:
        cursor.execute(_insert_sql(model, len(objs)), params)
        rows = cursor.fetchall()
    return _set_inserted(objs, rows)


def new_row(model: type[M], **values: Any) -> M:
    """``model(**values)`` for a row about to be inserted, at a third of the CPU: the fields in
    order, positionally, as ``from_db`` builds an instance (missing fields take their defaults),
    and each related instance given by name remembered on the new one as the foreign key's
    descriptor would (its key in the ``…_id`` attribute, the instance in the field's cache).
    Model.__init__'s keyword path costs 8-17 µs per instance, and a bill builds a dozen.
    ``test_db.py`` checks it builds exactly what the constructor builds."""
    args: list[Any] = []
    related = []
    for name, attname, field, many_to_one in _construct_plan(model):
        if many_to_one and name in values:
            other = values.pop(name)
            args.append(None if other is None else getattr(other, field.target_field.attname))
            related.append((field, other))
        elif attname in values:
            args.append(values.pop(attname))
        else:
            args.append(field.get_default())
    if values:
        raise TypeError(f"{model.__name__} has no field(s) {', '.join(values)}")
    obj = model(*args)
    for field, other in related:
        field.set_cached_value(obj, other)
    return obj


@cache
def _construct_plan(model: type[Model]) -> tuple:
    return tuple((f.name, f.attname, f, bool(f.many_to_one)) for f in model._meta.concrete_fields)


def insert_values(obj: Model) -> list[Any]:
    """The values ``insert_rows`` would insert for ``obj``, prepared now (``auto_now_add`` fields
    take their time now, on the instance too): for ``insert_sql``."""
    return _prepared(obj, _plan_for(type(obj)), default_connection())


def insert_sql(model: type[Model], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """``(INSERT INTO … VALUES … RETURNING pk, params)`` for ``rows`` of ``insert_values``, the text
    built once per model and row count, for a caller that sends it as a CTE of another statement
    (``WITH new_rows AS (INSERT …) …``) to save it a round trip. PostgreSQL only."""
    return _insert_sql(model, len(rows)), [value for row in rows for value in row]


def _set_inserted(objs: Sequence[M], rows: Sequence[Sequence[Any]]) -> list[M]:
    """Primary keys from ``RETURNING``, in the rows' order, set on the new instances as ``bulk_create`` does."""
    db = DEFAULT_DB_ALIAS  # the helpers' connection: default_connection()
    for obj, (pk,) in zip(objs, rows, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db
    return list(objs)


@cache
def _insert_fields(model: type[Model]) -> tuple:
    # An auto-incremented key is the database's to give (RETURNING reads it back); a key the model
    # makes itself, such as a task's UUID, is inserted like any other value.
    return tuple(f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning) and not f.generated)


@cache
def _insert_sql(model: type[Model], rows: int) -> str:
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)} RETURNING {quote(str(model._meta.pk.column))}"
    )


def insert_with_children(parent: Model, *children: tuple[str, Sequence[Model]]) -> None:
    """``insert_rows([parent])`` and then ``insert_rows(objs)`` for each ``(foreign_key, objs)`` of
    ``children``, whose ``foreign_key`` field points at ``parent``, in ONE statement on PostgreSQL:
    the parent's INSERT is a data-modifying CTE, and each child row takes the parent's new primary
    key from it. Each model's children travel as one JSON parameter (``_json_rows``), so the text
    of the statement and its number of parameters do not grow with the rows. Sets the primary
    keys and the foreign keys on the instances as ``insert_rows`` does. Elsewhere (SQLite) it is
    one ``insert_rows`` per model."""
    conn = default_connection()
    if conn.vendor != "postgresql":
        insert_rows([parent])
        for name, objs in children:
            for obj in objs:
                setattr(obj, name, parent)
            insert_rows(objs)
        return
    parent_model = type(parent)
    shape = (parent_model, tuple((type(objs[0]) if objs else None, name) for name, objs in children))
    params: list[Any] = _prepared(parent, _plan_for(parent_model), conn)
    for name, objs in children:
        if objs:
            params.append(_json_rows(objs, [f for f in _insert_fields(type(objs[0])) if f.name != name]))
    with statement_cursor() as cursor:
        cursor.execute(_family_sql(shape), params)
        rows = cursor.fetchall()
    # Ordered by (which INSERT, primary key): each INSERT's rows in the order they were given.
    _set_inserted([parent], [row[1:] for row in rows if row[0] == 0])
    for index, (name, objs) in enumerate(children, start=1):
        for obj in objs:
            setattr(obj, name, parent)
        _set_inserted(objs, [row[1:] for row in rows if row[0] == index])


@cache
def _family_sql(shape: tuple[type[Model], tuple[tuple[type[Model] | None, str], ...]]) -> str:
    # Only quoted names from the models are interpolated; the values are parameters.
    quote = connection.ops.quote_name
    parent_model, children = shape
    parent_pk = quote(str(parent_model._meta.pk.column))
    parts = [f"parent AS ({_insert_sql(parent_model, 1)})"]
    union = [f"SELECT 0, {parent_pk} FROM parent"]  # noqa: S608
    for index, (model, name) in enumerate(children, start=1):
        if model is None:  # none of these children: no INSERT
            continue
        fields = _insert_fields(model)
        values = [f for f in fields if f.name != name]
        new_key = f"(SELECT {parent_pk} FROM parent)"  # noqa: S608
        select = ", ".join(new_key if f.name == name else f"u.c{values.index(f)}" for f in fields)
        pk = quote(str(model._meta.pk.column))
        parts.append(
            f"c{index} AS (INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(str(f.column)) for f in fields)}) SELECT {select} FROM {_from_json_rows(values)} "
            f"RETURNING {pk})"
        )
        union.append(f"SELECT {index}, {pk} FROM c{index}")  # noqa: S608
    return f"WITH {', '.join(parts)} {' UNION ALL '.join(union)} ORDER BY 1, 2"


def compiled_rows(build: Callable[..., QuerySet[M]], *args: int | str | Sequence[int]) -> list[M]:
    """``list(build(*args))`` for a queryset of fixed shape on the hot path (a lock from a
    ``lock_objects`` module), without the ORM building and compiling it again on every call.

    The queryset is built and compiled once per ``build``, database and shape (the length of each
    list argument), with stand-in values; each call then runs that SQL with its own values in
    their places. So the statement, its locks and its order are exactly the ORM's. ``args`` are
    ints, strings, or lists of ints, and must each reach the SQL as parameters (a queryset that
    folds a value into its text is refused when compiled). Rows become instances as the ORM makes
    them (``from_db``; annotations as attributes). A queryset whose columns need converting (on
    SQLite) is built by the ORM on every call."""
    conn = default_connection()
    shape = tuple(len(a) if isinstance(a, list | tuple) else type(a) for a in args)
    plan = _plan(build, shape, conn.alias)
    if plan is None:
        return list(build(*args))
    sql, slots, model, init_list, fields_range, annotations, locks = plan
    if locks and conn.get_autocommit():  # as the ORM refuses it: the lock would end at once
        raise transaction.TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    values: list[Any] = [v for a in args for v in (a if isinstance(a, list | tuple) else [a])]
    params: list[Any] = [values[slot] if isinstance(slot, int) else slot[0] for slot in slots]
    with statement_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    db, (start, end) = conn.alias, fields_range
    objs = []
    for row in rows:
        obj = model.from_db(db, init_list, row[start:end])
        for name, position in annotations:
            setattr(obj, name, row[position])
        objs.append(obj)
    return objs


_STAND_IN_INT = -7_340_000_000_000


@cache
def _plan(build: Callable[..., QuerySet], shape: tuple[int | type, ...], alias: str):
    stand_ins: list[Any] = []
    args: list[Any] = []
    for kind in shape:
        if kind is str:
            stand_ins.append(f"~stand-in {len(stand_ins)}~")
            args.append(stand_ins[-1])
        elif kind is int:
            stand_ins.append(_STAND_IN_INT - len(stand_ins))
            args.append(stand_ins[-1])
        else:
            assert isinstance(kind, int)
            values = [_STAND_IN_INT - len(stand_ins) - i for i in range(kind)]
            stand_ins.extend(values)
            args.append(values)
    queryset = build(*args)
    compiler = queryset.query.get_compiler(alias)
    sql, params = compiler.as_sql()
    select, klass_info = compiler.select, compiler.klass_info
    if compiler.get_converters([column[0] for column in select]) or klass_info.get("related_klass_infos"):
        return None
    position = {value: i for i, value in enumerate(stand_ins)}
    slots = [position[p] if isinstance(p, int | str) and p in position else (p,) for p in params]
    if {s for s in slots if isinstance(s, int)} != set(range(len(stand_ins))):
        raise ValueError("every argument of a compiled queryset must reach its SQL as a parameter")
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    annotations = tuple(compiler.annotation_col_map.items())
    locks = queryset.query.select_for_update
    return sql, slots, queryset.model, init_list, (start, end), annotations, locks
