"""Stores and who sees them: the one place the store boundary is decided.

A user with ``catalog.view_all_stores`` (the Head office role) or a superuser sees and manages every
store. Everyone else sees only the stores they are staff of (``Store.staff``): their tills,
sessions, bills, refunds, stock and reports. A row of another store is answered as if it did not
exist (404 ``not_found``), never as forbidden, so its existence is not revealed.
"""

from django.db.models import Exists, Q, QuerySet

from .models import Store

VIEW_ALL_STORES = "catalog.view_all_stores"


def default_store() -> Store:
    """The default store (code ``MAIN`` unless renamed): where a till, a product's opening stock or a
    bill that names no store belongs. Made again from the store settings, as migration catalog 0008
    makes it, when a database emptied after the migrations (a flushed test database) has none."""
    store = Store.objects.filter(is_default=True).first()
    return store if store is not None else _default_store_again()


def default_store_id() -> int:
    """The default store's id: the default of ``Till.store``."""
    pk = Store.objects.filter(is_default=True).values_list("pk", flat=True).first()
    return pk if pk is not None else _default_store_again().pk


def _default_store_again() -> Store:
    from django.conf import settings
    from django.db import IntegrityError, transaction

    from billing_project.core.gst import store_gstin, store_state_code

    legal_name = settings.STORE_LEGAL_NAME if settings.STORE_LEGAL_NAME != settings.STORE_NAME else ""
    try:
        with transaction.atomic():
            return Store.objects.create(
                code="MAIN",
                name=(settings.STORE_NAME or "Main store")[:200],
                legal_name=(legal_name or "")[:200],
                address=settings.STORE_ADDRESS or "",
                gstin=store_gstin(),
                state_code=store_state_code() or "",
                is_default=True,
            )
    except IntegrityError:  # made at the same moment by another request
        return Store.objects.get(is_default=True)


def sees_all_stores(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_perm(VIEW_ALL_STORES)))


def visible_store_ids(user) -> list[int] | None:
    """The ids of the stores ``user`` may see, or ``None`` for every store (head office).
    An anonymous user, or one who works at no store, sees none: ``[]``."""
    if sees_all_stores(user):
        return None
    if not (user and user.is_authenticated):
        return []
    # Read once per user object, as Django keeps a user's permissions (an API token's remembered
    # user comes with them: ``billing_project.core.api.authentication``).
    remembered = getattr(user, "remembered_store_ids", None)
    if remembered is None:
        remembered = user.remembered_store_ids = list(user.stores.values_list("pk", flat=True))
    return list(remembered)


def visible_stores(user) -> QuerySet[Store]:
    ids = visible_store_ids(user)
    return Store.objects.all() if ids is None else Store.objects.filter(pk__in=ids)


def can_see_store(user, store_id: int | None) -> bool:
    ids = visible_store_ids(user)
    return ids is None or store_id in ids


# --- Store rules: the one table of how each kind of row finds its store ------------------------------
#
# Every view of the API, the admin and the pages declares its store rule (``store_rule``): the model
# label of what it shows, whose lookup below cuts it to the user's stores, or ``CHAIN_WIDE`` for what
# is one for the chain (the catalogue, payment methods, customers), or ``STORE_PENDING`` while its rows
# cannot name a store yet. ``billing_project/tests/test_store_boundary.py`` walks every URL and fails
# on a view that declares none.

CHAIN_WIDE = "chain_wide"
# A view whose rows cannot name a store yet declares ``STORE_PENDING`` and is listed in
# ``STORE_PENDING_VIEWS``: the boundary test reports it. None is today.
STORE_PENDING = "store_pending"

