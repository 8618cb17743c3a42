"""The store's admin site: the index shows today's sales and low stock and leads to the sales
dashboard (``/admin/sales/``); user admin is role-aware.

Installed as the default admin site through ``BillingAdminConfig`` (INSTALLED_APPS), so
``admin.site`` and ``@admin.register`` everywhere use it. Configuration, above every app: the apps'
admin modules take their shared pieces from ``billing_project.core.admin_helpers``, never from here.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import reverse
from django.utils.http import urlencode

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
        from purchases.reports import sales_for_day

        user = request.user
        context: dict = {}
        if user.has_perm("purchases.view_sales_report"):
            context["sales_report_url"] = reverse("admin:sales_report")
        if user.has_perm("purchases.view_purchase"):
            sales = sales_for_day()
            start = sales["day"].isoformat()
            context["today_sales"] = sales
            context["today_sales_url"] = (
                reverse("admin:purchases_purchase_changelist") + "?" + urlencode({"created_at__date": start})
            )
        if user.has_perm("cashdrawer.approve_override"):
            context["override_pin_url"] = reverse("admin:override_pin")
        if user.has_perm("cashdrawer.approve_variance"):
            from cashdrawer.selectors import sessions_pending_approval

            context["pending_sessions"] = list(sessions_pending_approval())
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
            low = list(products[:20])
            suggested = reorder_suggestions(low, stores=stores)
            for product in low:
                product.reorder_text = quantity_text(suggested[product.pk], product.unit)  # type: ignore[attr-defined]  # for the template
            context["low_stock"] = low
            context["low_stock_count"] = products.count()
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


def register_user_admin(site: admin.AdminSite) -> None:
    """Replace django.contrib.auth's User admin with one a manager can use safely: a manager
    (``auth.change_user`` without being a superuser) can give users the Manager or Cashier role
    and staff access, but cannot see or grant superuser status or individual permissions, and
    cannot change or delete a superuser."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.admin import UserAdmin
    from django.contrib.auth.models import Group

    from billing_project.core.roles import HEAD_OFFICE, ROLES

    user_model = get_user_model()

    class StoreUserAdmin(UserAdmin):
        list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active", "roles")
        list_filter = ("is_staff", "is_superuser", "is_active", "groups")

        @admin.display(description="roles")
        def roles(self, obj):
            if obj.is_superuser:
                return "superuser"
            return ", ".join(sorted(g.name for g in obj.groups.all())) or "—"

        def get_queryset(self, request):
            return super().get_queryset(request).prefetch_related("groups")

        def get_fieldsets(self, request, obj=None):
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
            if request.user.is_superuser or "groups" not in form.cleaned_data:
                return super().save_related(request, form, formsets, change)
            # The form only offers the role groups: keep any other group the user is in.
            other = list(form.instance.groups.exclude(name__in=ROLES)) if change else []
            super().save_related(request, form, formsets, change)
            form.instance.groups.add(*other)

        def _guards_superuser(self, request, obj) -> bool:
            return obj is not None and obj.is_superuser and not request.user.is_superuser

        def has_change_permission(self, request, obj=None):
            return not self._guards_superuser(request, obj) and super().has_change_permission(request, obj)

        def has_delete_permission(self, request, obj=None):
            return not self._guards_superuser(request, obj) and super().has_delete_permission(request, obj)

    if site.is_registered(user_model):
        site.unregister(user_model)
    site.register(user_model, StoreUserAdmin)
