from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from billing_project.core.admin_helpers import (
    DomainErrorsAsMessages,
    ProbedDatesChangeList,
    ReadOnlyAdminMixin,
    money_column,
)
from billing_project.core.db.orm_internals import instance_db, mark_saved
from billing_project.core.money import format_money, format_note
from catalog.stores import StoreScopedAdmin, scope

from .models import MAX_COUNT, CashMovement, Denomination, DrawerMovement, Override, Till, TillSession
from .selectors import default_till_drawer, drawer_list, drawer_total, movement_list, till_list
from .services import (
    can_approve_override,
    can_approve_variance,
    denomination_create,
    drawer_set_counts,
    manager_pin_set,
    till_create,
    till_update,
)


class DrawerCountForm(forms.Form):
    """One count per denomination, plus why they changed. Each count field carries the count the
    manager saw (a hidden initial), so only the counts they edited are set: a bill that changed
    another count meanwhile is not overwritten."""

    reason = forms.CharField(
        max_length=255, required=False, help_text="Why the counts changed, e.g. “morning float” or “end-of-day count”."
    )

    def __init__(self, denominations, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.denominations = denominations
        for denomination in denominations:
            self.fields[self.field_name(denomination)] = forms.IntegerField(
                min_value=0,
                max_value=MAX_COUNT,
                initial=denomination.count,
                show_hidden_initial=True,
                label=f"{denomination.value}",
                widget=forms.NumberInput(attrs={"class": "vIntegerField", "min": 0}),
            )

    @staticmethod
    def field_name(denomination) -> str:
        return f"count_{denomination.pk}"

    def changed_counts(self) -> dict:
        return {
            d.value: self.cleaned_data[self.field_name(d)]
            for d in self.denominations
            if self.field_name(d) in self.changed_data and self.field_name(d) in self.cleaned_data
        }

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data
        if self.changed_counts() and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Say why the counts changed.")
        return cleaned


class DenominationAddForm(forms.ModelForm):
    count = forms.IntegerField(min_value=0, max_value=MAX_COUNT, initial=0, help_text="How many the drawer holds now.")
    reason = forms.CharField(max_length=255, required=False, initial="denomination added")

    class Meta:
        model = Denomination
        fields = ("till", "value", "count")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["till"].required = False
        self.fields["till"].help_text = f"Leave empty for the default till ({settings.DEFAULT_TILL})."

    def clean(self):
        cleaned = super().clean() or {}
        till, value = cleaned.get("till"), cleaned.get("value")
        if value is not None:
            drawer = Denomination.objects.filter(till=till) if till else default_till_drawer()
            if drawer.filter(value=value).exists():
                self.add_error("value", "That denomination is already in this till's drawer.")
        return cleaned


# The tills to filter by: the user's stores' (the ones their rows name), never every store's.
TILL_FILTER = ("till", admin.RelatedOnlyFieldListFilter)


@admin.register(Denomination)
class DenominationAdmin(StoreScopedAdmin, DomainErrorsAsMessages, admin.ModelAdmin):
    """The drawer screen replaces the list: every denomination's count, value × count and the
    drawer's total; a manager sets counts there. Every set goes through ``drawer_set_counts`` and
    lands in the ledger with the user and a reason."""

    form = DenominationAddForm
    drawer_template = "admin/cashdrawer/denomination/drawer.html"

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger references every denomination

    def has_view_permission(self, request, obj=None):
        # The close is blind: what the drawer holds is for those who may approve a variance.
        return super().has_view_permission(request, obj) and can_approve_variance(request.user)

    def has_module_permission(self, request):
        return super().has_module_permission(request) and can_approve_variance(request.user)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = denomination_create(
            value=data["value"],
            count=data["count"],
            till=data.get("till"),
            user=request.user,
            reason=(data.get("reason") or "").strip() or "denomination added in the admin",
        )
        obj.pk, obj.count = saved.pk, saved.count
        mark_saved(obj, instance_db(saved))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Counts are set on the drawer screen, all together, with a reason.
        return HttpResponseRedirect(reverse("admin:cashdrawer_denomination_changelist"))

    def response_add(self, request, obj, post_url_continue=None):
        if "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"Denomination {obj.value} added with {obj.count} in the drawer.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:cashdrawer_denomination_changelist"))

    def changelist_view(self, request, extra_context=None):
        return self._domain_errors_as_messages(self.drawer_view, request, extra_context)

    def drawer_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        can_change = self.has_change_permission(request)
        tills = list(scope(Till.objects.order_by("code"), request.user))
        till_param = request.GET.get("till", "")
        till = next((t for t in tills if str(t.pk) == till_param), None) or next(
            (t for t in tills if t.code == settings.DEFAULT_TILL), None
        )
        denominations = list(drawer_list(till_id=till.pk)) if till else []
        form = DrawerCountForm(denominations, data=request.POST if request.method == "POST" else None)
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            if form.is_valid():
                counts = form.changed_counts()
                if counts:
                    result = drawer_set_counts(
                        counts=counts, user=request.user, reason=form.cleaned_data["reason"].strip(), till=till
                    )
                    values = ", ".join(str(v) for v in result["changed"]) or "none"
                    self.message_user(request, f"Counts set for {values}.", messages.SUCCESS)
                else:
                    self.message_user(request, "No count was changed.", messages.INFO)
                return HttpResponseRedirect(request.get_full_path())
        rows = [
            {"denomination": d, "field": form[DrawerCountForm.field_name(d)], "total": d.total} for d in denominations
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Cash drawer of till {till.code}" if till and len(tills) > 1 else "Cash drawer",
            "till": till,
            "tills": tills,
            "form": form,
            "rows": rows,
            "drawer_total": drawer_total(denominations),
            "pieces": sum(d.count for d in denominations),
            "can_change": can_change,
            "has_add_permission": self.has_add_permission(request),
            "can_view_ledger": request.user.has_perm("cashdrawer.view_drawermovement"),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.drawer_template, context)


class BillFilter(admin.SimpleListFilter):
    """Movements of one bill (type its number), of any bill, or not of a bill (manual sets)."""

    title = "bill"
    parameter_name = "bill"
    template = "admin/cashdrawer/bill_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.other_params = [
            (k, v) for k, values in request.GET.lists() if k not in (self.parameter_name, "p") for v in values
        ]

    def lookups(self, request, model_admin):
        return [("any", "On a bill"), ("none", "Manual (no bill)")]

    def queryset(self, request, queryset):
        value = (self.value() or "").strip().lstrip("#")
        if not value:
            return queryset
        if value == "any":
            return queryset.filter(purchase__isnull=False)
        if value == "none":
            return queryset.filter(purchase__isnull=True)
        if value.isdigit() and len(value) <= 18:
            return queryset.filter(purchase_id=int(value))
        return queryset.none()


