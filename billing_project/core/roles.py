"""The three roles, as Django groups with model permissions. Superusers need no role.

``roles_setup()`` is idempotent: it creates the groups when missing and resets each group's
permissions to exactly the lists below, so running it again after a change here applies the
change. ``manage.py setup_roles`` and ``manage.py seed_demo`` call it. ``role_required`` guards
every app's pages with a role's permission.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.shortcuts import render

from billing_project.core.db import atomic_write

HEAD_OFFICE = "Head office"
MANAGER = "Manager"
CASHIER = "Cashier"
ROLES = (HEAD_OFFICE, MANAGER, CASHIER)

# Not a Meta permission of Purchase: created here, so that no migration is needed for it.
EXPORT_PURCHASES = ("purchases", "purchase", "export_purchase", "Can export bills as CSV")

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    # Runs the shop: catalogue and stock, the drawer float, users' roles; sees everything; exports.
    MANAGER: (
        "catalog.add_product",
        "catalog.change_product",
        "catalog.delete_product",
        "catalog.view_product",
        "catalog.view_cost",
        "catalog.view_stockmovement",
        "catalog.add_supplier",
        "catalog.change_supplier",
        "catalog.view_supplier",
        "catalog.add_receipt",
        "catalog.view_receipt",
        "catalog.view_receiptline",
        "catalog.add_adjustment",
        "catalog.view_adjustment",
        "catalog.view_adjustmentline",
        "catalog.add_stockcount",
        "catalog.view_stockcount",
        "catalog.view_stockcountline",
        # Transfers between stores: send from, and receive into, the stores the manager works at.
        "catalog.add_transfer",
        "catalog.view_transfer",
        "catalog.view_transferline",
        "catalog.receive_transfer",
        "cashdrawer.add_denomination",
        "cashdrawer.change_denomination",
        "cashdrawer.view_denomination",
        "cashdrawer.view_drawermovement",
        "cashdrawer.add_till",
        "cashdrawer.change_till",
        "cashdrawer.view_till",
        "cashdrawer.add_tillsession",
        "cashdrawer.change_tillsession",
        "cashdrawer.view_tillsession",
        "cashdrawer.approve_variance",
        "cashdrawer.approve_override",
        "cashdrawer.view_override",
        "cashdrawer.add_cashmovement",
        "cashdrawer.view_cashmovement",
        "customers.view_customer",
        "customers.change_customer",  # only a business buyer's GST details (the admin)
        "purchases.add_purchase",
        "purchases.view_purchase",
        "purchases.view_purchaseitem",
        "purchases.export_purchase",
        "purchases.resend_invoice",
        "purchases.give_large_discount",
        "purchases.view_sales_report",
        "purchases.view_paymentmethod",
        "purchases.add_paymentmethod",
        "purchases.change_paymentmethod",
        "purchases.add_refund",
        "purchases.view_refund",
        "purchases.view_heldbill",
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        "auth.view_group",
        # API tokens (one per till device): list them and revoke a lost till's.
        "knox.view_authtoken",
        "knox.delete_authtoken",
        # Locked-out logins: see them, and unlock a till early by deleting its attempt record.
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
    ),
    # Runs the chain: a manager of every store (``catalog.view_all_stores``), who also opens stores,
    # changes them and puts staff in them. ``catalog.stores`` draws the line for everyone else.
    HEAD_OFFICE: (),  # filled below: the Manager's permissions and these
    # Rings up bills; sees products, customers and bills. Changes stock and the drawer only
    # through the bills it rings up (purchase_create) and by opening and closing its till's session
    # with a count, never directly. Cash in/out needs cashdrawer.add_cashmovement, granted per user,
    # or a manager's override (a PIN at the till); an open over CASH_VARIANCE_LIMIT needs a manager's
    # override, and a close over it waits for a manager's approval (approve_variance).
    CASHIER: (
        "catalog.view_product",
        "cashdrawer.view_denomination",
        "cashdrawer.view_till",
        "cashdrawer.add_tillsession",
        "cashdrawer.change_tillsession",
        "cashdrawer.view_tillsession",
        "customers.view_customer",
        "purchases.add_purchase",
        "purchases.view_purchase",
        "purchases.view_purchaseitem",
        "purchases.view_paymentmethod",
        # Sees refunds; makes them only when a manager grants purchases.add_refund to the user.
        "purchases.view_refund",
    ),
}


ROLE_PERMISSIONS[HEAD_OFFICE] = (
    *ROLE_PERMISSIONS[MANAGER],
    "catalog.view_all_stores",
    "catalog.add_store",
    "catalog.change_store",
    "catalog.view_store",
)


def _ensure_custom_permissions() -> None:
    app_label, model, codename, name = EXPORT_PURCHASES
    content_type = ContentType.objects.get_by_natural_key(app_label, model)
    Permission.objects.get_or_create(content_type=content_type, codename=codename, defaults={"name": name})


def _permissions(names: tuple[str, ...]) -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in names}
    query = Q()
    for app_label, codename in wanted:
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query).select_related("content_type"))
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise ImproperlyConfigured(
            "Missing permissions: "
            + ", ".join(sorted(f"{app}.{code}" for app, code in missing))
            + ". Run `manage.py migrate` first."
        )
    return found


@atomic_write()
def roles_setup() -> dict[str, int]:
    """Create or update the Head office, Manager and Cashier groups. Returns {group name: number of permissions}."""
    _ensure_custom_permissions()
    result = {}
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(_permissions(names))
        result[role] = len(names)
    return result


def role_assign(*, user, role: str) -> None:
    """Put ``user`` in exactly one role group (and no other role group); makes them staff so they can
    use the admin. Other, non-role groups are left alone. A user who works at no store yet joins the
    default store (``catalog.Store.staff``, reached through the user, as this layer imports no app)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    roles_setup()
    groups = Group.objects.filter(name__in=ROLES)
    user.groups.remove(*[g for g in groups if g.name != role])
    user.groups.add(next(g for g in groups if g.name == role))
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    stores = getattr(user, "stores", None)
    if stores is not None and not stores.exists():
        stores.add(*stores.model.objects.filter(is_default=True))


def user_roles(user) -> list[str]:
    if user.is_superuser:
        return ["superuser"]
    return sorted(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


def role_required(permission: str):
    """Log in first; then a user without the role's permission gets a 403 page, not a login loop."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                # What to do next depends on whether the account has a role at all.
                context = {"has_role": bool(user_roles(request.user))}
                return render(request, "billing/forbidden.html", context, status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
