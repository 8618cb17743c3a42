"""What the apps' admin modules share: read-only admins for history, a service's refusal shown as
a message, money columns written as the till writes amounts, a list's rows rendered without a
template per input, and a list's page and count read together."""

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, QuerySet, Window
from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

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


# Django's input widgets whose templates are input.html and attrs.html only (text, number, hidden and
# checkbox each just include input.html).
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html" for name in ("input", "text", "number", "hidden", "checkbox")
)


# Django's error list templates: an empty list writes nothing (ul.html is ``{% if errors %}…``, and
# the renderer strips what a template writes).
ERROR_LIST_TEMPLATES = frozenset(f"django/forms/errors/list/{name}.html" for name in ("default", "ul"))


class DirectInputRenderer(DjangoTemplates):
    """Django's form renderer, except that it writes the HTML of ``INPUT_TEMPLATES`` itself
    (``input_html``: what input.html and attrs.html write) instead of rendering two templates per
    input, and an empty error list (each editable cell of a list writes its field's) as the nothing
    its template writes. Every other template (errors, selects, the formset's) is Django's."""

    def render(self, template_name, context, request=None):
        if template_name in INPUT_TEMPLATES:
            return input_html(context["widget"])
        if template_name in ERROR_LIST_TEMPLATES and not context["errors"]:
            return ""
        return super().render(template_name, context, request)


def input_html(widget: dict) -> SafeString:
    """input.html with attrs.html: ``<input type name [value] attrs>``, each value as the templates
    write it (``stringformat:'s'``, escaped unless safe); an attribute that is True is written bare,
    one that is False is left out. Every name and value is escaped here and the tag joined as one
    string (``format_html`` per attribute cost four times as much, 300 inputs a page)."""
    esc = conditional_escape
    attrs = "".join(
        f" {esc(name)}" if value is True else f' {esc(name)}="{esc(value)}"'
        for name, value in widget["attrs"].items()
        if value is not False
    )
    value = "" if widget["value"] is None else f' value="{esc(widget["value"])}"'
    return mark_safe(f'<input type="{esc(widget["type"])}" name="{esc(widget["name"])}"{value}{attrs}>')  # noqa: S308


DIRECT_INPUTS = DirectInputRenderer()


class RowLinksChangeList(ChangeList):
    """Django's list, whose rows' links to their pages carry the list's filters (``_changelist_filters``)
    from here, made once per row: the same links, where Django's ``add_preserved_filters`` resolves
    each link's URL again to learn that it is not the list's own (it never is: a row links to its
    change page) and reverses a row's URL again for each of its linked columns."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What add_preserved_filters appends to a URL that is not the list's; the row links then need
        # nothing from it (an empty ``preserved_filters`` leaves a URL's own query as it is).
        self.row_link_query = urlencode(dict(parse_qsl(self.preserved_filters)))
        self.preserved_filters = ""
        self.row_links: dict[Any, str] = {}

    def url_for_result(self, result):
        pk = getattr(result, self.pk_attname)
        if pk not in self.row_links:
            url = super().url_for_result(result)
            self.row_links[pk] = f"{url}?{self.row_link_query}" if self.row_link_query else url
        return self.row_links[pk]


def page_and_count(queryset: QuerySet, number: int, per_page: int) -> tuple[QuerySet, int] | None:
    """Page ``number`` (from 1) of ``queryset``, ``per_page`` rows, and how many rows the queryset
    has in all, reading its rows once: the page's ids, each with ``COUNT(*) OVER ()``, then the page
    (``queryset`` filtered to those ids, in its order). Django's paginator counts and then reads the
    page: two passes over rows that no index finds in the list's order (the low-stock list's
    anti-join). ``None`` when ``number`` is past the last page (or below 1): let the paginator say
    so. ``queryset`` must not be ``distinct()`` (the window counts the rows before DISTINCT)."""
    if number < 1:
        return None
    bottom = (number - 1) * per_page
    rows = list(queryset.values_list("pk", Window(Count("*")))[bottom : bottom + per_page])
    if not rows:
        return None
    return queryset.filter(pk__in=[pk for pk, _ in rows]), rows[0][1]


def action_checkbox_html(obj) -> SafeString:
    """``ModelAdmin.action_checkbox``'s HTML (Django's checkbox widget of the row's id, with its class
    and label), written directly instead of making and rendering a widget for each of 100 rows."""
    label = format_html(gettext("Select this object for an action - {}"), str(obj))
    return format_html(
        '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
        helpers.ACTION_CHECKBOX_NAME,
        str(obj.pk),
        label,
    )


class DirectlyRenderedRows(_ModelAdmin):
    """ModelAdmin mixin for a list of many rows: each row's action checkbox is written directly
    (``action_checkbox_html``), its editable fields (``list_editable``, with the row's hidden id)
    are Django's widgets rendered by ``DirectInputRenderer``, and its links are
    ``RowLinksChangeList``'s: the same HTML, without rendering templates or resolving URLs for each
    of 100 rows."""

    def get_changelist(self, request, **kwargs):
        return RowLinksChangeList

    def action_checkbox(self, obj):
        return action_checkbox_html(obj)

    def get_changelist_formset(self, request, **kwargs):
        return super().get_changelist_formset(request, **{"renderer": DIRECT_INPUTS, **kwargs})
