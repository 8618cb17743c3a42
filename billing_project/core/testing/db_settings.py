"""PostgreSQL's settings as a block of code's statements run under them: what a test of a report's
``SET LOCAL`` limits reads."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def current_settings(query: str) -> tuple:
    """``query`` (a ``SELECT`` of ``current_setting(…)``s) run now, on the default connection."""
    with connection.cursor() as cursor:
        cursor.execute(query)
        row = cursor.fetchone()
    assert row is not None
    return row


@contextmanager
def settings_at_each_statement(query: str) -> Iterator[list[tuple]]:
    """The list of ``query``'s answers read just before each statement the block sends, but the
    statements that set settings (``set_config``), on that statement's own cursor."""
    seen: list[tuple] = []

    def note_settings(execute, sql, params, many, context):
        if sql != query and "set_config" not in sql:
            context["cursor"].execute(query)
            seen.append(context["cursor"].fetchone())
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note_settings):
        yield seen
