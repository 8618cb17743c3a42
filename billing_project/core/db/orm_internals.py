"""Every use of what Django, DRF and django-tasks-db do not promise, and nothing else.

The bill's path saves CPU by doing some of the ORM's work itself, and a few API helpers reach into
DRF. Each such reach is here, in one module, so an upgrade has one place to re-check:

- ``compiled_rows``: a queryset's SQL, compiled once (``Query.get_compiler``, the compiler's
  ``select``, ``klass_info``, ``annotation_col_map`` and ``get_converters``);
- ``prepared_values``: what ``Field.get_db_prep_save`` returns, taken as it is for the field classes
  and value types where PostgreSQL's preparation hands it back unchanged (``AS_IS``);
- ``new_row``: an instance built positionally, its related instances put in the foreign keys'
  caches (``set_cached_value``);
- ``mark_inserted``: primary keys set on new instances as ``bulk_create`` does (``_state``);
- ``set_prefetched`` / ``prefetched``: a relation's rows in the prefetch cache
  (``_prefetched_objects_cache``, ``QuerySet._result_cache`` and ``_prefetch_done``);
- ``task_row`` / ``task_row_saved``: django-tasks-db's enqueue, split so the row can be written by a
  statement of the caller's (the library's ``DBTaskResult`` fields, ``normalize_json``, ``_get_id``
  and the signals it sends);
- ``mark_saved``, ``instance_db``, ``remember_permissions``, ``permissions_remembered``: a model
  instance's ``_state`` and ModelBackend's per-user ``_perm_cache``;
- ``lazy_messages`` / ``messages_untouched``: the request's message storage (``request._messages``,
  ``SimpleLazyObject._wrapped``);
- ``use_pool_check``: psycopg_pool's connection check (``ConnectionPool._check``);
- ``cache_long_statements``: psycopg's limits on the statements whose parsing it caches
  (``psycopg._queries.MAX_CACHED_STATEMENT_LENGTH`` and ``MAX_CACHED_STATEMENT_PARAMS``);
- DRF's ``DjangoModelPermissions._queryset`` (``ModelFromViewClass``), and its serializer field
  lists (``_readable_fields``, ``_writable_fields``, ``_read_only_defaults``)
  and drf-spectacular's ``_map_serializer_field``, used by the API's fast paths and schema extensions.

``billing_project/tests/test_orm_internals.py`` fails when the installed Django, DRF,
drf-spectacular, psycopg, psycopg-pool or django-tasks-db is not the version these were checked against
(``CHECKED_AGAINST``), and says what to re-check; the other tests of the bill's path
(``test_db.py``) check the results against the ORM's.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models import Model, QuerySet
from django.db.models.signals import post_save, pre_save

from .cursor import default_connection, statement_cursor

M = TypeVar("M", bound=Model)

# The versions whose internals this module was last checked against (see the module's docstring).
CHECKED_AGAINST = {
    "django": "5.2",
    "djangorestframework": "3.18",
    "django-tasks-db": "0.13",
    "drf-spectacular": "0.30",
    "psycopg": "3.3",
    "psycopg-pool": "3.3",
}


# --- Values prepared as the ORM prepares them -------------------------------------------------------

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
AS_IS: dict[type, tuple[type, ...]] = {
    **dict.fromkeys(_INTEGER_FIELDS, _INTEGER),
    models.DecimalField: (Decimal, type(None)),
    models.CharField: (str, type(None)),
    models.TextField: (str, type(None)),
    models.DateTimeField: (datetime, type(None)),
    models.BooleanField: (bool,),
}
_INTEGER_KEYS = (*_INTEGER_FIELDS, models.AutoField, models.BigAutoField, models.SmallAutoField)

Plan = Sequence[tuple[Any, tuple[type, ...]]]


@cache
def as_is(field) -> tuple[type, ...]:
    """The value types ``field``'s preparation hands back unchanged on PostgreSQL (see ``AS_IS``)."""
    if type(field) is models.ForeignKey:
        return _INTEGER if type(field.target_field) in _INTEGER_KEYS else ()
    return AS_IS.get(type(field), ())


