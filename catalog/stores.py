"""Stores and who sees them: the one place the store boundary is decided.

A user with ``catalog.view_all_stores`` (the Head office role) or a superuser sees and manages every
store. Everyone else sees only the stores they are staff of (``Store.staff``): their tills,
sessions, bills, refunds, stock and reports. A row of another store is answered as if it did not
exist (404 ``not_found``), never as forbidden, so its existence is not revealed.
"""

from django.db.models import QuerySet

from .models import Store

VIEW_ALL_STORES = "catalog.view_all_stores"


def default_store() -> Store:
    """The default store (code ``MAIN`` unless renamed): where a till, a product's opening stock or a
    bill that names no store belongs."""
    return Store.objects.get(is_default=True)


def default_store_id() -> int:
    """The default store's id: the default of ``Till.store``."""
    return Store.objects.values_list("pk", flat=True).get(is_default=True)


def sees_all_stores(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_perm(VIEW_ALL_STORES)))


def visible_store_ids(user) -> list[int] | None:
    """The ids of the stores ``user`` may see, or ``None`` for every store (head office).
    An anonymous user, or one who works at no store, sees none: ``[]``."""
    if sees_all_stores(user):
        return None
    if not (user and user.is_authenticated):
        return []
    return list(user.stores.values_list("pk", flat=True))


def visible_stores(user) -> QuerySet[Store]:
    ids = visible_store_ids(user)
    return Store.objects.all() if ids is None else Store.objects.filter(pk__in=ids)


def scope_to_stores(queryset: QuerySet, user, lookup: str) -> QuerySet:
    """``queryset`` cut to the rows of the stores ``user`` sees; ``lookup`` is the path from the
    queryset's model to the store's id (``"store"``, ``"till__store"``, ``"purchase__store"``)."""
    ids = visible_store_ids(user)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{lookup}__in": ids})


def can_see_store(user, store_id: int | None) -> bool:
    ids = visible_store_ids(user)
    return ids is None or store_id in ids
