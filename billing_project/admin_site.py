"""The store's admin site: the index shows today's sales and low stock and leads to the sales
dashboard (``/admin/sales/``); user admin is role-aware.

Installed as the default admin site through ``BillingAdminConfig`` (INSTALLED_APPS), so
``admin.site`` and ``@admin.register`` everywhere use it. Configuration, above every app: the apps'
admin modules take their shared pieces from ``billing_project.core.admin_helpers``, never from here.
"""

from functools import partial

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode

from billing_project.core.db import reads_without_jit
from billing_project.core.db.pages import page_and_count
from billing_project.core.quantities import quantity_text


class BillingAdminSite(admin.AdminSite):
    site_header = "Store back office"
    site_title = "Store back office"
    index_title = "Back office"
    index_template = "admin/billing_index.html"
    site_url = "/billing/"  # "View site": the billing page (``/`` would send a manager back here)
    empty_value_display = "—"  # the one way an empty cell is written, as on the billing pages
    # The app list sidebar takes a quarter of a 1280-pixel screen from every list; the index page
    # and the breadcrumbs lead everywhere it does.
    enable_nav_sidebar = False

    def get_app_list(self, request, app_label=None):
        """Django's list of the apps and models the user may see, built when something first reads
        it. Django builds it for every admin page's context (``each_context``'s ``available_apps``),
        for the nav sidebar that this site turns off: about 2-4 ms of every list, form and report
        page for a list nothing shows. The index and an app's page read it, as a list."""
        return SimpleLazyObject(partial(self.built_app_list, request, app_label))

    def built_app_list(self, request, app_label=None) -> list:
        """The app list itself (``AdminSite.get_app_list``)."""
        return super().get_app_list(request, app_label)

    def each_context(self, request):
        context = super().each_context(request)
        # The store's name, as in the billing page's header (templates/admin/base_site.html).
        context["site_header"] = context["site_title"] = f"{settings.STORE_NAME} back office"
        return context

    def get_urls(self):
        from django.urls import path

        return [
            path("sales/", self.admin_view(self.sales_view), name="sales_report"),
            path("override-pin/", self.admin_view(self.override_pin_view), name="override_pin"),
            *super().get_urls(),
        ]

    def override_pin_view(self, request):
        """A manager sets their own override PIN (``cashdrawer.admin.override_pin_view``)."""
        from cashdrawer.admin import override_pin_view

        return override_pin_view(request, self)

    def sales_view(self, request):
        """The sales dashboard (``purchases.sales_dashboard``); needs ``purchases.view_sales_report``."""
        from purchases.sales_dashboard import sales_dashboard

        return sales_dashboard(request, site=self)

    def index(self, request, extra_context=None):
        return super().index(request, {**self.dashboard(request), **(extra_context or {})})

    def dashboard(self, request) -> dict:
        from catalog.selectors import low_stock_products, low_stock_threshold, reorder_suggestions
        from catalog.stores import scope, visible_store_ids
        from purchases.reports import sales_for_day

        user = request.user
        context: dict = {}
        if user.has_perm("purchases.view_sales_report"):
            context["sales_report_url"] = reverse("admin:sales_report")
        if user.has_perm("purchases.view_purchase"):
            sales = sales_for_day(store_ids=visible_store_ids(user))
            start = sales["day"].isoformat()
            context["today_sales"] = sales
            context["today_sales_url"] = (
                reverse("admin:purchases_purchase_changelist") + "?" + urlencode({"created_at__date": start})
            )
        if user.has_perm("cashdrawer.approve_override"):
            context["override_pin_url"] = reverse("admin:override_pin")
        if user.has_perm("cashdrawer.approve_variance"):
            from cashdrawer.selectors import sessions_pending_approval

            context["pending_sessions"] = list(scope(sessions_pending_approval(), user))
        if user.has_perm("catalog.view_product"):
            from catalog.stores import can_see_store, visible_store_ids

            # ``?store=``: that store's stock (none for a store the user does not see); else the
            # stores the user sees, summed.
            threshold = low_stock_threshold()
            asked = request.GET.get("store", "")
            stores: int | list[int] | None = visible_store_ids(user)
            if asked:
                stores = int(asked) if asked.isdigit() and can_see_store(user, int(asked)) else []
            products = low_stock_products(threshold=threshold, stores=stores)
            context["low_stock_threshold"] = threshold
            # One pass over the products for the first 20 and their count (``page_and_count``), without
            # JIT: a stock sum per product, whose plan took longer to compile than to run.
            with reads_without_jit():
                first = page_and_count(products, 1, 20)
                low, low_count = (list(first[0]), first[1]) if first is not None else ([], 0)
            suggested = reorder_suggestions(low, stores=stores)
            for product in low:
                product.reorder_text = quantity_text(suggested[product.pk], product.unit)  # for the template
            context["low_stock"] = low
            context["low_stock_count"] = low_count
            context["low_stock_url"] = (
                reverse("admin:catalog_product_changelist")
                + "?"
                + urlencode({"low_stock": "yes", "is_active__exact": "1", **({"store": asked} if asked else {})})
            )
        return context


