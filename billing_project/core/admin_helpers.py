"""What the apps' admin modules share: read-only admins for history, a service's refusal shown as
a message, money columns written as the till writes amounts, a list's rows rendered without a
template per input, and a list's page and count read together."""

import datetime
import html
import itertools
from collections.abc import Callable
from operator import attrgetter
from types import MethodType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.utils import display_for_field, display_for_value, lookup_field
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.forms.renderers import DjangoTemplates
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.formats import get_format
from django.utils.functional import cached_property
from django.utils.html import format_html
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


def escaped(value) -> str:
    """``conditional_escape(value)``: a safe value's own HTML, else the value escaped as Django's
    ``escape`` does (``html.escape``), without ``escape``'s check for lazy arguments (a lazy value
    has ``__html__`` when it is safe, and ``str`` gives its text): a fifth of the time, 1,500 values a
    stock page."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def input_html(widget: dict) -> SafeString:
    """input.html with attrs.html: ``<input type name [value] attrs>``, each value as the templates
    write it (``stringformat:'s'``, escaped unless safe); an attribute that is True is written bare,
    one that is False is left out. Every name and value is escaped here and the tag joined as one
    string (``format_html`` per attribute cost four times as much, 300 inputs a page)."""
    esc = escaped
    attrs = "".join(
        f" {esc(name)}" if value is True else f' {esc(name)}="{esc(value)}"'
        for name, value in widget["attrs"].items()
        if value is not False
    )
    value = "" if widget["value"] is None else f' value="{esc(widget["value"])}"'
    return mark_safe(f'<input type="{esc(widget["type"])}" name="{esc(widget["name"])}"{value}{attrs}>')  # noqa: S308


DIRECT_INPUTS = DirectInputRenderer()


# What stands for a row's id in the change URL reversed once (``RowLinksChangeList``): a path
# segment no admin URL holds otherwise, which reversing leaves as it is.
_ROW_ID = "row-id-placeholder"


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
            # Django reverses the change URL for each row; an integer id only fills its place.
            url = self.row_change_url.replace(_ROW_ID, str(pk)) if type(pk) is int else super().url_for_result(result)
            self.row_links[pk] = f"{url}?{self.row_link_query}" if self.row_link_query else url
        return self.row_links[pk]

    @cached_property
    def row_change_url(self) -> str:
        """The rows' change URL, reversed once, with ``_ROW_ID`` in the place of the id."""
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=(_ROW_ID,),
            current_app=self.model_admin.admin_site.name,
        )


class PageByIdsChangeList(ChangeList):
    """Django's list, whose page is found before its rows are read: the page's ids first, in the
    list's order, from the model's own table; then just those rows with what the list joins and
    works out for them (``list_select_related``, annotations). In one query PostgreSQL joins and
    works out every row the page's OFFSET passes over too: page 500 of 200,000 customers with their
    figures took 5.9 s. The same rows either way; one query more."""

    def get_results(self, request):
        super().get_results(request)
        if self.result_list.query.is_sliced:  # a page of the list (not every row on one page)
            self.result_list = self.queryset.filter(pk__in=self.page_ids(request))

    def page_ids(self, request) -> list:
        """The ids of the page's rows (``result_list``, a slice of the list), in the list's order."""
        return list(self.result_list.values_list("pk", flat=True))


def answer_count(queryset, count: int) -> None:
    """``queryset.count()`` answers ``count`` without a query (a method of that queryset, as
    Paginator.count asks); its clones, and its page, query again. For a list that has counted its rows
    already, which the paginator would count a second time."""
    queryset.count = MethodType(lambda _queryset: count, queryset)


