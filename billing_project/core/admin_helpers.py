"""What the apps' admin modules share: read-only admins for history, a service's refusal shown as
a message, and money columns written as the till writes amounts."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


class ReadOnlyAdminMixin:
    """Records that are history (bills, their lines, the drawer ledger) or derived (customers):
    anyone with the view permission sees them; nobody adds, changes or deletes them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DomainErrorsAsMessages(_ModelAdmin):
    """ModelAdmin mixin: a ``DomainError`` raised by a service while the admin saves (e.g. a SKU
    taken by a concurrent writer after the form validated) rolls the request's transaction back
    and comes back as an error message on the same page, instead of a server error."""

    def _domain_errors_as_messages(self, view, request, *args, **kwargs):
        from django.contrib import messages
        from django.http import HttpResponseRedirect

        from billing_project.core.errors import DomainError

        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, *args, **kwargs):
        return self._domain_errors_as_messages(super().changeform_view, request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        return self._domain_errors_as_messages(super().changelist_view, request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._domain_errors_as_messages(super().delete_view, request, *args, **kwargs)


def money_column(field: str, description: str | None = None):
    """An admin column or read-only field showing the model field ``field`` as the till writes
    amounts (``₹1,881.00``, via ``format_money``), sortable by the field."""
    from billing_project.core.money import format_money

    @admin.display(description=description or field.replace("_", " "), ordering=field)
    def column(obj):
        value = getattr(obj, field)
        return admin.site.empty_value_display if value is None else format_money(value)

    column.__name__ = f"{field}_money"
    return column