def prepared_values(obj: Model, plan: Plan, db) -> list[Any]:
    """``[field.get_db_prep_save(field.pre_save(obj, True), db) for field in fields]``, taking a
    value as it is where that would hand it back unchanged (``plan`` pairs each field with
    ``as_is(field)``). What it returns renders the same, as a parameter or in JSON. Only
    PostgreSQL's preparation is known here: elsewhere every value goes through the field.

    The bill's lines, payments and ledger rows hold about eighty values, and ``get_db_prep_save``
    costs about ten calls each."""
    if db.vendor != "postgresql":
        return [field.get_db_prep_save(field.pre_save(obj, True), db) for field, _ in plan]
    row = []
    for field, kinds in plan:
        value = field.pre_save(obj, True)
        kind = type(value)
        if kind in kinds and (
            (kind is not Decimal and kind is not datetime)
            or (value.is_finite() if kind is Decimal else value.utcoffset() is not None)
        ):
            row.append(value)
        else:
            row.append(field.get_db_prep_save(value, db))
    return row


# --- New instances ---------------------------------------------------------------------------------


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


def mark_inserted(objs: Sequence[M], rows: Sequence[Sequence[Any]]) -> list[M]:
    """Primary keys from ``RETURNING``, in the rows' order, set on the new instances as
    ``bulk_create`` does (the instances now belong to the default database)."""
    for obj, (pk,) in zip(objs, rows, strict=True):
        obj.pk = pk
        mark_saved(obj, DEFAULT_DB_ALIAS)
    return list(objs)


# --- Prefetched relations --------------------------------------------------------------------------


def set_prefetched(instance: Model, **related: Iterable[Model]) -> None:
    """Put rows in ``instance``'s prefetch cache as ``prefetch_related`` would, one relation per
    name: a service that has just written a bill's lines hands the bill back with them, and the
    answer reads them without another query."""
    cache_ = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, objects in related.items():
        queryset = getattr(instance, name).all()
        queryset._result_cache = list(objects)
        queryset._prefetch_done = True
        cache_[name] = queryset


def prefetched(instance: Any) -> dict[str, QuerySet] | None:
    """``instance``'s prefetch cache (relation name → its rows), or ``None`` without one."""
    return instance.__dict__.get("_prefetched_objects_cache")


# --- Querysets compiled once -----------------------------------------------------------------------


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


# --- django-tasks-db: a task's row, written by the caller ------------------------------------------


def task_row(backend, task, args, kwargs) -> tuple[Any, str]:
    """The row django-tasks-db's ``enqueue`` would create for ``task`` (its ``_task_to_db_task``),
    unsaved, with ``pre_save`` sent as ``save()`` would (the library sets ``run_after`` in a receiver),
    and the database it belongs to. Write it, then call ``task_row_saved``."""
    from django.db import router
    from django_tasks_db.backend import normalize_json
    from django_tasks_db.models import DBTaskResult

    row: Any = DBTaskResult(
        id=backend._get_id(),
        args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after,
        backend_name=backend.alias,
    )
    using = router.db_for_write(DBTaskResult, instance=row)
    pre_save.send(sender=DBTaskResult, instance=row, raw=False, using=using, update_fields=None)
    return row, using


def task_row_saved(backend, row, using: str, result=None):
    """What follows the INSERT in the library's ``enqueue``: the instance marked saved, ``post_save``,
    then ``task_enqueued`` with the task's result (built from the row unless given), which it returns."""
    from django_tasks.signals import task_enqueued

    mark_saved(row, using)
    post_save.send(sender=type(row), instance=row, created=True, update_fields=None, raw=False, using=using)
    if result is None:
        result = row.task_result
    task_enqueued.send(type(backend), task_result=result)
    return result


# --- A model instance's state ----------------------------------------------------------------------


def mark_saved(obj: Model, db: str | None) -> None:
    """``obj`` is now a saved row of database ``db`` (a service saved another instance of it)."""
    obj._state.adding = False
    obj._state.db = db


def instance_db(obj: Model) -> str | None:
    """The database ``obj`` was read from or saved to."""
    return obj._state.db


def remember_permissions(user: Any, perms: Iterable[str]) -> None:
    """Put ``perms`` in ModelBackend's per-user cache, as ``get_all_permissions`` leaves it."""
    user._perm_cache = set(perms)


