"""An admin list's rows written as Django's admin writes them (``items_for_result``: each row's
cells), with what is the same on every row worked out once per list instead of once per cell: each
column's field or method, its classes, its empty value, whether it links to the row's page. A row's
values are still shown by Django's own ``display_for_value`` and ``display_for_field``, and its link
is Django's. ``list_rows`` gives Django's own rows for a list it does not cover: an editable list, a
popup, a column that is a relation, the primary key or neither a field nor a method.

A list of 100 bills has 800 cells: the per-cell work (finding the column's field, which raises for
a method, its empty value, its classes, a template string per cell) was about half of the rows'
Python."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.templatetags.admin_list import ResultList, results
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

ACTION_CHECKBOX = "action_checkbox"


@dataclass(frozen=True)
class Column:
    """One column of ``list_display`` as ``items_for_result`` treats it on every row."""

    css_name: str  # the "field-<name>" class (Django's ``_coerce_field_name``)
    field: models.Field | None  # a model field shown by ``display_for_field``; None: a method's value
    value: Callable[[Any], Any]  # the row's value
    empty: SafeString  # what an empty value shows
    boolean: bool  # a method's value shown as Django's yes/no icon
    link_tag: str | None  # "th" or "td" when the cell links to the row's page; None: a plain "td"


def list_rows(cl) -> list[ResultList]:
    """The rows of ``cl`` (a ``ChangeList`` with its ``result_list``), each a ``ResultList`` of its
    cells' HTML, as Django's ``results(cl)`` gives them."""
    columns = None if cl.formset or cl.is_popup or cl.to_field else _columns(cl)
    if columns is None:
        return list(results(cl))
    empty = cl.model_admin.get_empty_value_display()
    return [ResultList(None, [_cell(cl, column, row, empty) for column in columns]) for row in cl.result_list]


def _columns(cl) -> list[Column] | None:
    model_admin = cl.model_admin
    empty = model_admin.get_empty_value_display()
    columns = []
    first = True  # no cell of the row links yet (``items_for_result``'s ``first``)
    for index, name in enumerate(cl.list_display):
        field = attr = None
        if callable(name):
            attr = value = name
        else:
            try:
                field = cl.lookup_opts.get_field(name)
            except FieldDoesNotExist:
                if not (hasattr(model_admin, name) and name != "__str__"):
                    return None  # a model attribute or a relation's path: Django's rows
                attr = value = getattr(model_admin, name)
                if not callable(value):
                    return None
            else:
                if field.is_relation or field.auto_created or not field.concrete:
                    return None
                value = _attribute(name)
        links = cl.list_display_links is not None and (
            (first and not cl.list_display_links) or name in cl.list_display_links
        )
        link_tag = None
        if links:
            link_tag = "th" if first else "td"
            first = False
        css_name = name if isinstance(name, str) else _callable_name(name, index)
        columns.append(
            Column(
                css_name=css_name,
                field=field,
                value=value,
                empty=getattr(attr, "empty_value_display", empty),
                boolean=bool(getattr(attr, "boolean", False)),
                link_tag=link_tag,
            )
        )
    return columns


def _attribute(name: str) -> Callable[[Any], Any]:
    return lambda row: getattr(row, name)


def _callable_name(function, index: int) -> str:
    return f"lambda{index}" if function.__name__ == "<lambda>" else function.__name__


def _cell(cl, column: Column, row, empty: SafeString) -> SafeString:
    try:
        value = column.value(row)
    except ObjectDoesNotExist:
        classes = f"field-{column.css_name}"
        shown: Any = empty
    else:
        if isinstance(value, str) and value.strip() == "":
            value = ""
        if column.field is None:
            classes = "action-checkbox" if column.css_name == ACTION_CHECKBOX else f"field-{column.css_name}"
            shown = display_for_value(value, column.empty, column.boolean)
            if isinstance(value, datetime.date | datetime.time):
                classes += " nowrap"
        else:
            classes = f"field-{column.css_name}"
            shown = display_for_field(value, column.field, column.empty, avoid_link=column.link_tag is not None)
            if isinstance(column.field, models.DateField | models.TimeField):
                classes += " nowrap"
    # As Django writes a cell: its classes (column names) as they are, its content escaped.
    if column.link_tag is None:
        return mark_safe(f'<td class="{classes}">{conditional_escape(shown)}</td>')  # noqa: S308
    try:
        url = cl.url_for_result(row)
    except NoReverseMatch:
        inner = shown
    else:
        url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)
        inner = format_html('<a href="{}">{}</a>', url, shown)
    tag = column.link_tag
    return mark_safe(f'<{tag} class="{classes}">{conditional_escape(inner)}</{tag}>')  # noqa: S308
