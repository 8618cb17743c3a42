"""An upgrade of Django, DRF, drf-spectacular, psycopg, psycopg-pool or django-tasks-db stops here until
someone re-checks what ``billing_project/core/db/orm_internals.py`` relies on, and says so by updating
``CHECKED_AGAINST``."""

import ast
from importlib.metadata import version
from pathlib import Path

import pytest
from django.conf import settings

from billing_project.core.db import orm_internals

# What to re-check, per library, before moving its line in CHECKED_AGAINST.
RECHECK = {
    "django": (
        "compiled_rows (Query.get_compiler, the compiler's select, klass_info, annotation_col_map and "
        "get_converters), prepared_values (AS_IS against each field class's get_db_prep_save on "
        "PostgreSQL), new_row (Field.set_cached_value), mark_inserted (Model._state) and set_prefetched "
        "(_prefetched_objects_cache, QuerySet._result_cache, _prefetch_done), mark_saved / instance_db "
        "(Model._state), remember_permissions (ModelBackend's _perm_cache), lazy_messages / "
        "messages_untouched (request._messages, SimpleLazyObject._wrapped)"
    ),
    "djangorestframework": (
        "ModelFromViewClass against DjangoModelPermissions._queryset; readable_fields and FieldListsOnce "
        "against Serializer._readable_fields, _writable_fields and "
        "_read_only_defaults (what run_validation calls, and DRF's own test for read-only defaults)"
    ),
    "drf-spectacular": "spectacular_field_schema against AutoSchema._map_serializer_field(bypass_extensions=True)",
    "psycopg": (
        "cache_long_statements against psycopg._queries (MAX_CACHED_STATEMENT_LENGTH and "
        "MAX_CACHED_STATEMENT_PARAMS, read by PostgresClientQuery.convert on every query; "
        "test_queries.py's test that a bill's statements are parsed once)"
    ),
    "psycopg-pool": "use_pool_check against ConnectionPool._check (called before a connection is lent)",
    "django-tasks-db": (
        "task_row and task_row_saved against DatabaseBackend.enqueue and _task_to_db_task (the row's "
        "fields, normalize_json, _get_id, the signals sent)"
    ),
}


def _major_minor(text: str) -> str:
    return ".".join(text.split(".")[:2])


@pytest.mark.parametrize("library", sorted(orm_internals.CHECKED_AGAINST))
def test_the_installed_library_is_the_one_the_internals_were_checked_against(library):
    installed = _major_minor(version(library))
    checked = orm_internals.CHECKED_AGAINST[library]
    assert installed == checked, (
        f"{library} is {version(library)}, but orm_internals was checked against {checked}. "
        f"Re-check {RECHECK[library]}; run the bill's tests on PostgreSQL (test_db.py, test_queries.py, "
        f"test_recorded_day.py); then set CHECKED_AGAINST[{library!r}] = {installed!r}."
    )


def test_every_library_checked_has_its_list_of_what_to_recheck():
    assert set(RECHECK) == set(orm_internals.CHECKED_AGAINST)


# Private names the project may use anywhere: Django documents these three.
_PUBLIC_UNDERSCORED = {"_meta", "_default_manager", "_value_"}


def _reaches_into_another_object(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and node.attr not in _PUBLIC_UNDERSCORED
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        and not (isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) == "super")
    )


def test_no_private_attribute_is_reached_outside_orm_internals():
    """``obj._private`` on anything but ``self`` belongs in orm_internals (tests and migrations aside)."""
    root = Path(settings.BASE_DIR)
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] in (".venv", "bench") or {"tests", "migrations"} & set(relative.parts):
            continue
        if relative == Path(orm_internals.__file__).relative_to(root):
            continue
        tree = ast.parse(path.read_text(), filename=str(relative))
        found += [
            f"{relative}:{n.lineno}: {ast.unparse(n)}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and _reaches_into_another_object(n)
        ]
    assert not found, "move these into billing_project/core/db/orm_internals.py:\n" + "\n".join(found)
