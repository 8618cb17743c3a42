"""A page of a queryset and its count, read in one pass (``page_and_count``): for the admin's long
lists and the API's pages alike."""

from django.db.models import Count, QuerySet, Window

# More rows than any table holds: a signed 64-bit integer's largest value (PostgreSQL's bigint, SQLite's).
MAX_ROWS = 2**63 - 1


def page_and_count(queryset: QuerySet, number: int, per_page: int) -> tuple[QuerySet, int] | None:
    """Page ``number`` (from 1) of ``queryset``, ``per_page`` rows, and how many rows the queryset
    has in all, reading its rows once: the page's ids, each with ``COUNT(*) OVER ()``, then the page
    (``queryset`` filtered to those ids, in its order). Django's paginator counts and then reads the
    page: two passes over rows that no index finds in the list's order (the low-stock list's
    anti-join). ``None`` when ``number`` is past the last page (or below 1): let the paginator say
    so. ``queryset`` must not be ``distinct()`` (the window counts the rows before DISTINCT)."""
    bottom = (number - 1) * per_page
    # A page past any table's last row (an offset a database's 64-bit integer cannot hold) is past
    # the last page, without asking the database.
    if number < 1 or bottom + per_page > MAX_ROWS:
        return None
    rows = list(queryset.values_list("pk", Window(Count("*")))[bottom : bottom + per_page])
    if not rows:
        return None
    return queryset.filter(pk__in=[pk for pk, _ in rows]), rows[0][1]
