"""Writes of the bill's path: guarded updates, inserts whose statement text is built once per model,
and ``Writes``, several writes sent as CTEs of one statement the caller sends anyway.

Every statement here is plain SQL built from the models' names (only placeholders carry values),
and every value is prepared as the ORM prepares it (``orm_internals.prepared_values``).
"""

import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Model

from .cursor import default_connection, statement_cursor
from .orm_internals import as_is, mark_inserted, prepared_values

M = TypeVar("M", bound=Model)


def guarded_add(
    model, field: str, deltas: Mapping[int, "int | Decimal"], *, also_set: Mapping[str, object] | None = None
) -> int:
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
    target = model._meta.get_field(field)
    table, column = quote(model._meta.db_table), quote(target.column)
    pk = quote(model._meta.pk.column)
    result = f"t.{column} + v.column2"
    if target.get_internal_type() == "DecimalField" and connection.vendor == "sqlite":
        # SQLite adds decimals as binary floats: 0.3 − 0.1 − 0.2 is not 0 there. Rounded to the
        # column's places, each result is the same float its decimal text is, so sums stay exact.
        result = f"ROUND({result}, {int(target.decimal_places)})"
    assignments = ", ".join(
        [f"{column} = {result}"] + [f"{quote(model._meta.get_field(n).column)} = %s" for n in also_set]
    )
    values = ", ".join(["(%s, %s)"] * rows)
    return (
        f"UPDATE {table} AS t SET {assignments} FROM (VALUES {values}) AS v "  # noqa: S608 - names from the model
        f"WHERE t.{pk} = v.column1 AND {result} >= 0" + (f" RETURNING t.{pk}" if returning else "")
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
        self,
        name: str,
        model,
        field: str,
        deltas: Mapping[int, int],
        objs: Sequence[M],
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

    def insert(
        self, name: str, objs: Sequence[M], *, computed: Mapping[str, str] | None = None, keyed: bool = False
    ) -> "InsertedIds[M]":
        """``insert_rows(objs)`` as the CTE ``{name}``. ``objs`` must not be empty. ``computed``:
        see ``Computed``. ``keyed``: the rows' keys are already theirs (``reserve_with_children``
        took them from the table's sequence) and are inserted with the rest. PostgreSQL only."""
        if self._now:
            assert not computed and not keyed, "computed values and given keys are for one statement's CTEs"
            return InsertedIds(insert_rows(objs), "")
        model = type(objs[0])
        assert not keyed or all(obj.pk is not None for obj in objs), "keyed rows need their keys"
        self.add(name, *_values_insert(model, objs, _computed(model, computed), keyed=keyed))
        pk = connection.ops.quote_name(str(model._meta.pk.column))
        return InsertedIds(objs, f"(SELECT coalesce(json_agg({pk}), '[]') FROM {name})")  # noqa: S608

    def insert_family(
        self,
        name: str,
        parent: M,
        *children: "Children | tuple[str, Sequence[Model]]",
    ) -> "InsertedFamily[M]":
        """``insert_with_children(parent, *children)`` as CTEs: the parent's INSERT as ``{name}``,
        each child model's as ``{name}_c1``, ``{name}_c2``…, each child row taking the parent's new
        key from it. Each of ``children`` is ``(foreign_key, objs)``, or ``Children`` prepared
        beforehand. Elsewhere (SQLite) it is ``insert_with_children`` at once."""
        families = [c if isinstance(c, Children) else Children(*c) for c in children]
        if self._now:
            insert_with_children(parent, *((c.fk, c.objs) for c in families))
            return InsertedFamily(parent, families, "")
        parent_model = type(parent)
        self.add(name, *_values_insert(parent_model, [parent], ()))
        key = connection.ops.quote_name(str(parent_model._meta.pk.column))
        return InsertedFamily(parent, families, self.insert_children(name, f"(SELECT {key} FROM {name})", families))  # noqa: S608

    def insert_children(self, parent: str, key_sql: str, families: Sequence["Children"]) -> str:
        """Each of ``families``' INSERT as the CTE ``{parent}_c1``, ``{parent}_c2``…, each row's
        foreign key the key of the CTE ``parent`` (a new row's, or one reserved); returns the SQL of
        the JSON array of ``key_sql`` then each model's new keys in the order given."""
        keys = [key_sql]
        for index, child in enumerate(families, start=1):
            if not child.objs:
                keys.append("'[]'::json")
                continue
            sql, pk = _child_insert_sql(type(child.objs[0]), child.fk, parent)
            self.add(f"{parent}_c{index}", sql, [child.json])
            keys.append(f"(SELECT coalesce(json_agg({pk} ORDER BY {pk}), '[]') FROM {parent}_c{index})")  # noqa: S608
        return f"json_build_array({', '.join(keys)})"


class Children:
    """A parent's new rows of one model, for ``Writes.insert_family``: ``fk`` is their foreign key
    to the parent. On PostgreSQL their values are prepared when it is made, as one JSON parameter
    (``_json_rows``, every field but ``fk``): a caller that holds a lock while its statement runs
    prepares them before taking it."""

    def __init__(self, fk: str, objs: Sequence[Model]) -> None:
        self.fk, self.objs = fk, objs
        self.json = ""
        if objs and default_connection().vendor == "postgresql":
            self.json = _json_rows(objs, [f for f in _insert_fields(type(objs[0])) if f.name != fk])


class InsertedFamily(Generic[M]):
    """The rows of ``Writes.insert_family`` (or ``reserve_with_children``): ``sql`` gives their new
    keys (a JSON array: the parent's key, then each child model's keys in the order given), and
    ``inserted(value)`` sets the keys and the children's foreign keys on the instances, as
    ``insert_with_children`` does; the parent is marked saved only when ``parent_written``."""

    def __init__(self, parent: M, children: Sequence[Children], sql: str, *, parent_written: bool = True) -> None:
        self.parent, self.children, self.sql, self.parent_written = parent, children, sql, parent_written

    def inserted(self, value: Any = None) -> M:
        if self.sql:
            keys = json.loads(value) if isinstance(value, str) else value
            if self.parent_written:
                mark_inserted([self.parent], [(keys[0],)])
            else:
                self.parent.pk = keys[0]
            for child, child_keys in zip(self.children, keys[1:], strict=True):
                for obj in child.objs:
                    setattr(obj, child.fk, self.parent)
                mark_inserted(child.objs, [(key,) for key in child_keys])
        return self.parent


# A write's values the statement computes: a field's name and the SQL expression inserted in its
# place in every row, which may read an earlier CTE of the statement (a parent row's new key, a
# counter's number); ``{value}`` in it stands for the row's own value of that field. Only names
# and SQL written in the code go in an expression; values are parameters. PostgreSQL only.
Computed = tuple[tuple[str, str], ...]


def _computed(model: type[Model], computed: Mapping[str, str] | None) -> Computed:
    if not computed:
        return ()
    return _checked(model, tuple(computed.items()))


@cache
def _checked(model: type[Model], computed: Computed) -> Computed:
    names = {f.name for f in _insert_fields(model)} | {f.attname for f in _insert_fields(model)}
    unknown = {name for name, _ in computed} - names
    assert not unknown, f"{model.__name__} has no field(s) {', '.join(sorted(unknown))} to compute"
    return computed


def _expression(field, computed: Computed, value: str) -> str:
    """What the INSERT puts in ``field``'s place: its computed expression (``{value}`` replaced by
    ``value``, the SQL of the row's own value), else ``value``."""
    for name, expression in computed:
        if name in (field.name, field.attname):
            return expression.replace("{value}", value)
    return value


def _values_insert(
    model: type[Model], objs: Sequence[Model], computed: Computed, *, keyed: bool = False
) -> tuple[str, list[Any]]:
    """``INSERT … VALUES … RETURNING`` the key, for ``objs`` (with their keys when ``keyed``), with
    the ``computed`` values, and its parameters: a computed field's value is a parameter only where
    its expression names ``{value}``."""
    plan, conn = _plan_for(model, keyed), default_connection()
    params = [v for obj in objs for v in prepared_values(obj, plan, conn)]
    if computed:
        takes = _takes_value(model, computed, keyed) * len(objs)
        params = [v for v, taken in zip(params, takes, strict=True) if taken]
    return _insert_sql(model, len(objs), computed, keyed), params


@cache
def _takes_value(model: type[Model], computed: Computed, keyed: bool = False) -> tuple[bool, ...]:
    """For each field of ``_insert_fields(model, keyed)``, whether the INSERT takes its value as a parameter."""
    return tuple("%s" in _expression(field, computed, "%s") for field in _insert_fields(model, keyed))


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
        return mark_inserted(self.objs, [(key,) for key in keys])


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
    """The values of ``objs`` for ``fields``, prepared as the ORM prepares them
    (``prepared_values``), as ONE JSON parameter: a list of rows, each a list of values (decimals
    and times as their text, which PostgreSQL reads back exactly). One parameter, however many rows
    and columns."""
    db = default_connection()
    plan = [(field, as_is(field)) for field in fields]
    rows = [prepared_values(obj, plan, db) for obj in objs]
    return json.dumps(rows, default=str)


@cache
def _plan_for(model: type[Model], keyed: bool = False) -> tuple[tuple[Any, tuple[type, ...]], ...]:
    return tuple((field, as_is(field)) for field in _insert_fields(model, keyed))


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


# SQLite's own limit on a statement's parameters since 3.32 (Debian 12 ships 3.40).
SQLITE_MAX_PARAMS = 32766


def insert_rows(objs: Sequence[M]) -> list[M]:
    """``bulk_create`` for the bill's path: every concrete field of the new instances (all of one
    model) in ONE ``INSERT … VALUES … RETURNING`` of the primary keys, set on the instances as
    ``bulk_create`` sets them. The values are prepared by each field, as the ORM prepares them.

    The ORM builds the same statement through its insert compiler on every call, at more CPU than
    the statement takes to run; here its text is built once per model and row count. No signals are
    sent, as with ``bulk_create``. PostgreSQL, and SQLite (which has ``RETURNING`` too) up to
    ``SQLITE_MAX_PARAMS`` values: ``bulk_create`` there splits a bill's lines into batches of 999
    values (Django's own limit for old SQLite builds), so a bill's statements would depend on its
    number of lines; elsewhere it is ``bulk_create``."""
    conn = default_connection()
    if not objs:
        return []
    model = type(objs[0])
    fits = (
        conn.vendor == "sqlite"
        and sqlite3.sqlite_version_info >= (3, 35)
        and len(objs) * len(_insert_fields(model)) <= SQLITE_MAX_PARAMS
    )
    if conn.vendor != "postgresql" and not fits:
        return model._default_manager.bulk_create(objs)
    plan = _plan_for(model)
    params: list[Any] = [value for obj in objs for value in prepared_values(obj, plan, conn)]
    with statement_cursor() as cursor:
        cursor.execute(_insert_sql(model, len(objs)), params)
        rows = cursor.fetchall()
    return mark_inserted(objs, rows)


@cache
def _insert_fields(model: type[Model], keyed: bool = False) -> tuple:
    # An auto-incremented key is the database's to give (RETURNING reads it back), unless the row
    # has one already (``keyed``: ``reserve_with_children`` took it); a key the model makes itself,
    # such as a task's UUID, is inserted like any other value.
    return tuple(
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and f.db_returning and not keyed) and not f.generated
    )