class SessionFilter(admin.SimpleListFilter):
    """Movements of one till session (``?session=<id>``), linked from the session's page."""

    title = "session"
    parameter_name = "session"

    def lookups(self, request, model_admin):
        return [("none", "Outside any session")]

    def queryset(self, request, queryset):
        value = (self.value() or "").strip().lstrip("#")
        if not value:
            return queryset
        if value == "none":
            return queryset.filter(session__isnull=True)
        if value.isdigit() and len(value) <= 18:
            return queryset.filter(session_id=int(value))
        return queryset.none()


@admin.register(DrawerMovement)
class DrawerMovementAdmin(StoreScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The drawer ledger: read-only, since history is never changed."""

    list_display = ("created_at", "till", "value", "kind", "delta", "count_after", "bill", "session", "user", "reason")
    list_filter = (
        TILL_FILTER,
        "kind",
        ("created_at", DateFieldListFilter),
        BillFilter,
        SessionFilter,
        ("denomination", admin.RelatedOnlyFieldListFilter),
    )
    date_hierarchy = "created_at"
    search_fields = ("reason",)
    list_per_page = 100

    def get_queryset(self, request):
        return movement_list()

    def get_changelist(self, request, **kwargs):
        # A ledger row per note or coin moved: the hierarchy's years, months and days are probed, not
        # read from every row.
        return ProbedDatesChangeList

    @admin.display(description="value", ordering="denomination__value")
    def value(self, obj):
        return format_note(obj.denomination.value)

    @admin.display(description="bill", ordering="purchase_id")
    def bill(self, obj):
        if obj.purchase_id is None:
            return self.admin_site.empty_value_display
        url = reverse("admin:purchases_purchase_change", args=[obj.purchase_id])
        return format_html('<a href="{}">#{}</a>', url, obj.purchase_id)


# --- Tills and sessions ---------------------------------------------------------------------------


class TillForm(forms.ModelForm):
    class Meta:
        model = Till
        fields = ("code", "name", "store", "is_active", "requires_open_session", "invoice_series", "credit_series")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "store" in self.fields:  # left empty: the default store (``till_create``)
            self.fields["store"].required = False

    def validate_unique(self):
        pass  # a taken code or series is the service's TillExists / SeriesTaken, shown as a message


@admin.register(Till)
class TillAdmin(StoreScopedAdmin, DomainErrorsAsMessages, admin.ModelAdmin):
    """Tills. Each till's drawer is on the drawer screen (``?till=``); its sessions and ledger are linked."""

    form = TillForm
    list_display = (
        "code",
        "name",
        "is_active",
        "requires_open_session",
        "invoice_series_code",
        "credit_series_code",
        "current_session",
        "drawer",
    )
    list_filter = ("is_active",)
    search_fields = ("code", "name")

    def get_queryset(self, request):
        return till_list()

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger references every till

    @staticmethod
    def _is_default(obj) -> bool:
        return obj is not None and obj.code == settings.DEFAULT_TILL

    def get_fields(self, request, obj=None):
        # The default till's code is shown, not edited: till_update refuses to change it.
        fields = list(TillForm.Meta.fields)
        return ["default_till_code", *fields[1:]] if self._is_default(obj) else fields

    def get_readonly_fields(self, request, obj=None):
        return ("default_till_code",) if self._is_default(obj) else ()

    @admin.display(description="code")
    def default_till_code(self, obj):
        return format_html(
            "{} — the default till (<code>DEFAULT_TILL</code>): bills that name no till use it by this code, "
            "so it cannot change. To make another till the default, set <code>DEFAULT_TILL</code> to its code.",
            obj.code,
        )

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in TillForm.Meta.fields if field in form.cleaned_data}
        if data.get("store") is not None:  # the services take the store's id
            data["store"] = data["store"].pk
        saved = till_update(till_id=obj.pk, **data) if change else till_create(**data)
        obj.pk = saved.pk

    @admin.display(description="open session")
    def current_session(self, obj):
        if obj.current_session is None:
            return "—"
        url = reverse("admin:cashdrawer_tillsession_change", args=[obj.current_session])
        return format_html('<a href="{}">#{}</a>', url, obj.current_session)

    @admin.display(description="drawer")
    def drawer(self, obj):
        url = reverse("admin:cashdrawer_denomination_changelist")
        return format_html('<a href="{}?till={}">Drawer</a>', url, obj.pk)