class IndexSortedChangeList(ChangeList):
    """Django's list, which sorts a list of more than ``sort_any_max`` rows only by the columns an
    index holds in order (``SORTED_BY_INDEX``, named as ``list_display`` names them): sorting millions
    of rows by any other column reads, joins and sorts every one of them. Their headers are not links
    then; a link sorted by one of them (a bookmark, a list narrowed and then widened) shows the list in
    its own order, which the message calls newest first (both lists' is), says why, and how to narrow
    it (``narrow_to_sort``)."""

    SORTED_BY_INDEX: tuple[str, ...] = ()
    # Rows a list sorts by any column: more are sorted only by ``SORTED_BY_INDEX``.
    sort_any_max = 50_000
    # The message's words: "a list of more than 50,000 {rows_called} sorts only by {sorted_by}."
    rows_called = "rows"
    sorted_by = ""
    narrow_to_sort = ""

    def sort_for(self, request, rows: int) -> None:
        """Sort as asked, or only by ``SORTED_BY_INDEX`` past ``sort_any_max`` rows; ``rows``, the list's
        count, is then the paginator's, which would otherwise count the rows again."""
        if rows > self.sort_any_max:
            self.sort_only_by_index(request)
        answer_count(self.queryset, rows)

    def sort_only_by_index(self, request) -> None:
        self.sortable_by = self.SORTED_BY_INDEX
        by = [self.list_display[column] for column in self.get_ordering_field_columns()]
        if all(column in self.SORTED_BY_INDEX for column in by):
            return
        self.params.pop(ORDER_VAR, None)  # the headers and the page links: the list's own order
        self.queryset = self.queryset.order_by(*self.get_ordering(request, self.queryset.order_by()))
        messages.info(
            request,
            f"Shown newest first: a list of more than {self.sort_any_max:,} {self.rows_called} sorts only"
            f" by {self.sorted_by}. {self.narrow_to_sort}",
        )