class BillingAdminConfig(AdminConfig):
    default_site = "billing_project.admin_site.BillingAdminSite"

    def ready(self):
        super().ready()  # autodiscovers every app's admin module, django.contrib.auth's included
        register_user_admin(admin.site)
        register_store_admin(admin.site)


def register_store_admin(site: admin.AdminSite) -> None:
    """The stores, for head office (``catalog.add_store`` / ``change_store``): code, name, GST
    registration and address, and the staff who work there."""
    from catalog.models import Store
    from catalog.stores import StoreScopedAdmin

    class StoreAdmin(StoreScopedAdmin, admin.ModelAdmin):
        list_display = ("code", "name", "state_code", "gstin", "is_active", "is_default", "staff_count")
        list_filter = ("is_active",)
        search_fields = ("code", "name", "gstin")
        filter_horizontal = ("staff",)
        readonly_fields = ("is_default", "created_at")

        def get_queryset(self, request):
            return super().get_queryset(request).prefetch_related("staff")

        @admin.display(description="staff")
        def staff_count(self, obj):
            return len(obj.staff.all())

        def has_delete_permission(self, request, obj=None):
            return False  # tills, bills and stock name their store

    if not site.is_registered(Store):
        site.register(Store, StoreAdmin)
    _scope_token_admin(site)


def _scope_token_admin(site: admin.AdminSite) -> None:
    """API tokens: a store's manager sees and revokes the tokens of their stores' users only."""
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    from catalog.stores import visible_store_ids

    if not site.is_registered(AuthToken):
        return
    base = type(site.get_model_admin(AuthToken))

    class StoreApiTokenAdmin(base):  # type: ignore[valid-type, misc]  # the core's token admin
        store_rule = "auth.user"

        def get_queryset(self, request):
            tokens = super().get_queryset(request)
            ids = visible_store_ids(request.user)
            if ids is None:
                return tokens
            return tokens.filter(user__in=get_user_model().objects.filter(stores__in=ids).values("pk"))

    site.unregister(AuthToken)
    site.register(AuthToken, StoreApiTokenAdmin)