@cache
def _insert_sql(model: type[Model], rows: int, computed: Computed = (), keyed: bool = False) -> str:
    quote = connection.ops.quote_name
    fields = _insert_fields(model, keyed)
    row = "(" + ", ".join(_expression(f, computed, "%s") for f in fields) + ")"
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
    writes = Writes()
    family = writes.insert_family("parent", parent, *children)
    with statement_cursor() as cursor:
        cursor.execute(f"WITH {writes.sql} SELECT {family.sql}", writes.params)
        (value,) = cursor.fetchone()
    family.inserted(value)


def reserve_with_children(parent: M, *children: Children) -> None:
    """The new ``parent``'s key taken from its table's sequence, and its ``children`` (each
    ``Children``) inserted naming it, in ONE statement; the parent itself is inserted later in the
    same transaction, with that key (``Writes.insert(…, keyed=True)``). Its children's foreign keys
    are checked at the commit (Django creates them ``DEFERRABLE INITIALLY DEFERRED``), so a
    transaction that never inserts the parent cannot commit. From this statement on, the transaction
    holds the parent table's lock as one that inserted into it. Sets the parent's key (the instance is
    still unsaved), and the children's keys and foreign keys, as ``insert_with_children`` does.
    PostgreSQL only: for a caller that holds a lock while it writes the parent, and writes what it
    can before taking it."""
    assert default_connection().vendor == "postgresql", "a key is reserved from a PostgreSQL sequence"
    model, quote = type(parent), connection.ops.quote_name
    key, table = quote(str(model._meta.pk.column)), quote(model._meta.db_table)
    writes = Writes()
    # The statement that takes the key holds the parent table's ROW EXCLUSIVE lock, as an INSERT
    # into it would (a statement's target tables are locked before it runs; this one changes no
    # row): a reader that waits for the table's writers to end (LOCK TABLE … IN SHARE MODE, the
    # sales rollups' seal, which then reads the highest id committed) waits for this transaction too.
    writes.add("parent_writer", f"UPDATE {table} SET {key} = {key} WHERE false", [])  # noqa: S608
    writes.add(
        "parent",
        f"SELECT nextval(pg_get_serial_sequence(%s, %s)) AS {key}",
        [model._meta.db_table, model._meta.pk.column],
    )
    key_sql = f"(SELECT {key} FROM parent)"  # noqa: S608 - a quoted name from the model
    family = InsertedFamily(parent, children, writes.insert_children("parent", key_sql, children), parent_written=False)
    with statement_cursor() as cursor:
        cursor.execute(f"WITH {writes.sql} SELECT {family.sql}", writes.params)
        (value,) = cursor.fetchone()
    family.inserted(value)


@cache
def _child_insert_sql(model: type[Model], fk: str, parent: str) -> tuple[str, str]:
    """A child model's INSERT of its JSON rows (every field but ``fk``), each row's ``fk`` the new
    key of the CTE ``parent``, and its quoted key column. Only quoted names from the models are
    interpolated; the values are parameters."""
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    values = [f for f in fields if f.name != fk]
    parent_model = model._meta.get_field(fk).related_model
    assert parent_model is not None, f"{model.__name__}.{fk} is not a foreign key"
    new_key = f"(SELECT {quote(str(parent_model._meta.pk.column))} FROM {parent})"  # noqa: S608
    select = ", ".join(new_key if f.name == fk else f"u.c{values.index(f)}" for f in fields)
    pk = quote(str(model._meta.pk.column))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "  # noqa: S608
        f"SELECT {select} FROM {_from_json_rows(values)} RETURNING {pk}"
    )
    return sql, pk