class ProbedDatesChangeList(ChangeList):
    """Django's list, whose date hierarchy finds the years, months and days that have rows by probing
    each from the first row's to the last's (``periods_with_rows``), where Django's reads every row of
    the list, or of the year or month chosen (``SELECT DISTINCT DATE_TRUNC(…)``): the years took 1.35 s
    for the bills list at 5,000,000 bills, the months of a year 0.25 s at 1,000,000 (a year's 900,000
    bills), against a millisecond or two. The hierarchy asks for the years only when no year is chosen
    and the rows span several, after it has read the first and last rows' dates itself; the probe
    takes those (the list's queryset remembers them) rather than reading them again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.date_hierarchy:
            queryset = self.queryset
            plain_aggregate, plain_datetimes = type(queryset).aggregate, type(queryset).datetimes
            hierarchy = self.date_hierarchy
            first_and_last = _first_and_last(hierarchy)
            bounds: dict = {}  # the hierarchy's field's first and last values, once Django has read them

            def aggregate(*args, **kwargs):
                result = plain_aggregate(queryset, *args, **kwargs)
                if not args and kwargs == first_and_last:  # the date hierarchy's (expressions compare by value)
                    bounds.update(result)
                return result

            def datetimes(field_name, kind, order="ASC", tzinfo=None):
                if kind not in ("year", "month", "day"):  # not the hierarchy's
                    return plain_datetimes(queryset, field_name, kind, order, tzinfo)
                known = bounds if bounds and kind == "year" and field_name == hierarchy else None
                periods = periods_with_rows(queryset, field_name, kind, tzinfo, bounds=known)
                return periods if order == "ASC" else periods[::-1]

            queryset.aggregate = aggregate
            queryset.datetimes = datetimes


def _first_and_last(field_name: str) -> dict[str, models.Aggregate]:
    return {"first": models.Min(field_name), "last": models.Max(field_name)}


def _period_start(moment: datetime.datetime, kind: str) -> datetime.datetime:
    """The first moment of the local year, month or day (``kind``) of ``moment`` (an aware local time)."""
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return {"year": midnight.replace(month=1, day=1), "month": midnight.replace(day=1), "day": midnight}[kind]


def _next_period(start: datetime.datetime, kind: str) -> datetime.datetime:
    if kind == "year":
        return start.replace(year=start.year + 1)
    if kind == "month":
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return datetime.datetime.combine(start.date() + datetime.timedelta(days=1), datetime.time(), start.tzinfo)


def periods_with_rows(
    queryset: models.QuerySet, field_name: str, kind: str, tzinfo=None, *, bounds: dict | None = None
) -> list[datetime.datetime]:
    """The first moment of each local year, month or day (``kind``; of ``tzinfo``, default the current
    time zone) in which a row of ``queryset`` has ``field_name``, in order, as
    ``queryset.datetimes(field_name, kind)`` gives them: the first and last rows' periods (``bounds``,
    ``{"first": …, "last": …}``, when they were read already; else read through the field's index),
    then the periods between them probed in one query, each probe an index lookup (``EXISTS``)."""
    zone = tzinfo or timezone.get_current_timezone()
    if bounds is None:
        bounds = queryset.aggregate(**_first_and_last(field_name))
    if bounds["first"] is None:
        return []
    first, last = (_period_start(timezone.localtime(bounds[end], zone), kind) for end in ("first", "last"))
    starts = [first]
    while starts[-1] < last:
        starts.append(_next_period(starts[-1], kind))
    between = list(itertools.pairwise(starts[1:]))  # each period between the first and last: its start and end
    if not between:
        return starts
    probes = {
        f"probe_{i}": models.Exists(queryset.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end}))
        for i, (start, end) in enumerate(between)
    }
    found = queryset.order_by().annotate(**probes).values(*probes)[:1][0]
    return [first, *(start for i, (start, _) in enumerate(between) if found[f"probe_{i}"]), last]


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


# Django's date format characters (``django.utils.dateformat``), and, as ``str.format`` fields of a
# local datetime (0), its month's short name (1) and its year's last two digits (2), the ones
# ``datetime_writer`` writes itself as Django does: the day, the month, the year, the hour, the minute.
_FORMAT_CHARACTERS = frozenset("aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ")
_WRITTEN = {
    "d": "{0.day:02d}",
    "j": "{0.day}",
    "m": "{0.month:02d}",
    "n": "{0.month}",
    "M": "{1}",
    "y": "{2:02d}",
    "Y": "{0.year:04d}",
    "G": "{0.hour}",
    "H": "{0.hour:02d}",
    "i": "{0.minute:02d}",
}


def datetime_writer(format_string: str) -> Callable[[datetime.datetime], str] | None:
    """What ``dateformat.format(local, format_string)`` writes, as a function of ``local``, for a
    format of days, months, years, hours and minutes (the till's ``j M Y, H:i``), the month names in
    the active language; None for any other format (a weekday, seconds, a time zone, a backslash),
    which Django's own formatting then writes. Django's builds a formatter and parses the format for
    every value: about 40 µs a cell, 100 cells a page."""
    if "\\" in format_string:
        return None
    fields = []
    for char in format_string:
        if char not in _FORMAT_CHARACTERS:
            fields.append(char.replace("{", "{{").replace("}", "}}"))
        elif char in _WRITTEN:
            fields.append(_WRITTEN[char])
        else:
            return None
    template = "".join(fields)
    months = ["", *(str(MONTHS_3[month]).title() for month in range(1, 13))]
    return lambda local: template.format(local, months[local.month], local.year % 100)


class NotPlanned(Exception):
    """A column that ``ListRows`` leaves to Django (a model's attribute or property, a relation's
    editable field): the whole list is then Django's."""


class ListRows:
    """A ``RowLinksChangeList``'s rows as Django's ``items_for_result`` (admin_list) writes them, with
    what it works out again for each cell worked out once for each column: where the value comes
    from (``lookup_field`` asks the model's fields for every cell, and raises for a column that is
    not one), its CSS class, whether it links, its empty value, a yes/no column's three icons (Django
    looks up an icon's static URL for every cell), a datetime column's format (``datetime_writer``);
    an editable cell is its form field
    only (Django formats the value too, then writes the field instead), and a link is the row's URL
    with the list's filters already (``add_preserved_filters`` parses it again for each). The same
    HTML: ``catalog/tests/test_stock_page.py`` compares a page with Django's own."""

    def __init__(self, cl):
        self.cl = cl
        if cl.formset:
            self.rows = list(zip(cl.result_list, cl.formset.forms, strict=False))  # as admin_list's results
        else:
            self.rows = [(result, None) for result in cl.result_list]
        self.columns: list[_Column] = []
        if self.rows:
            result, form = self.rows[0]
            first = True
            for index, name in enumerate(cl.list_display):
                is_link = cl.list_display_links is not None and (
                    (first and not cl.list_display_links) or name in cl.list_display_links
                )
                self.columns.append(_Column(cl, name, index, is_link, "th" if first else "td", result, form))
                first = first and not is_link

    def __iter__(self):
        pk = self.cl.model._meta.pk.name
        for result, form in self.rows:
            # Each cell escapes what it writes, as format_html would.
            cells = [mark_safe(column.cell(self.cl, result, form)) for column in self.columns]  # noqa: S308
            if form and not form[pk].is_hidden:
                cells.append(format_html("<td>{}</td>", form[pk]))
            yield admin_list.ResultList(form, cells)


def _css_name(name, index: int) -> str:
    """``field-<name>``'s name, as admin_list's ``_coerce_field_name``: a callable's ``__name__``."""
    if not callable(name):
        return name
    return f"lambda{index}" if name.__name__ == "<lambda>" else name.__name__


class _Column:
    """One ``list_display`` column of ``ListRows``: what ``items_for_result`` works out for each cell."""

    def __init__(self, cl, name, index: int, is_link: bool, table_tag: str, result, form):
        model_admin = cl.model_admin
        self.name, self.is_link, self.table_tag = name, is_link, table_tag
        try:
            field, attr, _value = lookup_field(name, result, model_admin)
        except ObjectDoesNotExist as exc:
            raise NotPlanned(name) from exc
        if field is not None:
            if field.auto_created:
                raise NotPlanned(name)
            self.value = attrgetter(name)
        elif callable(name):
            self.value = name
        elif hasattr(model_admin, name) and name != "__str__":
            self.value = getattr(model_admin, name)
        else:
            raise NotPlanned(name)
        self.field = field
        self.editable = form is not None and name in form.fields
        if self.editable and (field is None or field.is_relation or field.primary_key):
            raise NotPlanned(name)
        self.default_empty = model_admin.get_empty_value_display()
        self.empty = getattr(attr, "empty_value_display", self.default_empty)
        self.boolean = getattr(attr, "boolean", False)
        self.field_css = f"field-{_css_name(name, index)}"
        self.css = "action-checkbox" if field is None and name == "action_checkbox" else self.field_css
        self.nowrap = isinstance(field, (models.DateField, models.TimeField, models.ForeignKey))
        # A yes/no column's cells, by value (True, False, None): Django writes each as an icon whose
        # static file's URL it looks up in the manifest for every cell.
        self.icons: dict | None = {} if isinstance(field, models.BooleanField) or self.boolean else None
        # A datetime column's cells (``display_for_field``: the value in the current time zone, as
        # ``DATETIME_FORMAT`` writes it), the format read and parsed once a list.
        self.write_datetime = None
        if isinstance(field, models.DateTimeField) and not getattr(field, "flatchoices", None):
            self.write_datetime = datetime_writer(get_format("DATETIME_FORMAT"))

    def cell(self, cl, result, form) -> str:
        css = f"{self.css} nowrap" if self.nowrap else self.css
        if self.editable:
            bound = form[self.name]
            shown = mark_safe(str(bound.errors) + str(bound))  # noqa: S308 (Django's own: both are safe)
        else:
            try:
                value = self.value(result)
            except ObjectDoesNotExist:
                shown, css = self.default_empty, self.field_css  # as Django: no other class
            else:
                shown, css = self._shown(result, value, css)
        if not self.is_link:
            return f'<td class="{css}">{escaped(shown)}</td>'
        link: str
        try:
            url = cl.url_for_result(result)
        except NoReverseMatch:
            link = escaped(shown)
        else:
            popup = ""
            if cl.is_popup:
                popup = format_html(' data-popup-opener="{}"', result.serializable_value(cl.to_field or cl.pk_attname))
            link = f'<a href="{escaped(url)}"{popup}>{escaped(shown)}</a>'
        return f'<{self.table_tag} class="{css}">{link}</{self.table_tag}>'

    def _shown(self, result, value, css: str):
        if self.icons is None or not (value is None or type(value) is bool):
            return self._shown_each(result, value, css)
        if value not in self.icons:
            self.icons[value] = self._shown_each(result, value, css)
        return self.icons[value]

    def _shown_each(self, result, value, css: str):
        if isinstance(value, str) and value.strip() == "":
            value = ""
        if self.field is None:
            if isinstance(value, (datetime.date, datetime.time)):
                css = f"{css} nowrap"
            return display_for_value(value, self.empty, self.boolean), css
        if isinstance(self.field.remote_field, models.ManyToOneRel):
            related = getattr(result, self.field.name)
            return (self.empty if related is None else related), css
        if self.write_datetime is not None and isinstance(value, datetime.datetime):
            local = timezone.template_localtime(value)  # type: ignore[attr-defined]  # (not in django-stubs)
            return self.write_datetime(local), css
        return display_for_field(value, self.field, self.empty, avoid_link=self.is_link), css


def result_list(cl) -> dict:
    """admin_list's ``result_list`` (the context of change_list_results.html), with a
    ``RowLinksChangeList``'s rows written by ``ListRows``; any other list's, or one with a column
    that ``ListRows`` leaves to Django, is Django's."""
    if not isinstance(cl, RowLinksChangeList):
        return admin_list.result_list(cl)
    try:
        rows = list(ListRows(cl))
    except NotPlanned:
        return admin_list.result_list(cl)
    headers = list(admin_list.result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(admin_list.result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": rows,
    }