def _pieces_text(pieces) -> str:
    if not pieces:
        return "—"
    return ", ".join(f"{p['count']} × {p['value']}" for p in pieces)


@admin.register(TillSession)
class TillSessionAdmin(StoreScopedAdmin, admin.ModelAdmin):
    """Till sessions. Sessions are opened and closed at the till (or through the API); an open
    session's note can be edited here, a closed one is read-only. The Z report is shown as frozen."""

    list_display = (
        "id",
        "till",
        "status",
        "opened_at",
        "opened_by",
        "auto_opened",
        "closed_at",
        money_column("variance_total"),
        "approved_by",
    )
    list_filter = ("status", TILL_FILTER, "auto_opened", ("opened_at", DateFieldListFilter))
    date_hierarchy = "opened_at"
    readonly_fields = (
        "till",
        "status",
        "opened_at",
        "opened_by",
        "auto_opened",
        "opening",
        "opening_variance",
        "closed_at",
        "closed_by",
        "closing",
        "expected_counts",
        "variance_counts",
        money_column("variance_total"),
        "opening_approved_by",
        "approved_by",
        "approval_reason",
        "rejected",
        "z_report",
        "ledger",
    )
    fields = (*readonly_fields, "note")
    # What a user without approve_variance never sees: the close is blind.
    BLIND_HIDDEN = ("expected_counts", "variance_counts", "variance_total", "z_report")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("till", "opened_by", "closed_by", "approved_by")

    def _blind(self, names, request):
        if can_approve_variance(request.user):
            return names
        return tuple(n for n in names if getattr(n, "__name__", n) not in self.BLIND_HIDDEN)

    def get_list_display(self, request):
        return self._blind(super().get_list_display(request), request)

    def get_fields(self, request, obj=None):
        return self._blind(super().get_fields(request, obj), request)

    def get_readonly_fields(self, request, obj=None):
        return self._blind(super().get_readonly_fields(request, obj), request)

    @admin.display(description="counts sent back for a recount")
    def rejected(self, obj):
        rows = [
            (r.get("counted_by") or "—", _pieces_text(r.get("counted")), r.get("rejected_by") or "—", r.get("reason"))
            for r in obj.rejected_counts or []
        ]
        if not rows:
            return "—"
        body = format_html_join("", "<li>{}: {} — sent back by {}: {}</li>", rows)
        return format_html("<ul>{}</ul>", body)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_open:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description="opening count")
    def opening(self, obj):
        return _pieces_text(obj.opening_counted)

    @admin.display(description="closing count")
    def closing(self, obj):
        return _pieces_text(obj.closing_counted)

    @admin.display(description="expected at close")
    def expected_counts(self, obj):
        return _pieces_text(obj.expected)

    @admin.display(description="variance by value")
    def variance_counts(self, obj):
        return _pieces_text(obj.variance)

    @admin.display(description="report (Z once closed, X while open)")
    def z_report(self, obj):
        from .services import session_report

        report = session_report(session_id=obj.pk) if obj.pk else None
        if not report:
            return "—"
        cash = report["cash"]

        def amount(value) -> str:
            # Amounts as every page writes them; a frozen report from before a field existed has none.
            return "—" if value is None else format_money(value)

        rows = [
            ("Bills", report["bills"]),
            ("Discounts given", amount(report.get("discount_total"))),
            ("Sales, after discounts", amount(report["gross_sales"])),
            ("Tax", amount(report["tax_total"])),
            *(
                (f"Tax at {Decimal(r['tax_percent']).normalize():f}% on {amount(r['taxable'])}", amount(r["tax"]))
                for r in report["tax_by_rate"]
            ),
            ("Rounding", amount(report["rounding_total"])),
            *((f"Paid by {p['method']}", amount(p["amount"])) for p in report["payments"]),
            ("Opening float", amount(cash["opening"])),
            ("+ Cash sales (tendered)", amount(cash["sales"])),
            ("− Change given", amount(cash["change_given"])),
            ("+ Cash in", amount(cash["cash_in"])),
            ("− Cash out", amount(cash["cash_out"])),
            ("− Refunds", amount(cash["refunds"])),
            ("= Expected", amount(cash["expected"])),
            ("of which taken without notes", amount(cash["uncounted_cash"])),
            ("Counted", amount(cash["counted"])),
            ("Over (+) / short (−)", amount(cash["variance"])),
        ]
        body = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        return format_html('<table class="z-report">{}</table>', body)

    @admin.display(description="ledger")
    def ledger(self, obj):
        url = reverse("admin:cashdrawer_drawermovement_changelist")
        return format_html('<a href="{}?session={}">Movements of this session</a>', url, obj.pk)