def register_user_admin(site: admin.AdminSite) -> None:
    """Replace django.contrib.auth's User admin with one a manager can use safely: a manager
    (``auth.change_user`` without being a superuser) can give users the Manager or Cashier role
    and staff access, but cannot see or grant superuser status or individual permissions, and
    cannot change or delete a superuser."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.admin import UserAdmin
    from django.contrib.auth.models import Group

    from billing_project.core.roles import HEAD_OFFICE, ROLES
    from catalog.stores import sees_all_stores, visible_store_ids, visible_stores

    user_model = get_user_model()

    class StoreUserAdmin(UserAdmin):
        list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active", "roles", "stores")
        list_filter = ("is_staff", "is_superuser", "is_active", "groups")
        store_rule = "auth.user"  # a store's manager sees the users of their stores

        @admin.display(description="stores")
        def stores(self, obj):
            return ", ".join(store.code for store in obj.stores.all()) or "—"

        def get_form(self, request, obj=None, change=False, **kwargs):
            if sees_all_stores(request.user):
                # Head office puts users in stores on the user form.
                kwargs["form"] = _with_stores(self.add_form if obj is None else self.form)
            return super().get_form(request, obj, change=change, **kwargs)

        def get_fieldsets(self, request, obj=None):
            fieldsets = self._role_fieldsets(request, obj)
            if sees_all_stores(request.user):
                fieldsets = [*fieldsets, ("Stores", {"fields": ["stores"]})]
            return fieldsets

        @admin.display(description="roles")
        def roles(self, obj):
            if obj.is_superuser:
                return "superuser"
            return ", ".join(sorted(g.name for g in obj.groups.all())) or "—"

        def get_queryset(self, request):
            users = super().get_queryset(request).prefetch_related("groups", "stores")
            ids = visible_store_ids(request.user)
            if ids is None:
                return users
            # A store's manager sees the users of their stores, and no one of another store.
            return users.filter(pk__in=user_model.objects.filter(stores__in=ids).values("pk"))

        def _role_fieldsets(self, request, obj=None):
            fieldsets = super().get_fieldsets(request, obj)
            if request.user.is_superuser:
                return fieldsets
            hidden = {"is_superuser", "user_permissions"}
            return [
                (name, {**opts, "fields": [f for f in opts["fields"] if f not in hidden]}) for name, opts in fieldsets
            ]

        def formfield_for_manytomany(self, db_field, request, **kwargs):
            if db_field.name == "groups" and not request.user.is_superuser:
                # Only head office makes head office: a store's manager offers Manager and Cashier.
                offered = ROLES if request.user.has_perm("catalog.view_all_stores") else set(ROLES) - {HEAD_OFFICE}
                kwargs["queryset"] = Group.objects.filter(name__in=offered)
            return super().formfield_for_manytomany(db_field, request, **kwargs)

        def save_related(self, request, form, formsets, change):
            self._save_roles(request, form, formsets, change)
            if "stores" in form.cleaned_data:
                form.instance.stores.set(form.cleaned_data["stores"])
            elif not change:
                # A store's manager adds staff to their own stores.
                form.instance.stores.add(*visible_stores(request.user))

        def _save_roles(self, request, form, formsets, change):
            if request.user.is_superuser or "groups" not in form.cleaned_data:
                return super().save_related(request, form, formsets, change)
            # The form only offers the role groups: keep any other group the user is in.
            other = list(form.instance.groups.exclude(name__in=ROLES)) if change else []
            super().save_related(request, form, formsets, change)
            form.instance.groups.add(*other)

        def _guards_superuser(self, request, obj) -> bool:
            # A superuser is changed by superusers only, head office by head office only.
            if obj is None or request.user.is_superuser:
                return False
            return obj.is_superuser or (sees_all_stores(obj) and not sees_all_stores(request.user))

        def has_change_permission(self, request, obj=None):
            return not self._guards_superuser(request, obj) and super().has_change_permission(request, obj)

        def has_delete_permission(self, request, obj=None):
            return not self._guards_superuser(request, obj) and super().has_delete_permission(request, obj)

    if site.is_registered(user_model):
        site.unregister(user_model)
    site.register(user_model, StoreUserAdmin)


def _with_stores(form_class):
    """``form_class`` with the user's stores as a field (head office's user form)."""
    from django import forms
    from django.contrib.admin.widgets import FilteredSelectMultiple

    from catalog.models import Store

    class WithStores(form_class):  # type: ignore[valid-type, misc]  # a form class given at run time
        stores = forms.ModelMultipleChoiceField(
            queryset=Store.objects.order_by("code"),
            required=False,
            widget=FilteredSelectMultiple("stores", is_stacked=False),
            help_text="The stores this user works at: they see only these stores' tills, bills and reports, "
            "unless they are head office.",
        )

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.instance.pk:
                self.fields["stores"].initial = list(self.instance.stores.values_list("pk", flat=True))

    return WithStores