def permissions_remembered(user: Any) -> bool:
    """True once ModelBackend's per-user cache holds ``user``'s permissions."""
    return hasattr(user, "_perm_cache")


# --- Django's messages -----------------------------------------------------------------------------


def lazy_messages(request: Any, make: Callable[[], Any]) -> None:
    """Give ``request`` a message storage made by ``make`` when it is first used."""
    from django.utils.functional import SimpleLazyObject

    request._messages = SimpleLazyObject(make)


def messages_untouched(request: Any) -> bool:
    """True when the storage ``lazy_messages`` gave ``request`` was never made."""
    from django.utils.functional import SimpleLazyObject, empty

    messages = getattr(request, "_messages", None)
    return type(messages) is SimpleLazyObject and messages._wrapped is empty


# --- psycopg_pool ----------------------------------------------------------------------------------


def use_pool_check(pool: Any, check: Callable[[Any], None]) -> None:
    """Make ``check`` the pool's check of a connection before lending it (psycopg_pool takes it
    only when the pool is built, and Django builds the pool)."""
    if pool._check is not check:
        pool._check = check


# --- psycopg ---------------------------------------------------------------------------------------

# The longest statement text, and the most parameters, whose parsing psycopg is to cache.
CACHED_STATEMENT_LENGTH = 16384
CACHED_STATEMENT_PARAMS = 200


def cache_long_statements() -> None:
    """Let psycopg cache the parsing of statements up to ``CACHED_STATEMENT_LENGTH`` bytes and
    ``CACHED_STATEMENT_PARAMS`` parameters. psycopg splits a query's text at its placeholders with a
    regular expression, and caches the result by the query's text only up to 4,096 bytes and 50
    parameters (its ``_queries`` module's limits): a bill's last statement, which writes the bill
    and every row naming it at once, is longer, and was split again on every bill (about 400 calls).
    Its text is built once per shape of bill, so the cache holds a few dozen such statements."""
    from psycopg import _queries

    _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, CACHED_STATEMENT_LENGTH)
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, CACHED_STATEMENT_PARAMS)


# --- DRF and drf-spectacular -----------------------------------------------------------------------


def readable_fields(serializer: Any) -> Iterable[Any]:
    """The fields a serializer puts out (DRF's ``_readable_fields``)."""
    return serializer._readable_fields


class FieldListsOnce:
    """DRF finds a serializer's writable fields, and its read-only ones with a default, by walking its
    field mapping on every ``run_validation`` of every (nested) serializer; a serializer's fields never
    change once built, so both lists are made once per instance. Mixed into ``FastInputMixin``."""

    @property
    def _writable_fields(self):
        fields = self.__dict__.get("_writable_fields_list")
        if fields is None:
            fields = self._writable_fields_list = [f for f in self.fields.values() if not f.read_only]  # type: ignore[attr-defined]
        return fields

    def _read_only_defaults(self):
        from rest_framework.fields import empty

        has_any = self.__dict__.get("_has_read_only_defaults")
        if has_any is None:
            # DRF's own test for the fields it would look at.
            has_any = self._has_read_only_defaults = any(
                f.read_only and f.default != empty and f.source != "*" and "." not in (f.source or "")
                for f in self.fields.values()  # type: ignore[attr-defined]
            )
        return super()._read_only_defaults() if has_any else {}  # type: ignore[misc]


# The serializer methods FieldListsOnce replaces (fast_input checks no serializer overrides them).
FIELD_LIST_METHODS = ("_writable_fields", "_read_only_defaults")


class ModelFromViewClass:
    """For DRF's ``DjangoModelPermissions`` (its ``_queryset``): only the view's model is needed. A view
    whose ``get_queryset()`` does real work (filters, prefetches) names the model with a class-level
    ``queryset`` instead, so that work is not repeated on every request just to find out which
    permissions to check."""

    def _queryset(self, view):
        queryset = getattr(type(view), "queryset", None)
        if queryset is not None:
            return queryset
        return super()._queryset(view)  # type: ignore[misc]


def spectacular_field_schema(auto_schema: Any, field: Any, direction: str) -> dict:
    """drf-spectacular's own schema for ``field``, as it would be without our extension: an extension
    starts from it and changes only what it states more exactly."""
    return auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