@admin.register(CashMovement)
class CashMovementAdmin(StoreScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Cash paid in and out of the tills between bills: read-only, like the ledger."""

    list_display = ("created_at", "till", "session", "direction", money_column("amount"), "reason", "user")
    fields = readonly_fields = ("created_at", "till", "session", "direction", money_column("amount"), "reason", "user")
    list_filter = (TILL_FILTER, "direction", ("created_at", DateFieldListFilter))
    search_fields = ("reason",)


@admin.register(Override)
class OverrideAdmin(StoreScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every manager override asked for at a till, granted or refused: the audit list."""

    list_display = ("created_at", "action", "outcome", "username", "requested_by", "till", "used_at", "used_on")
    fields = readonly_fields = (
        "created_at",
        "action",
        "outcome",
        "username",
        "manager",
        "requested_by",
        "till",
        "expires_at",
        "used_at",
        "used_by",
        "used_on",
    )
    list_filter = ("outcome", "action", TILL_FILTER, ("created_at", DateFieldListFilter))
    search_fields = ("username", "used_on")
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("manager", "requested_by", "till", "used_by")


class OverridePinForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, help_text="Your own password, to confirm.")
    pin = forms.RegexField(
        regex=r"^[0-9]{4,8}$",
        max_length=8,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text="4 to 8 digits. You type it at a till to approve a cashier's action.",
        error_messages={"invalid": "A PIN is 4 to 8 digits."},
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("Wrong password.")
        return password


def override_pin_view(request, site):
    """The admin's "My override PIN" page: a manager sets their own PIN (password to confirm)."""
    if not can_approve_override(request.user):
        raise PermissionDenied
    form = OverridePinForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        manager_pin_set(user=request.user, pin=form.cleaned_data["pin"])
        messages.success(request, "Your override PIN is set.")
        return HttpResponseRedirect(reverse("admin:index"))
    context = {**site.each_context(request), "title": "My override PIN", "form": form}
    return TemplateResponse(request, "admin/cashdrawer/override_pin.html", context)
