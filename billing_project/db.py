"""Small database helpers shared by the services."""

from collections.abc import Mapping
from typing import Any

from django.db import connection


def guarded_add(model, field: str, deltas: Mapping[int, int], *, also_set: Mapping[str, object] | None = None) -> int:
    """``field = field + delta`` for every primary key in ``deltas`` in ONE statement, only where
    the result stays >= 0. Returns the number of rows updated: fewer than ``len(deltas)`` means a
    guard refused a row, and the caller refuses the whole operation.

    Plain SQL (``UPDATE … FROM (VALUES …)``, which PostgreSQL and SQLite both run): the ORM's
    ``Case(When(…))`` form of the same UPDATE costs more CPU to build than the statement takes to
    run, and this is on every bill's path. Only placeholders carry values; names come from the model.
    """
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(model._meta.get_field(field).column)
    pk = quote(model._meta.pk.column)
    extra = dict(also_set or {})
    assignments = ", ".join(
        [f"{column} = t.{column} + v.column2"] + [f"{quote(model._meta.get_field(n).column)} = %s" for n in extra]
    )
    rows = ", ".join(["(%s, %s)"] * len(deltas))
    sql = (
        f"UPDATE {table} AS t SET {assignments} FROM (VALUES {rows}) AS v "  # noqa: S608 - names from the model
        f"WHERE t.{pk} = v.column1 AND t.{column} + v.column2 >= 0"
    )
    params: list[Any] = [*extra.values(), *(value for pair in deltas.items() for value in pair)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
