"""An upgrade of Django, DRF or django-tasks-db stops here until someone re-checks what
``billing_project/core/db/orm_internals.py`` relies on, and says so by updating ``CHECKED_AGAINST``."""

from importlib.metadata import version

import pytest

from billing_project.core.db import orm_internals

# What to re-check, per library, before moving its line in CHECKED_AGAINST.
RECHECK = {
    "django": (
        "compiled_rows (Query.get_compiler, the compiler's select, klass_info, annotation_col_map and "
        "get_converters), prepared_values (AS_IS against each field class's get_db_prep_save on "
        "PostgreSQL), new_row (Field.set_cached_value), mark_inserted (Model._state) and set_prefetched "
        "(_prefetched_objects_cache, QuerySet._result_cache, _prefetch_done)"
    ),
    "djangorestframework": "the DRF section: the serializers' _writable_fields, _readable_fields, _read_only_defaults",
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