# The path from each model to its store's id: the rows of trade carry their own ``store`` (bills,
# lines, payments, refunds and theirs, sessions, cash and drawer movements, stock movements and the
# stock documents), kept in step by the services; the rest reach it through their till.
STORE_LOOKUPS: dict[str, str] = {
    "catalog.store": "pk",
    "auth.user": "stores",  # staff: the users of the user's stores (and their API tokens)
    "cashdrawer.till": "store",
    "cashdrawer.denomination": "till__store",
    "cashdrawer.tillsession": "store",
    "cashdrawer.cashmovement": "store",
    "cashdrawer.drawermovement": "store",
    "cashdrawer.override": "till__store",
    "purchases.purchase": "store",
    "purchases.purchaseitem": "store",
    "purchases.payment": "store",
    "purchases.refund": "store",
    "purchases.refundline": "store",
    "purchases.refundpayment": "store",
    "purchases.documentpdf": "purchase__store",
    "purchases.heldbill": "till__store",
    "catalog.storestock": "store",
    "catalog.storeprice": "store",
    "catalog.stockmovement": "store",
    "catalog.receipt": "store",
    "catalog.adjustment": "store",
    "catalog.stockcount": "store",
    # Two stores: a transfer is seen from either end (``selectors.transfer_list``).
    "catalog.transfer": "from_store|to_store",
}


# Rows whose till may be empty (a bill from before tills, an override asked for away from a till):
# the lookup to that till; such a row belongs to the default store.
NULL_TILL_IN_DEFAULT_STORE: dict[str, str] = {
    "cashdrawer.override": "till",
}


def _label(model) -> str:
    return model if isinstance(model, str) else model._meta.label_lower


def store_filter(model, store_ids) -> Q:
    """The condition for rows of ``model`` (a class or a label) in the stores ``store_ids`` (a list,
    or a query of store ids: then it is a subquery, no query of its own)."""
    label = _label(model)
    condition = Q()
    for lookup in STORE_LOOKUPS[label].split("|"):  # a row of two stores is in either
        condition |= Q(**{f"{lookup}__in": store_ids})
    till = NULL_TILL_IN_DEFAULT_STORE.get(label)
    if till is not None:
        in_default = Exists(Store.objects.filter(pk__in=store_ids, is_default=True))
        condition |= Q(**{f"{till}__isnull": True}) & Q(in_default)
    return condition


def _user_store_ids(user):
    """``visible_store_ids`` as a query (``None``: every store), to be a subquery of the caller's."""
    if sees_all_stores(user):
        return None
    if not (user and user.is_authenticated):
        return []
    remembered = getattr(user, "remembered_store_ids", None)
    if remembered is not None:
        return list(remembered)
    return Store.objects.filter(staff=user).values("pk")


def store_lookup(model) -> str:
    """The lookup from ``model`` (a class or a label such as ``"purchases.purchase"``) to its store."""
    return STORE_LOOKUPS[_label(model)]


def scope(queryset: QuerySet, user, model=None) -> QuerySet:
    """``queryset`` cut to ``user``'s stores by its model's rule in ``STORE_LOOKUPS``."""
    ids = _user_store_ids(user)
    if ids is None:
        return queryset
    return queryset.filter(store_filter(model or queryset.model, ids))


def can_see(user, model, pk) -> bool:
    """Whether the row ``pk`` of ``model`` (a class) is in one of ``user``'s stores: always for head
    office, without a query (the caller's own read finds an unknown ``pk``); for anyone else an
    unknown ``pk`` is not."""
    ids = _user_store_ids(user)
    if ids is None:
        return True
    return model._default_manager.filter(pk=pk).filter(store_filter(model, ids)).exists()


def till_visible(user, till_id: int | None) -> bool:
    """Whether ``user`` may use the till ``till_id`` (``None``: the default till, ``DEFAULT_TILL``)."""
    from django.apps import apps
    from django.conf import settings

    till_model = apps.get_model("cashdrawer", "Till")
    tills = (
        till_model.objects.filter(pk=till_id)
        if till_id is not None
        else till_model.objects.filter(code=settings.DEFAULT_TILL)
    )
    ids = visible_store_ids(user)
    return ids is None or tills.filter(store__in=ids).exists()


def store_rule(rule: str):
    """Declares a page view's store rule (a model label of ``STORE_LOOKUPS``, ``CHAIN_WIDE`` or
    ``STORE_PENDING``); a class-based view or a ``ModelAdmin`` sets ``store_rule`` as an attribute."""

    def decorator(view):
        view.store_rule = rule
        return view

    return decorator


# The store rules of views that do not carry ``store_rule`` themselves, by dotted path (a view class,
# a ``ModelAdmin``) or URL name (one action of a view set).
VIEW_RULES: dict[str, str] = {
    # The catalogue is one for the chain.
    "catalog.api.ProductViewSet": CHAIN_WIDE,
    "catalog.api.SupplierViewSet": CHAIN_WIDE,
    "catalog.admin.ProductAdmin": CHAIN_WIDE,
    "catalog.admin.SupplierAdmin": CHAIN_WIDE,
    "catalog.api.TransferViewSet": "catalog.transfer",
    "catalog.stores_api.StoreViewSet": "catalog.store",  # head office only
    "catalog.admin.TransferAdmin": "catalog.transfer",
    "admin:catalog_product_import": CHAIN_WIDE,
    # The roles; lockouts of logins (by username and address, no store's rows); the task queue (no
    # role has its permissions: superusers only).
    "django.contrib.auth.admin.GroupAdmin": CHAIN_WIDE,
    "axes.admin.AccessAttemptAdmin": CHAIN_WIDE,
    "axes.admin.AccessLogAdmin": CHAIN_WIDE,
    "axes.admin.AccessFailureLogAdmin": CHAIN_WIDE,
    "django_tasks_db.admin.DBTaskResultAdmin": CHAIN_WIDE,
    # The admin site's own pages (``billing_project.admin_site``), by URL name.
    "admin:index": "purchases.purchase",  # today's sales and the counts waiting: the user's stores'
    "admin:sales_report": "purchases.purchase",
    "admin:override_pin": CHAIN_WIDE,  # the user's own PIN
}

# Views of rows that name no store yet: unscoped until their model has a store. The boundary test
# reports them; each becomes a ``STORE_LOOKUPS`` rule when its model has one. Empty: keep it so.
STORE_PENDING_VIEWS: set[str] = set()


class StoreScopedAdmin:
    """A ``ModelAdmin`` mixin: the list, the change pages, the exports and the related-field lists
    show only the rows of the user's stores (``store_rule``: this model's label, by default). A row of
    another store is as absent as one that does not exist: its change page says so and goes back."""

    store_rule: str = ""

    def __init_subclass__(cls, **kwargs):
        # An admin that builds its own queryset is scoped all the same.
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("get_queryset")
        if own is not None and not getattr(own, "store_scoped", False):

            def get_queryset(self, request, _own=own):
                return scope(_own(self, request), request.user, self.get_store_rule())

            get_queryset.store_scoped = True  # type: ignore[attr-defined]  # marks the wrapper
            cls.get_queryset = get_queryset  # type: ignore[method-assign]  # the scoped one

    def get_store_rule(self) -> str:
        return self.store_rule or self.model._meta.label_lower  # type: ignore[attr-defined]  # a ModelAdmin's

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user, self.get_store_rule())  # type: ignore[misc]  # a ModelAdmin's

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A till or a session to choose from is one of the user's stores'.
        label = db_field.related_model._meta.label_lower
        if label in STORE_LOOKUPS and label != "catalog.store" and "queryset" not in kwargs:
            kwargs["queryset"] = scope(db_field.related_model._default_manager.all(), request.user)
        elif label == "catalog.store" and "queryset" not in kwargs:
            kwargs["queryset"] = visible_stores(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]  # a ModelAdmin's


def staff_stores_set(*, user, store_ids: list[int]) -> list[Store]:
    """Put ``user`` in exactly the stores ``store_ids`` (head office's use case, from the API and the
    admin). An unknown store id is a ``ValidationFailed`` on ``stores``; nothing changes then."""
    from billing_project.core.db import atomic_write
    from billing_project.core.errors import ValidationFailed

    wanted = sorted(set(store_ids))
    stores = list(Store.objects.filter(pk__in=wanted))
    unknown = sorted(set(wanted) - {store.pk for store in stores})
    if unknown:
        raise ValidationFailed(
            "No such store: " + ", ".join(str(pk) for pk in unknown) + ".",
            details={"stores": [f"No store with id {pk}." for pk in unknown]},
        )
    with atomic_write():
        user.stores.set(stores)
    user.remembered_store_ids = None  # read again
    return sorted(stores, key=lambda store: store.code)
